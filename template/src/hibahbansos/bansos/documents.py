"""Printable documents of a cycle: the distribution list (PDF, XLSX) and the accountability report (PDF).

The distribution list is signed (or thumb-printed) by each recipient at hand-over, so it has a
signature column. It shows the NIK masked: the officer checks the visible digits against the
KTP the recipient brings, and a lost printout does not leak whole NIKs.
"""

from __future__ import annotations

import io
import unicodedata

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, Side

from hibahbansos import identifiers
from hibahbansos.bansos.areas import Areas


def _latin(text: object) -> str:
    # The PDF core fonts cover Latin-1 only; names outside it lose their accents, not letters.
    value = str(text if text is not None else "")
    try:
        value.encode("latin-1")
        return value
    except UnicodeEncodeError:
        return unicodedata.normalize("NFKD", value).encode("latin-1", "ignore").decode("latin-1")


def _rupiah(amount: int | None) -> str:
    return "Rp" + f"{int(amount or 0):,}".replace(",", ".")


def _what(cycle: dict, item: dict) -> str:
    return _rupiah(item["amount"]) if cycle["form"] == "money" else (cycle.get("goods") or "")


class _Pdf(FPDF):
    def __init__(self, heading: str, orientation: str = "L"):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.heading = heading
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(12, 12, 12)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, _latin(f"{self.heading} - halaman {self.page_no()}/{{nb}}"), align="C")


def _title_block(pdf: _Pdf, region, programme, cycle: dict, title: str) -> None:
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, _latin(f"Pemerintah {region.name}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _latin(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=10)
    lines = [
        f"Program: {programme.name} ({programme.code}), kode rekening {programme.budget_line}",
        f"Siklus #{cycle['id']}: {cycle['title']} - periode {cycle['period_start']} s.d. {cycle['period_end']}",
        f"Disiapkan oleh {cycle.get('prepared_by_name') or '-'}; disahkan oleh {cycle.get('approved_by_name') or '-'}"
        + (f" pada {cycle['approved_at'][:10]}" if cycle.get("approved_at") else ""),
    ]
    for line in lines:
        pdf.cell(0, 5.5, _latin(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def distribution_list_pdf(region, programme, cycle: dict, items: list[dict], areas: Areas) -> bytes:
    """The signed hand-over list as PDF bytes."""
    pdf = _Pdf(f"Daftar penyaluran siklus #{cycle['id']}")
    pdf.alias_nb_pages()
    pdf.add_page()
    _title_block(pdf, region, programme, cycle, "DAFTAR PENYALURAN BANTUAN SOSIAL")
    widths = (10, 62, 38, 45, 40, 38, 40)
    head = ("No", "Nama penerima", "NIK", "Desa/Kelurahan", "Kecamatan", "Bantuan", "Tanda tangan / cap jempol")

    def header_row() -> None:
        pdf.set_font("Helvetica", "B", 9)
        for w, h in zip(widths, head):
            pdf.cell(w, 8, _latin(h), border=1, align="C")
        pdf.ln()
        pdf.set_font("Helvetica", size=9)

    header_row()
    for n, item in enumerate(items, start=1):
        if pdf.will_page_break(12):
            pdf.add_page()
            header_row()
        values = (
            str(n),
            item["name"] or "",
            identifiers.mask_nik(item.get("nik")) if item.get("person_id") else "(kelompok)",
            areas.village_name(item["village_code"]),
            areas.district_name(item["district_code"]),
            _what(cycle, item),
            "",
        )
        for w, v in zip(widths, values):
            pdf.cell(w, 12, _latin(v)[:60], border=1)
        pdf.ln()
    pdf.ln(8)
    pdf.set_font("Helvetica", size=10)
    pdf.cell(130, 6, "Petugas penyalur,", align="C")
    pdf.cell(0, 6, "Mengetahui,", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(18)
    pdf.cell(130, 6, "(..............................)", align="C")
    pdf.cell(0, 6, "(..............................)", align="C")
    return bytes(pdf.output())


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
    pdf = _Pdf(f"Laporan pertanggungjawaban siklus #{cycle['id']}", orientation="P")
    pdf.alias_nb_pages()
    pdf.add_page()
    _title_block(pdf, region, programme, cycle, "LAPORAN PERTANGGUNGJAWABAN PENYALURAN BANSOS")
    pdf.set_font("Helvetica", size=10)
    rows = (
        ("Jumlah penerima", str(summary["recipients"])),
        ("Nilai yang disahkan", _rupiah(summary["planned"])),
        ("Sudah menerima", str(summary["received"])),
        ("Belum menerima", str(summary["not_received"])),
        ("Nilai yang tersalurkan", _rupiah(summary["received_amount"])),
        ("Penerimaan dengan foto bukti", str(summary["with_evidence"])),
        ("Status siklus", cycle["status"]),
    )
    for label, value in rows:
        pdf.cell(70, 7, _latin(label), border=1)
        pdf.cell(60, 7, _latin(value), border=1, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)
    pdf.set_font("Helvetica", "B", 10)
    widths = (60, 25, 40, 25, 40)
    for w, h in zip(widths, ("Kecamatan", "Penerima", "Nilai disahkan", "Diterima", "Nilai tersalurkan")):
        pdf.cell(w, 7, h, border=1, align="C")
    pdf.ln()
    pdf.set_font("Helvetica", size=10)
    for d in summary["by_district"]:
        values = (
            areas.district_name(d["district_code"]) or "-",
            str(d["recipients"]),
            _rupiah(d["planned"]),
            str(d["received"]),
            _rupiah(d["received_amount"]),
        )
        for i, (w, v) in enumerate(zip(widths, values)):
            pdf.cell(w, 7, _latin(v), border=1, align="L" if i == 0 else "R")
        pdf.ln()
    return bytes(pdf.output())
