"""What the public sees without logging in: status, recipients, statistics, open data.

Only organisations and amounts are public: never officers, NIKs, phone numbers, bank accounts
or street addresses (the district is enough to place a grant). Every query here reads the
cached columns of `proposals` through indexes made for it, so the recipient list stays fast
with tens of thousands of proposals: keyset pagination on the proposal id within a year, and
a full-text index for the name search.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from flask_babel import lazy_gettext as _l

from hibahbansos.hibah.workflow import STATES

LPJ_STATUS: dict[str, Any] = {
    "not_due": _l("Belum jatuh tempo"),
    "pending": _l("Menunggu pencairan"),
    "overdue": _l("Terlambat"),
    "submitted": _l("Diserahkan"),
    "verified": _l("Diverifikasi"),
    "closed": _l("Selesai"),
}
PUBLIC_FIELDS = (
    "nomor",
    "tahun_anggaran",
    "lembaga",
    "jenis_lembaga",
    "kecamatan",
    "program",
    "opd",
    "tujuan",
    "diusulkan",
    "ditetapkan",
    "dicairkan",
    "status",
    "status_lpj",
    "batas_lpj",
    "nomor_keputusan",
)


def lpj_status(state: str, due: str | None, today: dt.date) -> str:
    """One of LPJ_STATUS's keys for a recipient in `state`."""
    if state in ("approved", "nphd_signed"):
        return "pending"
    if state == "disbursed":
        return "overdue" if due and due < today.isoformat() else "not_due"
    return {"lpj_submitted": "submitted", "lpj_verified": "verified", "closed": "closed"}.get(state, "pending")


def fts_query(text: str) -> str | None:
    """A safe FTS5 query for words typed by the public: each word a quoted prefix, all required."""
    words = re.findall(r"[0-9A-Za-zÀ-ÿ]+", text or "")[:8]
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


@dataclass
class Recipient:
    """One row of the public recipient list (a class, not a dict: templates read it by attribute)."""

    id: int
    tracking_no: str
    organisation: str
    kind: str
    district: str
    programme_code: str
    opd_code: str
    title: str
    requested: int
    approved: int | None
    disbursed: int
    state: str
    lpj_status: str
    lpj_label: Any
    lpj_due: str | None
    programme_name: str = ""
    opd_name: str = ""


@dataclass
class Page:
    rows: list[Recipient]
    total: int
    next_after: int | None
    prev_before: int | None


def _filters(
    year: int, opd: str | None, programme: str | None, q: str | None, counting: bool = False
) -> tuple[str, list[Any]]:
    """The WHERE clause of a recipient query and its parameters.

    With a name search, listing walks the year's recipients newest first and checks each
    organisation against the (small) set of matches (the unary + keeps SQLite from starting at
    the organisations); counting starts at the matching organisations instead.
    """
    clauses = ["p.budget_year = ?", "p.is_recipient = 1"]
    params: list[Any] = [year]
    if opd:
        clauses.append("p.opd_code = ?")
        params.append(opd)
    if programme:
        clauses.append("p.programme_code = ?")
        params.append(programme)
    match = fts_query(q or "")
    if match:
        column = "p.organisation_id" if counting else "+p.organisation_id"
        clauses.append(f"{column} IN (SELECT rowid FROM organisations_fts WHERE organisations_fts MATCH ?)")
        params.append(match)
    return " AND ".join(clauses), params


def data_version(db: sqlite_utils.Database) -> int:
    """A number that grows with every change to proposals, organisations or settings.

    Every such change appends to the audit chain in the same transaction, so the chain's last
    id serves as the version of the public data (one primary-key lookup).
    """
    return db.execute("SELECT COALESCE(MAX(id), 0) FROM audit_log").fetchone()[0]


class VersionedCache:
    """Values a worker process remembers until the data version changes (public pages only)."""

    def __init__(self, size: int = 512):
        self.size = size
        self.items: dict[Any, tuple[Any, Any]] = {}

    def get(self, key: Any, version: Any, compute: Callable[[], Any]) -> Any:
        hit = self.items.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = compute()
        if len(self.items) >= self.size:
            self.items.clear()
        self.items[key] = (version, value)
        return value


# Counting a year's recipients is the dearest query of the page and the same for every page
# of a filter.
_counts = VersionedCache()


def _count(db: sqlite_utils.Database, where: str, params: list[Any], version: Any = None) -> int:
    """COUNT(*) of recipients matching `where`; remembered while `version` (see data_version) holds.

    Without a version (outside the portal views) it is counted afresh.
    """
    if version is None:
        return db.execute(f"SELECT COUNT(*) FROM proposals p WHERE {where}", params).fetchone()[0]
    return _counts.get(
        (where, tuple(params)),
        version,
        lambda: db.execute(f"SELECT COUNT(*) FROM proposals p WHERE {where}", params).fetchone()[0],
    )


