"""The distribution cycle: select -> prepare -> approve -> distribution list -> receipts -> report.

- An officer selects eligible recipients by criteria and prepares a cycle: its items and
  total are frozen, and the total is held against the programme's yearly ceiling.
- An approver who is not the preparer approves it (two-person rule, also a CHECK in the
  table), or cancels it. The ceiling is checked again, inside the same write transaction,
  so two cycles approved at the same moment can never pass it together.
- Once approved, the distribution list can be printed (PDF/XLSX with a signature column) and
  each receipt recorded (date, amount or goods, evidence photo).
- The accountability report sums what was planned and what was received.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import BinaryIO

import sqlite_utils

from hibahbansos import audit, uploads
from hibahbansos.bansos import duplicates, programmes
from hibahbansos.bansos.programmes import Programme
from hibahbansos.db import transaction
from hibahbansos.errors import RuleViolation

RECIPIENT_TYPES = ("individual", "family", "group")
EVIDENCE_TYPES = ("image/jpeg", "image/png")


@dataclass
class Criteria:
    """Who is eligible: every field left empty means no restriction."""

    recipient_type: str = "individual"
    district_code: str | None = None
    village_code: str | None = None
    sex: str | None = None
    min_age: int | None = None
    max_age: int | None = None
    max_desil: int | None = None
    candidates_only: bool = False
    limit: int | None = None

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v not in (None, False, "")}, sort_keys=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _birth_bound(on: dt.date, years: int) -> str:
    try:
        return on.replace(year=on.year - years).isoformat()
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28).isoformat()


def _eligible_sql(programme: Programme, c: Criteria, year: int, on: dt.date) -> tuple[str, list]:
    """The query for eligible recipients: (id, kk, district, village) of people, or of groups."""
    if c.recipient_type not in programme.recipients:
        allowed = ", ".join(programme.recipients)
        raise RuleViolation("recipient_type", f"program {programme.code} hanya untuk penerima: {allowed}")
    taken = (
        "SELECT {col} FROM bansos_cycle_items i JOIN bansos_cycles y ON y.id = i.cycle_id"
        " WHERE y.programme_code = ? AND y.budget_year = ? AND y.status != 'cancelled' AND {col} IS NOT NULL"
    )
    if c.recipient_type == "group":
        sql = (
            "SELECT g.id, NULL, g.district_code, g.village_code FROM bansos_groups g WHERE g.id NOT IN ("
            + taken.format(col="i.group_id")
            + ")"
        )
        params: list = [programme.code, year]
        if c.district_code:
            sql += " AND g.district_code = ?"
            params.append(c.district_code)
        if c.village_code:
            sql += " AND g.village_code = ?"
            params.append(c.village_code)
        sql += " ORDER BY g.id"
    else:
        sql = (
            "SELECT p.id, p.kk, p.district_code, p.village_code FROM bansos_persons p"
            " WHERE p.id NOT IN (" + taken.format(col="i.person_id") + ")"
            # A confirmed duplicate keeps its newer record out of every selection.
            " AND p.id NOT IN (SELECT person_b FROM bansos_flags WHERE kind = 'likely_duplicate' AND status = 'confirmed')"
        )
        params = [programme.code, year]
        if c.recipient_type == "family":
            # One recipient per family card: its head (Kepala Keluarga), else its oldest member.
            sql += (
                " AND p.kk IS NOT NULL AND p.kk NOT IN (" + taken.format(col="i.kk") + ")"
                " AND p.id = (SELECT q.id FROM bansos_persons q WHERE q.kk = p.kk"
                " ORDER BY (q.relationship LIKE 'Kepala%') DESC, q.birth_date, q.id LIMIT 1)"
            )
            params += [programme.code, year]
        if c.district_code:
            sql += " AND p.district_code = ?"
            params.append(c.district_code)
        if c.village_code:
            sql += " AND p.village_code = ?"
            params.append(c.village_code)
        if c.sex:
            sql += " AND p.sex = ?"
            params.append(c.sex)
        if c.min_age is not None:
            sql += " AND p.birth_date <= ?"
            params.append(_birth_bound(on, c.min_age))
        if c.max_age is not None:
            sql += " AND p.birth_date > ?"
            params.append(_birth_bound(on, c.max_age + 1))
        if c.max_desil is not None:
            sql += " AND p.desil IS NOT NULL AND p.desil <= ?"
            params.append(c.max_desil)
        if c.candidates_only:
            sql += " AND p.id IN (SELECT person_id FROM bansos_candidates WHERE programme_code = ?)"
            params.append(programme.code)
        # The poorest (lowest welfare decile) first, then the oldest.
        sql += " ORDER BY p.desil IS NULL, p.desil, p.birth_date, p.id"
    if c.limit:
        sql += " LIMIT ?"
        params.append(c.limit)
    return sql, params


def count_eligible(db: sqlite_utils.Database, programme: Programme, criteria: Criteria, year: int, on: dt.date) -> int:
    sql, params = _eligible_sql(programme, criteria, year, on)
    return db.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()[0]


def prepare(
    db: sqlite_utils.Database,
    region,
    programme_code: str,
    criteria: Criteria,
    *,
    title: str,
    period_start: dt.date,
    period_end: dt.date,
    user_id: int,
    today: dt.date,
) -> int:
    """Select the eligible recipients and freeze them into a prepared cycle; returns its id.

    Raises RuleViolation when nobody is eligible, the period is wrong, or the total would
    pass the programme's yearly ceiling (the message says how many recipients still fit).
    """
    programme = programmes.get(region, programme_code)
    year = int(region.budget_year)
    if period_end < period_start:
        raise RuleViolation("period", "akhir periode sebelum awal periode")
    if period_start.year != year or period_end.year != year:
        raise RuleViolation("period", f"periode harus di dalam tahun anggaran {year}")
    sql, params = _eligible_sql(programme, criteria, year, today)
    with transaction(db):
        chosen = db.execute(sql, params).fetchall()
        if not chosen:
            raise RuleViolation("no_recipients", "tidak ada penerima yang memenuhi kriteria ini")
        amount = programme.amount_per_recipient
        total = amount * len(chosen)
        held = programmes.committed(db, programme.code, year)
        if held + total > programme.ceiling:
            fit = max(programme.ceiling - held, 0) // amount
            raise RuleViolation(
                "ceiling",
                f"total Rp{total:,} melampaui sisa pagu Rp{max(programme.ceiling - held, 0):,}; "
                f"sisa pagu cukup untuk {fit} penerima".replace(",", "."),
            )
        cur = db.execute(
            "INSERT INTO bansos_cycles (programme_code, budget_year, title, recipient_type, criteria, period_start, period_end,"
            " form, amount_per_recipient, goods, recipients, total_amount, status, prepared_by, prepared_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'prepared', ?, ?)",
            [
                programme.code,
                year,
                title.strip() or programme.name,
                criteria.recipient_type,
                criteria.to_json(),
                period_start.isoformat(),
                period_end.isoformat(),
                programme.form,
                amount,
                programme.goods,
                len(chosen),
                total,
                user_id,
                _now(),
            ],
        )
        cycle_id = cur.lastrowid
        if criteria.recipient_type == "group":
            db.conn.executemany(
                "INSERT INTO bansos_cycle_items (cycle_id, group_id, district_code, village_code, amount) VALUES (?, ?, ?, ?, ?)",
                [(cycle_id, gid, district, village, amount) for gid, _, district, village in chosen],
            )
        else:
            db.conn.executemany(
                "INSERT INTO bansos_cycle_items (cycle_id, person_id, kk, district_code, village_code, amount) VALUES (?, ?, ?, ?, ?, ?)",
                [(cycle_id, pid, kk, district, village, amount) for pid, kk, district, village in chosen],
            )
        flags = duplicates.flag_multi_programme(db, cycle_id)
        audit.record(
            db,
            "bansos.cycle.prepare",
            subject_type="bansos_cycle",
            subject_id=cycle_id,
            detail={
                "programme": programme.code,
                "recipients": len(chosen),
                "total": total,
                "multi_programme_flags": flags,
            },
        )
    return cycle_id


def get(db: sqlite_utils.Database, cycle_id: int) -> dict | None:
    cursor = db.execute(
        "SELECT c.*, pu.full_name AS prepared_by_name, au.full_name AS approved_by_name FROM bansos_cycles c"
        " JOIN users pu ON pu.id = c.prepared_by LEFT JOIN users au ON au.id = c.approved_by WHERE c.id = ?",
        [cycle_id],
    )
    cols = [c[0] for c in cursor.description]
    row = cursor.fetchone()
    if row is None:
        return None
    cycle = dict(zip(cols, row))
    cycle["criteria"] = json.loads(cycle["criteria"])
    return cycle


def listing(db: sqlite_utils.Database) -> list[dict]:
    cursor = db.execute(
        "SELECT c.id, c.programme_code, c.title, c.status, c.recipients, c.total_amount, c.period_start, c.period_end,"
        " (SELECT COUNT(*) FROM bansos_cycle_items i WHERE i.cycle_id = c.id AND i.received_on IS NOT NULL) AS received"
        " FROM bansos_cycles c ORDER BY c.id DESC"
    )
    cols = [c[0] for c in cursor.description]
    return [dict(zip(cols, v)) for v in cursor]


def _cycle_in(db: sqlite_utils.Database, cycle_id: int, *statuses: str) -> tuple:
    row = db.execute(
        "SELECT status, prepared_by, programme_code, budget_year, total_amount FROM bansos_cycles WHERE id = ?",
        [cycle_id],
    ).fetchone()
    if row is None:
        raise RuleViolation("cycle_missing", "siklus penyaluran tidak ada")
    if row[0] not in statuses:
        raise RuleViolation(
            "cycle_status", f"siklus berstatus {row[0]}; tindakan ini untuk status {' atau '.join(statuses)}"
        )
    return row


def approve(db: sqlite_utils.Database, region, cycle_id: int, user_id: int) -> None:
    """Approve a prepared cycle; raises RuleViolation for the preparer (two-person rule) or a passed ceiling."""
    with transaction(db):
        _, prepared_by, code, year, total = _cycle_in(db, cycle_id, "prepared")
        if prepared_by == user_id:
            raise RuleViolation("two_person", "penyiap siklus tidak boleh mengesahkannya sendiri; minta pengesah lain")
        programme = programmes.get(region, code)
        held = programmes.committed(db, code, year, exclude_cycle=cycle_id)
        if held + total > programme.ceiling:
            raise RuleViolation(
                "ceiling",
                f"pengesahan akan melampaui pagu {code}: Rp{held + total:,} dari Rp{programme.ceiling:,}".replace(
                    ",", "."
                ),
            )
        db.execute(
            "UPDATE bansos_cycles SET status = 'approved', approved_by = ?, approved_at = ? WHERE id = ?",
            [user_id, _now(), cycle_id],
        )
        audit.record(
            db, "bansos.cycle.approve", subject_type="bansos_cycle", subject_id=cycle_id, detail={"total": total}
        )


def cancel(db: sqlite_utils.Database, cycle_id: int, reason: str) -> None:
    """Cancel a prepared cycle (frees its share of the ceiling); raises RuleViolation otherwise."""
    with transaction(db):
        _cycle_in(db, cycle_id, "prepared")
        db.execute("UPDATE bansos_cycles SET status = 'cancelled' WHERE id = ?", [cycle_id])
        audit.record(
            db,
            "bansos.cycle.cancel",
            subject_type="bansos_cycle",
            subject_id=cycle_id,
            detail={"reason_given": bool(reason.strip())},
        )


def close(db: sqlite_utils.Database, cycle_id: int, user_id: int) -> None:
    """Close an approved cycle: the accountability report is final; no more receipts."""
    with transaction(db):
        _cycle_in(db, cycle_id, "approved")
        db.execute(
            "UPDATE bansos_cycles SET status = 'closed', closed_by = ?, closed_at = ? WHERE id = ?",
            [user_id, _now(), cycle_id],
        )
        audit.record(db, "bansos.cycle.close", subject_type="bansos_cycle", subject_id=cycle_id)


def items(db: sqlite_utils.Database, cycle_id: int, limit: int | None = None, offset: int = 0) -> list[dict]:
    """The items of a cycle with the recipient's name and identifiers (pages mask them)."""
    sql = """
        SELECT i.id, i.person_id, i.group_id, i.kk, i.district_code, i.village_code, i.amount, i.received_on,
               i.received_amount, i.received_goods, i.evidence_file_id,
               COALESCE(p.name, g.name) AS name, p.nik, p.phone, p.address, p.birth_date, p.sex
        FROM bansos_cycle_items i
        LEFT JOIN bansos_persons p ON p.id = i.person_id
        LEFT JOIN bansos_groups g ON g.id = i.group_id
        WHERE i.cycle_id = ? ORDER BY i.district_code, i.village_code, name, i.id
    """
    params: list = [cycle_id]
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    cursor = db.execute(sql, params)
    cols = [c[0] for c in cursor.description]
    return [dict(zip(cols, v)) for v in cursor]


