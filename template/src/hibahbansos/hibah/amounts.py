"""The amount trail: requested -> recommended -> TAPD -> approved -> disbursed -> accounted.

Every change is a new row of `amounts` with who, when, why and a reference (decree number,
SP2D number); the table refuses UPDATE and DELETE (triggers), so nothing is ever overwritten.
The proposal's `<kind>_amount` column caches the current value (for `disbursed` the sum of the
tranches) and is written in the same transaction as the row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from flask_babel import lazy_gettext as _l

KINDS: dict[str, Any] = {
    "requested": _l("Diusulkan"),
    "recommended": _l("Rekomendasi OPD"),
    "tapd": _l("Pertimbangan TAPD"),
    "approved": _l("Ditetapkan"),
    "disbursed": _l("Dicairkan"),
    "accounted": _l("Dipertanggungjawabkan (LPJ)"),
}
_CACHE_COLUMN = {k: f"{k}_amount" for k in KINDS}


@dataclass(frozen=True)
class Entry:
    id: int
    kind: str
    amount: int
    reason: str
    reference: str | None
    actor: str
    at: str

    @property
    def label(self) -> Any:
        return KINDS[self.kind]


def add(
    db: sqlite_utils.Database,
    proposal_id: int,
    kind: str,
    amount: int,
    reason: str,
    actor_id: int | None,
    actor: str,
    reference: str | None = None,
    at: str | None = None,
) -> int:
    """Append a row and refresh the proposal's cached amount; call inside the caller's transaction.

    Raises ValueError for an unknown kind or a negative amount (a programming error).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown amount kind {kind!r}")
    if amount < 0:
        raise ValueError("amounts are never negative")
    at = at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    cur = db.execute(
        "INSERT INTO amounts (proposal_id, kind, amount, reason, reference, actor_id, actor, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [proposal_id, kind, amount, reason, reference, actor_id, actor, at],
    )
    column = _CACHE_COLUMN[kind]
    if kind == "disbursed":
        db.execute(
            "UPDATE proposals SET disbursed_amount = (SELECT COALESCE(SUM(amount), 0) FROM amounts"
            " WHERE proposal_id = ? AND kind = 'disbursed') WHERE id = ?",
            [proposal_id, proposal_id],
        )
    else:
        db.execute(f"UPDATE proposals SET {column} = ? WHERE id = ?", [amount, proposal_id])
    return cur.lastrowid


def trail(db: sqlite_utils.Database, proposal_id: int) -> list[Entry]:
    """Every amount row of a proposal, oldest first."""
    return [
        Entry(*row)
        for row in db.execute(
            "SELECT id, kind, amount, reason, reference, actor, at FROM amounts WHERE proposal_id = ? ORDER BY id",
            [proposal_id],
        )
    ]
