"""Flags for a person to review: likely duplicates, and double receipt across programmes.

- A likely duplicate is two people under different NIKs with the same normalised name
  (`names.name_key`), the same birth date and the same village (or the same address when no
  village is known). Exact NIK duplicates never get here: the import merges them.
- A double receipt is the same person, or the same family card (KK), in cycles of two
  different programmes whose periods overlap.

Nothing is ever merged or removed automatically. A reviewer confirms or dismisses a flag; a
confirmed likely duplicate keeps the newer record out of later selections. Flags are keyed,
so recomputing them never resets a decision.
"""

from __future__ import annotations

import datetime as dt
import json

import sqlite_utils

from hibahbansos import audit
from hibahbansos.db import transaction
from hibahbansos.errors import RuleViolation

# A name + birth date + village shared by more people than this is a data problem (e.g. a
# placeholder name), not a duplicate: flagging every pair would bury the reviewer.
MAX_GROUP = 20


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def flag_likely_duplicates(db: sqlite_utils.Database) -> int:
    """Flag every pair of records that look like one person; returns how many flags are new."""
    with transaction(db):
        before = db.execute("SELECT COUNT(*) FROM bansos_flags WHERE kind = 'likely_duplicate'").fetchone()[0]
        db.execute(
            """
            INSERT OR IGNORE INTO bansos_flags (kind, key, person_a, person_b, reasons, created_at)
            SELECT 'likely_duplicate', 'dup:' || a.id || ':' || b.id, a.id, b.id,
                   CASE WHEN a.kk IS NOT NULL AND a.kk = b.kk
                        THEN json_array('same_name', 'same_birth_date', IIF(a.village_code IS NULL, 'same_address', 'same_village'), 'same_kk')
                        ELSE json_array('same_name', 'same_birth_date', IIF(a.village_code IS NULL, 'same_address', 'same_village'))
                   END,
                   ?
            FROM (SELECT dedup_key FROM bansos_persons GROUP BY dedup_key HAVING COUNT(*) BETWEEN 2 AND ?) d
            JOIN bansos_persons a ON a.dedup_key = d.dedup_key
            JOIN bansos_persons b ON b.dedup_key = d.dedup_key AND b.id > a.id
            """,
            [_now(), MAX_GROUP],
        )
        after = db.execute("SELECT COUNT(*) FROM bansos_flags WHERE kind = 'likely_duplicate'").fetchone()[0]
    return after - before


def flag_multi_programme(db: sqlite_utils.Database, cycle_id: int) -> int:
    """Flag people and families of a cycle who are also in another programme's cycle of an overlapping period."""
    with transaction(db):
        before = db.execute("SELECT COUNT(*) FROM bansos_flags WHERE kind = 'multi_programme'").fetchone()[0]
        overlap = """
            FROM bansos_cycle_items i
            JOIN bansos_cycles c ON c.id = i.cycle_id
            JOIN bansos_cycle_items j ON {join} AND j.cycle_id != i.cycle_id
            JOIN bansos_cycles o ON o.id = j.cycle_id
            WHERE i.cycle_id = ? AND o.programme_code != c.programme_code AND o.status != 'cancelled'
              AND o.period_start <= c.period_end AND c.period_start <= o.period_end
        """
        db.execute(
            "INSERT OR IGNORE INTO bansos_flags (kind, key, person_a, kk, cycle_a, cycle_b, reasons, created_at)"
            " SELECT 'multi_programme', 'multi:person:' || i.person_id || ':' || MIN(c.id, o.id) || ':' || MAX(c.id, o.id),"
            " i.person_id, i.kk, MIN(c.id, o.id), MAX(c.id, o.id), json_array('same_person'), ?"
            + overlap.format(join="j.person_id = i.person_id"),
            [_now(), cycle_id],
        )
        db.execute(
            "INSERT OR IGNORE INTO bansos_flags (kind, key, person_a, person_b, kk, cycle_a, cycle_b, reasons, created_at)"
            " SELECT 'multi_programme', 'multi:kk:' || i.kk || ':' || MIN(c.id, o.id) || ':' || MAX(c.id, o.id),"
            " i.person_id, j.person_id, i.kk, MIN(c.id, o.id), MAX(c.id, o.id), json_array('same_kk'), ?"
            + overlap.format(join="j.kk = i.kk AND i.kk IS NOT NULL AND j.person_id IS NOT i.person_id"),
            [_now(), cycle_id],
        )
        after = db.execute("SELECT COUNT(*) FROM bansos_flags WHERE kind = 'multi_programme'").fetchone()[0]
    return after - before


def listing(db: sqlite_utils.Database, status: str = "open", kind: str | None = None, limit: int = 100) -> list[dict]:
    """Flags with the people they name (for the review page; the page masks identifiers)."""
    sql = """
        SELECT f.id, f.kind, f.status, f.reasons, f.cycle_a, f.cycle_b, f.created_at, f.decided_at,
               a.id AS a_id, a.name AS a_name, a.nik AS a_nik, a.kk AS a_kk, a.birth_date AS a_birth,
               a.village_code AS a_village, a.district_code AS a_district,
               b.id AS b_id, b.name AS b_name, b.nik AS b_nik, b.kk AS b_kk, b.birth_date AS b_birth,
               b.village_code AS b_village, b.district_code AS b_district,
               ca.programme_code AS a_programme, cb.programme_code AS b_programme
        FROM bansos_flags f
        LEFT JOIN bansos_persons a ON a.id = f.person_a
        LEFT JOIN bansos_persons b ON b.id = f.person_b
        LEFT JOIN bansos_cycles ca ON ca.id = f.cycle_a
        LEFT JOIN bansos_cycles cb ON cb.id = f.cycle_b
        WHERE f.status = ?
    """
    params: list = [status]
    if kind:
        sql += " AND f.kind = ?"
        params.append(kind)
    sql += " ORDER BY f.id LIMIT ?"
    params.append(limit)
    cursor = db.execute(sql, params)
    cols = [c[0] for c in cursor.description]
    out = []
    for values in cursor:
        row = dict(zip(cols, values))
        row["reasons"] = json.loads(row["reasons"])
        out.append(row)
    return out


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Open flags by kind."""
    return dict(db.execute("SELECT kind, COUNT(*) FROM bansos_flags WHERE status = 'open' GROUP BY kind").fetchall())


def decide(db: sqlite_utils.Database, flag_id: int, decision: str, user_id: int) -> None:
    """Confirm or dismiss an open flag; raises RuleViolation when it is not open or the decision is unknown."""
    if decision not in ("confirmed", "dismissed"):
        raise RuleViolation("flag_decision", "keputusan harus dikonfirmasi atau diabaikan")
    with transaction(db):
        row = db.execute("SELECT status, kind FROM bansos_flags WHERE id = ?", [flag_id]).fetchone()
        if row is None or row[0] != "open":
            raise RuleViolation("flag_closed", "tanda ini sudah diputuskan atau tidak ada")
        db.execute(
            "UPDATE bansos_flags SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?",
            [decision, user_id, _now(), flag_id],
        )
        audit.record(
            db, f"bansos.flag.{decision}", subject_type="bansos_flag", subject_id=flag_id, detail={"kind": row[1]}
        )