def record_receipt(
    db: sqlite_utils.Database,
    cycle_id: int,
    item_id: int,
    *,
    received_on: dt.date,
    amount: int | None,
    goods: str | None,
    evidence: BinaryIO,
    evidence_name: str | None,
    uploads_folder,
    max_bytes: int,
    user_id: int,
    today: dt.date,
) -> None:
    """Record that a recipient received their assistance, with a photo as evidence.

    Raises RuleViolation (cycle not approved, already recorded, amount above the item's,
    date outside the period or in the future, missing goods description) or
    uploads.UploadRejected (the photo is not a JPEG or PNG).
    """
    cycle = db.execute(
        "SELECT status, form, period_start, period_end FROM bansos_cycles WHERE id = ?", [cycle_id]
    ).fetchone()
    if cycle is None or cycle[0] != "approved":
        raise RuleViolation(
            "cycle_status", "penerimaan hanya dicatat pada siklus yang sudah disahkan dan belum ditutup"
        )
    item = db.execute(
        "SELECT amount, received_on FROM bansos_cycle_items WHERE id = ? AND cycle_id = ?", [item_id, cycle_id]
    ).fetchone()
    if item is None:
        raise RuleViolation("item_missing", "penerima tidak ada dalam siklus ini")
    if item[1] is not None:
        raise RuleViolation("already_received", "penerimaan untuk penerima ini sudah dicatat")
    if received_on > today:
        raise RuleViolation("received_on", "tanggal terima tidak boleh di masa depan")
    if not cycle[2] <= received_on.isoformat() <= cycle[3]:
        raise RuleViolation("received_on", "tanggal terima di luar periode siklus")
    if cycle[1] == "money":
        if amount is None or amount <= 0:
            raise RuleViolation("amount", "isi jumlah uang yang diterima")
        if amount > item[0]:
            raise RuleViolation("amount", "jumlah yang diterima melebihi jumlah untuk penerima ini")
        goods = None
    else:
        if not (goods or "").strip():
            raise RuleViolation("goods", "isi barang yang diterima")
        amount = item[0]
    head = evidence.read(16)
    evidence.seek(0)
    sniffed = uploads.sniff(head)
    if sniffed is None or sniffed[0] not in EVIDENCE_TYPES:
        raise uploads.UploadRejected("bukti penerimaan harus foto JPEG atau PNG")
    stored = uploads.store(db, evidence, evidence_name, uploads_folder, max_bytes, uploaded_by=user_id)
    with transaction(db):
        updated = db.execute(
            "UPDATE bansos_cycle_items SET received_on = ?, received_amount = ?, received_goods = ?, evidence_file_id = ?,"
            " recorded_by = ?, recorded_at = ? WHERE id = ? AND received_on IS NULL",
            [received_on.isoformat(), amount, (goods or "").strip() or None, stored.id, user_id, _now(), item_id],
        ).rowcount
        if updated != 1:
            raise RuleViolation("already_received", "penerimaan untuk penerima ini sudah dicatat")
        audit.record(
            db,
            "bansos.receipt.record",
            subject_type="bansos_cycle_item",
            subject_id=item_id,
            detail={
                "cycle": cycle_id,
                "amount": amount,
                "evidence_file": stored.id,
                "evidence_sha256": stored.sha256,
            },
        )


def report(db: sqlite_utils.Database, cycle_id: int) -> dict:
    """The accountability report of a cycle: planned and received, overall and by district."""
    totals = db.execute(
        "SELECT COUNT(*), SUM(amount), SUM(received_on IS NOT NULL), COALESCE(SUM(received_amount), 0),"
        " SUM(evidence_file_id IS NOT NULL) FROM bansos_cycle_items WHERE cycle_id = ?",
        [cycle_id],
    ).fetchone()
    by_district = db.execute(
        "SELECT district_code, COUNT(*), SUM(amount), SUM(received_on IS NOT NULL), COALESCE(SUM(received_amount), 0)"
        " FROM bansos_cycle_items WHERE cycle_id = ? GROUP BY district_code ORDER BY district_code",
        [cycle_id],
    ).fetchall()
    return {
        "recipients": totals[0] or 0,
        "planned": totals[1] or 0,
        "received": totals[2] or 0,
        "received_amount": totals[3] or 0,
        "with_evidence": totals[4] or 0,
        "not_received": (totals[0] or 0) - (totals[2] or 0),
        "by_district": [
            {"district_code": d, "recipients": n, "planned": planned, "received": got, "received_amount": amount}
            for d, n, planned, got, amount in by_district
        ],
    }
