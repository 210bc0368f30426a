"""The audit log: every state change, document download and view of personal data, chained.

Each row carries an HMAC-SHA256 over its own content and the previous row's hash, keyed with
the instance's audit key (kept outside the database). Someone with the database file but not
the key cannot edit, insert or delete a row without `verify()` noticing: an edit breaks that
row's hash, an insertion or deletion breaks the id sequence and the link to the previous row,
and removing rows from the end no longer matches the head kept in `audit_head`.

`detail` must never hold personal data in clear (NIK, KK, phone, address): write ids and
field names, not values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from flask import current_app, g, has_request_context, request

from hibahbansos.db import transaction

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainProblem:
    row_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row_id}" if self.row_id is not None else "log"
        return f"{where}: {self.message}"


def _digest(key: bytes, row: dict[str, Any], prev_hash: str) -> str:
    payload = json.dumps(
        [
            row["id"],
            row["at"],
            row["actor_id"],
            row["actor"],
            row["action"],
            row["subject_type"],
            row["subject_id"],
            row["detail"],
            row["ip"],
            prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def record(
    db: sqlite_utils.Database,
    action: str,
    *,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
    actor_id: int | None = None,
    actor: str | None = None,
    key: str | None = None,
) -> int:
    """Append one entry to the chain, inside the caller's transaction if there is one.

    In a request, the actor and IP come from the logged-in user; the CLI passes `actor`.
    """
    if has_request_context():
        user = g.get("user")
        if actor_id is None and user is not None:
            actor_id, actor = user.id, user.username
        ip = request.remote_addr
    else:
        ip = None
    key_bytes = (key or current_app.config["AUDIT_KEY"]).encode()
    with transaction(db):
        last = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        row = {
            "id": (last[0] + 1) if last else 1,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor": actor or "public",
            "action": action,
            "subject_type": subject_type,
            "subject_id": None if subject_id is None else str(subject_id),
            "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
            "ip": ip,
        }
        prev = last[1] if last else GENESIS
        row["prev_hash"] = prev
        row["hash"] = _digest(key_bytes, row, prev)
        db.execute(
            "INSERT INTO audit_log (id, at, actor_id, actor, action, subject_type, subject_id, detail, ip, prev_hash, hash)"
            " VALUES (:id, :at, :actor_id, :actor, :action, :subject_type, :subject_id, :detail, :ip, :prev_hash, :hash)",
            row,
        )
        db.execute(
            "INSERT INTO audit_head (singleton, last_id, last_hash, mac) VALUES (1, :id, :hash, :mac)"
            " ON CONFLICT(singleton) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, mac = excluded.mac",
            {"id": row["id"], "hash": row["hash"], "mac": _head_mac(key_bytes, row["id"], row["hash"])},
        )
    return row["id"]


def _head_mac(key: bytes, last_id: int, last_hash: str) -> str:
    return hmac.new(key, f"head:{last_id}:{last_hash}".encode(), hashlib.sha256).hexdigest()


def verify(db: sqlite_utils.Database, key: str) -> tuple[int, list[ChainProblem]]:
    """Check the whole chain; returns the number of rows and every problem found."""
    key_bytes = key.encode()
    problems: list[ChainProblem] = []
    prev_hash, expected_id, count = GENESIS, 1, 0
    cursor = db.execute(
        "SELECT id, at, actor_id, actor, action, subject_type, subject_id, detail, ip, prev_hash, hash"
        " FROM audit_log ORDER BY id"
    )
    cols = [c[0] for c in cursor.description]
    last_id, last_hash = 0, GENESIS
    for values in cursor:
        row = dict(zip(cols, values))
        count += 1
        if row["id"] != expected_id:
            problems.append(ChainProblem(row["id"], f"expected row {expected_id} here: rows were deleted or inserted"))
        if row["prev_hash"] != prev_hash:
            problems.append(
                ChainProblem(row["id"], "does not link to the row before it: a row was inserted, deleted or edited")
            )
        if not hmac.compare_digest(_digest(key_bytes, row, row["prev_hash"]), row["hash"] or ""):
            problems.append(ChainProblem(row["id"], "content does not match its hash: the row was edited"))
        prev_hash, expected_id = row["hash"], row["id"] + 1
        last_id, last_hash = row["id"], row["hash"]
    head = db.execute("SELECT last_id, last_hash, mac FROM audit_head WHERE singleton = 1").fetchone()
    if head is None:
        if count:
            problems.append(ChainProblem(None, "the chain head is missing"))
    else:
        if not hmac.compare_digest(_head_mac(key_bytes, head[0], head[1]), head[2] or ""):
            problems.append(ChainProblem(None, "the chain head was edited"))
        elif (head[0], head[1]) != (last_id, last_hash):
            problems.append(
                ChainProblem(
                    None,
                    f"the chain should end at row {head[0]} but ends at row {last_id}: rows were removed from the end or added",
                )
            )
    return count, problems
