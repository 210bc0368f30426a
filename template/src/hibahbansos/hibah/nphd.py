"""The NPHD (Naskah Perjanjian Hibah Daerah, the grant agreement) as a PDF.

The wording comes from the template `hibah/nphd/body.txt`, which a region replaces by putting
its own file at `overrides/templates/hibah/nphd/body.txt`. The layout rules of that text are
simple, so officials can edit it: `# ` a title line, `## ` an article heading, `- ` a numbered
obligation, an empty line between paragraphs. The amount is written in figures and in
Indonesian words (terbilang, from `lokal-id`), and a QR code links to the public verification
page of this agreement on the region's domain.
"""

from __future__ import annotations

import datetime as dt
import io
from xml.sax.saxutils import escape

from babel.dates import format_date
from flask import render_template
from lokal.terbilang import terbilang as _terbilang
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from hibahbansos.templating import rupiah


def terbilang(amount: int) -> str:
    """An amount of Rupiah in words, title case: 1500000 -> 'Satu Juta Lima Ratus Ribu Rupiah'."""
    return _terbilang(int(amount), currency=True, case="title")


def verification_url(region, token: str) -> str:
    """The public page that confirms an agreement is genuine (printed as the QR code)."""
    return f"https://{region.site['domain']}/verifikasi-nphd/{token}"


def tanggal_id(value: str | dt.date | None) -> str:
    """A date in Indonesian, as legal documents write it: 10 Januari 2028."""
    if not value:
        return "-"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return format_date(value, format="long", locale="id")


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle(
        "body",
        parent=base["Normal"],
        fontName="Helvetica",
        fontSize=10.5,
        leading=14,
        alignment=TA_JUSTIFY,
        spaceAfter=6,
    )
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontName="Helvetica-Bold", fontSize=13, leading=17, alignment=TA_CENTER, spaceAfter=2
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, alignment=TA_CENTER, spaceAfter=2),
        "article": ParagraphStyle(
            "article", parent=body, fontName="Helvetica-Bold", alignment=TA_CENTER, spaceBefore=8, spaceAfter=4
        ),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10, alignment=TA_CENTER),
        "sign": ParagraphStyle("sign", parent=body, alignment=TA_CENTER),
    }


def _qr(url: str, size: float = 3.2 * cm) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _flowables(text: str, st: dict[str, ParagraphStyle]) -> list:
    out: list = []
    items: list = []

    def flush_items() -> None:
        if items:
            out.append(
                ListFlowable(
                    [ListItem(Paragraph(i, st["body"])) for i in items],
                    bulletType="1",
                    leftIndent=18,
                    bulletFontName="Helvetica",
                )
            )
            items.clear()

    paragraph: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            out.append(Paragraph(" ".join(paragraph), st["body"]))
            paragraph.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush_paragraph()
            flush_items()
        elif line.startswith("## "):
            flush_paragraph()
            flush_items()
            out.append(Paragraph(escape(line[3:]), st["article"]))
        elif line.startswith("# "):
            flush_paragraph()
            flush_items()
            out.append(Paragraph(escape(line[2:]), st["title"]))
        elif line.startswith("- "):
            flush_paragraph()
            items.append(escape(line[2:]))
        else:
            flush_items()
            paragraph.append(escape(line))
    flush_paragraph()
    flush_items()
    return out


def render_pdf(region, proposal, organisation, programme: dict, opd: dict) -> bytes:
    """The NPHD of an approved proposal as PDF bytes (needs an app context for the template).

    Raises ValueError when the proposal has no decree yet.
    """
    if not proposal.decree_number or not proposal.approved_amount or not proposal.nphd_token:
        raise ValueError("the proposal has no decree yet; the NPHD exists only after approval")
    chair = organisation.officers.get("ketua", {}).get("name", "")
    url = verification_url(region, proposal.nphd_token)
    context = {
        "region": region,
        "p": proposal,
        "org": organisation,
        "programme": programme,
        "opd": opd,
        "chair": chair,
        "amount": rupiah(proposal.approved_amount),
        "amount_words": terbilang(proposal.approved_amount),
        "decree_date": tanggal_id(proposal.decree_date),
        "lpj_due": tanggal_id(proposal.lpj_due_date),
        "head": region.head_of_region,
        "verification_url": url,
    }
    text = render_template("hibah/nphd/body.txt", **context)
    st = _styles()
    story = _flowables(text, st)
    story.append(Spacer(1, 0.8 * cm))
    signatures = Table(
        [
            [Paragraph("PIHAK KEDUA", st["sign"]), Paragraph("PIHAK PERTAMA", st["sign"])],
            [
                Paragraph(escape(organisation.name), st["sign"]),
                Paragraph(escape(region.head_of_region.upper()), st["sign"]),
            ],
            [Spacer(1, 2 * cm), Spacer(1, 2 * cm)],
            [
                Paragraph(escape(chair or "(.....................)"), st["sign"]),
                Paragraph("(.....................)", st["sign"]),
            ],
        ],
        colWidths=[8 * cm, 8 * cm],
    )
    story.append(signatures)
    story.append(Spacer(1, 0.6 * cm))
    verify = Table(
        [
            [
                _qr(url),
                Paragraph(
                    escape(f"Keaslian naskah ini dapat diperiksa dengan memindai kode QR atau membuka {url}"),
                    st["body"],
                ),
            ]
        ],
        colWidths=[3.6 * cm, 12.4 * cm],
    )
    verify.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("BOX", (0, 0), (-1, -1), 0.5, colors.grey)]))
    story.append(verify)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=2.5 * cm,
        rightMargin=2.5 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        title=f"NPHD {proposal.nphd_number}",
        author=f"Pemerintah {region.name}",
        subject=f"Naskah Perjanjian Hibah Daerah {organisation.name}",
    )
    doc.build(story)
    return buf.getvalue()
