"""The DNC-PBH recap (Daftar Nominatif Calon Penerima Belanja Hibah) per OPD and year.

The list the TAPD and the budget need: every evaluated proposal of an OPD with name, address,
purpose and the amounts requested, evaluated (OPD recommendation) and considered by TAPD. It is
written as XLSX (openpyxl, write-only so memory stays flat) and as CSV (UTF-8 with BOM so that
Excel opens it with the right characters).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlite_utils
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font

HEADERS = (
    "No",
    "Nama Lembaga",
    "Alamat",
    "Kecamatan",
    "Program",
    "Tujuan Penggunaan",
    "Usulan (Rp)",
    "Hasil Evaluasi OPD (Rp)",
    "Pertimbangan TAPD (Rp)",
    "Nomor Pelacakan",
    "Status",
)
# Proposals the OPD has evaluated and that are still alive (or already granted).
_EVALUATED = (
    "consideration",
    "tapd",
    "tapd_agreed",
    "approved",
    "nphd_signed",
    "disbursed",
    "lpj_submitted",
    "lpj_verified",
    "closed",
)


def rows(db: sqlite_utils.Database, opd_code: str, year: int) -> list[dict[str, Any]]:
    """The recap's records, by organisation name."""
    from hibahbansos.hibah.workflow import STATES

    marks = ", ".join("?" * len(_EVALUATED))
    cursor = db.execute(
        "SELECT o.name, o.address, o.district_name, p.programme_code, p.title, p.purpose, p.requested_amount,"
        " p.recommended_amount, p.tapd_amount, p.tracking_no, p.state FROM proposals p"
        " JOIN organisations o ON o.id = p.organisation_id"
        f" WHERE p.opd_code = ? AND p.budget_year = ? AND p.state IN ({marks}) ORDER BY o.name, p.id",
        [opd_code, year, *_EVALUATED],
    )
    out = []
    for n, (name, address, district, prog, title, purpose, req, rec, tapd, no, state) in enumerate(cursor, start=1):
        out.append(
            {
                "no": n,
                "name": name,
                "address": address,
                "district": district,
                "programme": prog,
                "purpose": f"{title}. {purpose}" if purpose else title,
                "requested": req,
                "recommended": rec,
                "tapd": tapd,
                "tracking_no": no,
                "state": str(STATES[state].label),
            }
        )
    return out


def _values(r: dict[str, Any]) -> list[Any]:
    return [
        r["no"],
        r["name"],
        r["address"],
        r["district"],
        r["programme"],
        r["purpose"],
        r["requested"],
        r["recommended"],
        r["tapd"],
        r["tracking_no"],
        r["state"],
    ]


def to_csv(records: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADERS)
    for r in records:
        writer.writerow(_values(r))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(records: list[dict[str, Any]], title: str, subtitle: str) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("DNC-PBH")
    for col, width in zip("ABCDEFGHIJK", (5, 34, 40, 16, 16, 50, 16, 18, 18, 24, 22)):
        ws.column_dimensions[col].width = width
    bold = Font(bold=True)

    def cell(value: Any, font: Font | None = None, money: bool = False) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=value)
        if font:
            c.font = font
        if money:
            c.number_format = "#,##0"
        return c

    ws.append([cell(title, Font(bold=True, size=13))])
    ws.append([cell(subtitle)])
    ws.append([])
    header = []
    for h in HEADERS:
        c = cell(h, bold)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(c)
    ws.append(header)
    for r in records:
        values = _values(r)
        ws.append([cell(v, money=i in (6, 7, 8)) for i, v in enumerate(values)])
    total = (
        [cell(None)] * 5
        + [cell("Jumlah", bold)]
        + [cell(sum(r[k] or 0 for r in records), bold, money=True) for k in ("requested", "recommended", "tapd")]
    )
    ws.append(total)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