def recipients(
    db: sqlite_utils.Database,
    year: int,
    today: dt.date,
    *,
    opd: str | None = None,
    programme: str | None = None,
    q: str | None = None,
    after: int | None = None,
    before: int | None = None,
    per_page: int = 25,
    version: Any = None,
) -> Page:
    """One page of a year's recipients, newest first (keyset: `after`/`before` a proposal id)."""
    where, params = _filters(year, opd, programme, q)
    total = _count(db, *_filters(year, opd, programme, q, counting=True), version=version)
    sql = (
        "SELECT p.id, p.tracking_no, o.name, o.kind, o.district_name, p.programme_code, p.opd_code, p.title,"
        " p.requested_amount, p.approved_amount, p.disbursed_amount, p.state, p.lpj_due_date"
        f" FROM proposals p JOIN organisations o ON o.id = p.organisation_id WHERE {where}"
    )
    if before:
        rows = db.execute(sql + " AND p.id > ? ORDER BY p.id ASC LIMIT ?", [*params, before, per_page + 1]).fetchall()
        has_more_newer = len(rows) > per_page
        rows = list(reversed(rows[:per_page]))
        has_more_older = True
    else:
        cursor_sql, cursor_params = ("", []) if not after else (" AND p.id < ?", [after])
        rows = db.execute(
            sql + cursor_sql + " ORDER BY p.id DESC LIMIT ?", [*params, *cursor_params, per_page + 1]
        ).fetchall()
        has_more_older = len(rows) > per_page
        rows = rows[:per_page]
        has_more_newer = bool(after)
    out = []
    for pid, no, name, kind, district, prog, opd_code, title, req, appr, disb, state, due in rows:
        status = lpj_status(state, due, today)
        out.append(
            Recipient(
                id=pid,
                tracking_no=no,
                organisation=name,
                kind=kind,
                district=district,
                programme_code=prog,
                opd_code=opd_code,
                title=title,
                requested=req,
                approved=appr,
                disbursed=disb,
                state=state,
                lpj_status=status,
                lpj_label=LPJ_STATUS[status],
                lpj_due=due,
            )
        )
    return Page(
        rows=out,
        total=total,
        next_after=out[-1].id if out and has_more_older else None,
        prev_before=out[0].id if out and has_more_newer else None,
    )


def years(db: sqlite_utils.Database) -> list[int]:
    return [
        r[0] for r in db.execute("SELECT DISTINCT budget_year FROM proposals WHERE is_recipient = 1 ORDER BY 1 DESC")
    ]


def statistics(db: sqlite_utils.Database, year: int) -> dict[str, list[dict[str, Any]]]:
    """Recipients per OPD, programme and district: count, approved and disbursed sums."""
    out = {}
    for key, column in (("opd", "p.opd_code"), ("programme", "p.programme_code"), ("district", "o.district_name")):
        rows = db.execute(
            f"SELECT {column}, COUNT(*), COALESCE(SUM(p.approved_amount), 0), COALESCE(SUM(p.disbursed_amount), 0)"
            " FROM proposals p JOIN organisations o ON o.id = p.organisation_id"
            f" WHERE p.budget_year = ? AND p.is_recipient = 1 GROUP BY {column} ORDER BY 3 DESC",
            [year],
        )
        out[key] = [{"key": k, "count": n, "approved": a, "disbursed": d} for k, n, a, d in rows]
    funnel = db.execute(
        "SELECT state, COUNT(*), COALESCE(SUM(requested_amount), 0) FROM proposals WHERE budget_year = ?"
        " AND state != 'draft' GROUP BY state",
        [year],
    )
    out["states"] = [{"key": s, "label": STATES[s].label, "count": n, "requested": r} for s, n, r in funnel]
    return out


def open_data(db: sqlite_utils.Database, region, year: int, today: dt.date) -> Iterator[dict[str, Any]]:
    """The public recipient list of a year as records (streamed; no personal data)."""
    from hibahbansos.hibah.organisations import KINDS

    programmes = {p["code"]: p["name"] for p in region.hibah_programmes}
    opds = {o["code"]: o["name"] for o in region.opd}
    cursor = db.execute(
        "SELECT p.tracking_no, p.budget_year, o.name, o.kind, o.district_name, p.programme_code, p.opd_code, p.purpose,"
        " p.requested_amount, p.approved_amount, p.disbursed_amount, p.state, p.lpj_due_date, p.decree_number"
        " FROM proposals p JOIN organisations o ON o.id = p.organisation_id"
        " WHERE p.budget_year = ? AND p.is_recipient = 1 ORDER BY p.id",
        [year],
    )
    for no, yr, name, kind, district, prog, opd, purpose, req, appr, disb, state, due, decree in cursor:
        yield {
            "nomor": no,
            "tahun_anggaran": yr,
            "lembaga": name,
            "jenis_lembaga": str(KINDS.get(kind, kind)),
            "kecamatan": district,
            "program": programmes.get(prog, prog),
            "opd": opds.get(opd, opd),
            "tujuan": purpose,
            "diusulkan": req,
            "ditetapkan": appr,
            "dicairkan": disb,
            "status": str(STATES[state].label),
            "status_lpj": str(LPJ_STATUS[lpj_status(state, due, today)]),
            "batas_lpj": due,
            "nomor_keputusan": decree,
        }


def public_status(db: sqlite_utils.Database, region, tracking_no: str) -> dict[str, Any] | None:
    """What anyone holding a tracking number may see: no notes, no people, no documents."""
    row = db.execute(
        "SELECT p.id, p.tracking_no, p.title, o.name, p.programme_code, p.opd_code, p.state, p.submitted_at,"
        " p.requested_amount, p.recommended_amount, p.approved_amount, p.disbursed_amount, p.budget_year"
        " FROM proposals p JOIN organisations o ON o.id = p.organisation_id WHERE p.tracking_no = ?",
        [tracking_no],
    ).fetchone()
    if row is None:
        return None
    pid, no, title, org, prog, opd, state, submitted, req, rec, appr, disb, year = row
    steps = [
        {"state": to, "label": STATES[to].label, "at": at}
        for to, at in db.execute("SELECT to_state, at FROM transitions WHERE proposal_id = ? ORDER BY id", [pid])
        if STATES[to].public
    ]
    return {
        "tracking_no": no,
        "title": title,
        "organisation": org,
        "programme": prog,
        "opd": opd,
        "state": state,
        "state_label": STATES[state].label,
        "submitted_at": submitted,
        "requested": req,
        "recommended": rec,
        "approved": appr,
        "disbursed": disb,
        "budget_year": year,
        "steps": steps,
    }
