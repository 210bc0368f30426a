"""Complaints from the public (pengaduan), each with its own tracking number.

Anyone may file one without an account; the name and contact are optional and never shown
publicly. The desk answers; the complainant reads the answer with the tracking number.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlite_utils

from hibahbansos import audit
from hibahbansos.db import transaction
from hibahbansos.hibah.proposals import new_tracking_number

STATUSES = ("baru", "diproses", "selesai")
# Anyone may complain without an account, so one address may file only a few per hour.
MAX_PER_HOUR = 5


def too_many(db: sqlite_utils.Database, ip: str | None) -> bool:
    """True when `ip` filed MAX_PER_HOUR complaints in the last hour (read from the audit chain)."""
    if not ip:
        return False
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(timespec="microseconds")
    filed = db.execute(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'hibah.complaint.create' AND ip = ? AND at >= ?", [ip, since]
    ).fetchone()[0]
    return filed >= MAX_PER_HOUR


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def create(db: sqlite_utils.Database, year: int, data: dict[str, Any]) -> str:
    """File a complaint; returns its tracking number (AD-<year>-ABCDE-FGHJK: two groups of five letters and digits)."""
    with transaction(db):
        while True:
            number = new_tracking_number("AD", year)
            if not db.execute("SELECT 1 FROM complaints WHERE tracking_no = ?", [number]).fetchone():
                break
        cur = db.execute(
            "INSERT INTO complaints (tracking_no, about_tracking_no, name, contact, subject, message, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                number,
                data.get("about") or None,
                data.get("name") or None,
                data.get("contact") or None,
                data["subject"].strip(),
                data["message"].strip(),
                _now(),
            ],
        )
        audit.record(db, "hibah.complaint.create", subject_type="complaint", subject_id=cur.lastrowid)
    return number


_COLS = (
    "id",
    "tracking_no",
    "about_tracking_no",
    "name",
    "contact",
    "subject",
    "message",
    "status",
    "response",
    "responded_at",
    "created_at",
)


def get_by_number(db: sqlite_utils.Database, number: str) -> dict[str, Any] | None:
    row = db.execute(f"SELECT {', '.join(_COLS)} FROM complaints WHERE tracking_no = ?", [number]).fetchone()
    return dict(zip(_COLS, row)) if row else None


def get(db: sqlite_utils.Database, complaint_id: int) -> dict[str, Any] | None:
    row = db.execute(f"SELECT {', '.join(_COLS)} FROM complaints WHERE id = ?", [complaint_id]).fetchone()
    return dict(zip(_COLS, row)) if row else None


def listing(db: sqlite_utils.Database, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    sql = f"SELECT {', '.join(_COLS)} FROM complaints"
    params: list[Any] = []
    if status:
        sql += " WHERE status = ?"
        params.append(status)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    return [dict(zip(_COLS, r)) for r in db.execute(sql, params)]


def respond(db: sqlite_utils.Database, complaint_id: int, status: str, response: str, user_id: int) -> None:
    """Record the desk's answer and status; raises ValueError for an unknown status."""
    if status not in STATUSES:
        raise ValueError(f"unknown complaint status {status!r}")
    with transaction(db):
        db.execute(
            "UPDATE complaints SET status = ?, response = ?, responded_by = ?, responded_at = ? WHERE id = ?",
            [status, response.strip() or None, user_id, _now(), complaint_id],
        )
        audit.record(
            db, "hibah.complaint.respond", subject_type="complaint", subject_id=complaint_id, detail={"status": status}
        )
