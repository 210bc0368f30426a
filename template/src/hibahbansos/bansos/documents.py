"""Printable documents of a cycle: the distribution list (PDF, XLSX) and the accountability report (PDF).

The distribution list is signed (or thumb-printed) by each recipient at hand-over, so it has a
signature column. It shows the NIK masked: the officer checks the visible digits against the
KTP the recipient brings, and a lost printout does not leak whole NIKs. PDFs are drawn with
reportlab (the library the hibah area uses for the NPHD), XLSX with openpyxl's write-only mode.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, Side
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from hibahbansos import identifiers
from hibahbansos.bansos.areas import Areas

_STYLES = getSampleStyleSheet()
_STATUS = {"prepared": "disiapkan", "approved": "disahkan", "closed": "ditutup", "cancelled": "dibatalkan"}
_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f3")),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
)


def _rupiah(amount: int | None) -> str:
    return "Rp" + f"{int(amount or 0):,}".replace(",", ".")


def _what(cycle: dict, item: dict) -> str:
    return _rupiah(item["amount"]) if cycle["form"] == "money" else (cycle.get("goods") or "")


def _cell(text: object) -> Paragraph:
    # A Paragraph wraps long names inside its column; its markup needs escaping.
    return Paragraph(escape(str(text if text is not None else "")), _STYLES["BodyText"])


def _title_block(region, programme, cycle: dict, title: str) -> list:
    lines = [
        f"Program: {programme.name} ({programme.code}), kode rekening {programme.budget_line}",
        f"Siklus #{cycle['id']}: {cycle['title']} - periode {cycle['period_start']} s.d. {cycle['period_end']}",
        f"Disiapkan oleh {cycle.get('prepared_by_name') or '-'}; disahkan oleh {cycle.get('approved_by_name') or '-'}"
        + (f" pada {cycle['approved_at'][:10]}" if cycle.get("approved_at") else ""),
    ]
    return [
        Paragraph(escape(f"Pemerintah {region.name}"), _STYLES["Heading3"]),
        Paragraph(escape(title), _STYLES["Heading2"]),
        *[Paragraph(escape(line), _STYLES["BodyText"]) for line in lines],
        Spacer(1, 4 * mm),
    ]


def _build(story: list, pagesize, heading: str) -> bytes:
    buffer = io.BytesIO()

    def footer(canvas, doc) -> None:
        canvas.setFont("Helvetica", 8)
        canvas.drawCentredString(pagesize[0] / 2, 8 * mm, f"{heading} - halaman {doc.page}")

    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=15 * mm,
        title=heading,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def distribution_list_pdf(region, programme, cycle: dict, items: list[dict], areas: Areas) -> bytes:
    """The signed hand-over list as PDF bytes (landscape A4; the header row repeats on every page)."""
    head = ["No", "Nama penerima", "NIK", "Desa/Kelurahan", "Kecamatan", "Bantuan", "Tanda tangan / cap jempol"]
    rows = [head]
    for n, item in enumerate(items, start=1):
        rows.append(
            [
                str(n),
                _cell(item["name"]),
                identifiers.mask_nik(item.get("nik")) if item.get("person_id") else "(kelompok)",
                _cell(areas.village_name(item["village_code"])),
                _cell(areas.district_name(item["district_code"])),
                _cell(_what(cycle, item)),
                "",
            ]
        )
    table = Table(rows, colWidths=[10 * mm, 54 * mm, 36 * mm, 42 * mm, 38 * mm, 40 * mm, 50 * mm], repeatRows=1)
    table.setStyle(_GRID)
    table.setStyle(
        TableStyle(
            [
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white]),
                ("TOPPADDING", (0, 1), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 1), (-1, -1), 8),
            ]
        )
    )
    signatures = Table(
        [
            ["Petugas penyalur,", "Mengetahui,"],
            ["", ""],
            ["(..............................)", "(..............................)"],
        ],
        colWidths=[130 * mm, 130 * mm],
        rowHeights=[7 * mm, 18 * mm, 7 * mm],
    )
    signatures.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER")]))
    story = [
        *_title_block(region, programme, cycle, "DAFTAR PENYALURAN BANTUAN SOSIAL"),
        table,
        Spacer(1, 8 * mm),
        signatures,
    ]
    return _build(story, landscape(A4), f"Daftar penyaluran siklus #{cycle['id']}")


def distribution_list_xlsx(region, programme, cycle: dict, items: list[dict], areas: Areas) -> bytes:
    """The same list as an XLSX workbook (write-only mode: rows go straight to the file)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Daftar penyaluran")
    for col, width in zip("ABCDEFG", (6, 34, 22, 24, 22, 26, 30)):
        sheet.column_dimensions[col].width = width
    sheet.append([f"Pemerintah {region.name}"])
    sheet.append(["DAFTAR PENYALURAN BANTUAN SOSIAL"])
    sheet.append([f"Program: {programme.name} ({programme.code}), kode rekening {programme.budget_line}"])
    sheet.append(
        [f"Siklus #{cycle['id']}: {cycle['title']}, periode {cycle['period_start']} s.d. {cycle['period_end']}"]
    )
    sheet.append([])
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    def cells(values, bold=False):
        out = []
        for v in values:
            c = WriteOnlyCell(sheet, value=v)
            c.border = border
            c.alignment = Alignment(vertical="center", wrap_text=True)
            if bold:
                c.font = Font(bold=True)
            out.append(c)
        return out

    sheet.append(
        cells(
            ("No", "Nama penerima", "NIK", "Desa/Kelurahan", "Kecamatan", "Bantuan", "Tanda tangan / cap jempol"),
            bold=True,
        )
    )
    for n, item in enumerate(items, start=1):
        sheet.append(
            cells(
                (
                    n,
                    item["name"],
                    identifiers.mask_nik(item.get("nik")) if item.get("person_id") else "(kelompok)",
                    areas.village_name(item["village_code"]),
                    areas.district_name(item["district_code"]),
                    item["amount"] if cycle["form"] == "money" else cycle.get("goods"),
                    "",
                )
            )
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_pdf(region, programme, cycle: dict, summary: dict, areas: Areas) -> bytes:
    """The accountability report (laporan pertanggungjawaban) of a cycle as PDF bytes."""
    totals = Table(
        [
            ["Jumlah penerima", str(summary["recipients"])],
            ["Nilai yang disahkan", _rupiah(summary["planned"])],
            ["Sudah menerima", str(summary["received"])],
            ["Belum menerima", str(summary["not_received"])],
            ["Nilai yang tersalurkan", _rupiah(summary["received_amount"])],
            ["Penerimaan dengan foto bukti", str(summary["with_evidence"])],
            ["Status siklus", _STATUS.get(cycle["status"], cycle["status"])],
        ],
        colWidths=[70 * mm, 60 * mm],
    )
    totals.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("ALIGN", (1, 0), (1, -1), "RIGHT")]))
    rows = [["Kecamatan", "Penerima", "Nilai disahkan", "Diterima", "Nilai tersalurkan"]]
    for d in summary["by_district"]:
        rows.append(
            [
                _cell(areas.district_name(d["district_code"]) or "-"),
                str(d["recipients"]),
                _rupiah(d["planned"]),
                str(d["received"]),
                _rupiah(d["received_amount"]),
            ]
        )
    districts = Table(rows, colWidths=[60 * mm, 25 * mm, 40 * mm, 25 * mm, 40 * mm], repeatRows=1)
    districts.setStyle(_GRID)
    districts.setStyle(TableStyle([("ALIGN", (1, 0), (-1, -1), "RIGHT")]))
    story = [
        *_title_block(region, programme, cycle, "LAPORAN PERTANGGUNGJAWABAN PENYALURAN BANSOS"),
        totals,
        Spacer(1, 6 * mm),
        districts,
    ]
    return _build(story, A4, f"Laporan pertanggungjawaban siklus #{cycle['id']}")
