"""The region's bansos programmes (from region.yml) and how much of each ceiling is used.

A programme is planned (direncanakan, named in the budget) or unplanned (tidak dapat
direncanakan, e.g. after a disaster), in money or in goods, with an amount per recipient and
a yearly ceiling (pagu). The profile model already refuses unplanned ceilings above the
planned ones. A cycle that is prepared, approved or closed holds its total against the
ceiling; a cancelled one frees it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from hibahbansos.errors import RuleViolation

HOLDING = ("prepared", "approved", "closed")  # cycle statuses that count against the ceiling


@dataclass(frozen=True)
class Programme:
    code: str
    name: str
    budget_line: str
    ceiling: int
    planned: bool
    form: str  # money | goods
    amount_per_recipient: int
    goods: str | None
    recipients: tuple[str, ...]
    opd: str

    @classmethod
    def from_profile(cls, data: dict) -> Programme:
        return cls(
            code=data["code"],
            name=data["name"],
            budget_line=data["budget_line"],
            ceiling=int(data["ceiling"]),
            planned=bool(data.get("planned", True)),
            form=data["form"],
            amount_per_recipient=int(data["amount_per_recipient"]),
            goods=data.get("goods"),
            recipients=tuple(data.get("recipients") or ("individual",)),
            opd=data["opd"],
        )


def all_programmes(region) -> list[Programme]:
    return [Programme.from_profile(p) for p in region.bansos_programmes]


def get(region, code: str) -> Programme:
    """The programme with this code; raises RuleViolation naming the codes that exist."""
    for programme in all_programmes(region):
        if programme.code == code:
            return programme
    known = ", ".join(p.code for p in all_programmes(region)) or "(none in region.yml)"
    raise RuleViolation("programme", f"programme {code} is not in region.yml; known codes: {known}")


def committed(db: sqlite_utils.Database, code: str, year: int, exclude_cycle: int | None = None) -> int:
    """Rupiah held against a programme's ceiling in a budget year by its live cycles."""
    marks = ",".join("?" * len(HOLDING))
    row = db.execute(
        f"SELECT COALESCE(SUM(total_amount), 0) FROM bansos_cycles WHERE programme_code = ? AND budget_year = ?"
        f" AND status IN ({marks}) AND id IS NOT ?",
        [code, year, *HOLDING, exclude_cycle],
    ).fetchone()
    return int(row[0])


def disbursed(db: sqlite_utils.Database, code: str, year: int) -> int:
    """Rupiah actually handed out (receipts recorded): money received, or goods valued per package."""
    row = db.execute(
        "SELECT COALESCE(SUM(COALESCE(i.received_amount, i.amount)), 0) FROM bansos_cycle_items i"
        " JOIN bansos_cycles c ON c.id = i.cycle_id"
        " WHERE c.programme_code = ? AND c.budget_year = ? AND i.received_on IS NOT NULL",
        [code, year],
    ).fetchone()
    return int(row[0])


def usage(db: sqlite_utils.Database, region, year: int) -> list[dict]:
    """Each programme with its ceiling, the amount held by cycles, the amount handed out, and what remains."""
    out = []
    for p in all_programmes(region):
        held = committed(db, p.code, year)
        out.append(
            {"programme": p, "committed": held, "disbursed": disbursed(db, p.code, year), "remaining": p.ceiling - held}
        )
    return out
