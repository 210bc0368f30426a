"""LPJ (Laporan Pertanggungjawaban, the recipient's accountability report): due dates and overdue lists.

The due date is set at approval from the region's rule (default 10 January of the year after
the budget year, profile `rules.lpj_due_month/day`). A grant whose money was disbursed and
whose LPJ is not in by then is overdue: it shows on the overdue dashboard and, when the region
keeps `rules.block_overdue_lpj`, its organisation cannot submit or be granted a new proposal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlite_utils

from hibahbansos.hibah.proposals import scope_sql


def dashboard(db: sqlite_utils.Database, user, today: dt.date, soon_days: int = 30) -> dict[str, list[dict[str, Any]]]:
    """Overdue LPJ and those due within `soon_days`, limited to what `user` may see."""
    where, params = scope_sql(user)
    cols = ("id", "tracking_no", "title", "organisation", "opd_code", "programme_code", "disbursed", "due")
    sql = (
        "SELECT p.id, p.tracking_no, p.title, o.name, p.opd_code, p.programme_code, p.disbursed_amount,"
        " p.lpj_due_date FROM proposals p JOIN organisations o ON o.id = p.organisation_id"
        f" WHERE {where} AND p.state = 'disbursed' AND p.lpj_due_date {{op}} ? ORDER BY p.lpj_due_date, p.id"
    )
    overdue = [dict(zip(cols, r)) for r in db.execute(sql.format(op="<"), [*params, today.isoformat()])]
    for row in overdue:
        row["days"] = (today - dt.date.fromisoformat(row["due"])).days
    soon_limit = (today + dt.timedelta(days=soon_days)).isoformat()
    soon = [
        dict(zip(cols, r)) for r in db.execute(sql.format(op="BETWEEN ? AND"), [*params, today.isoformat(), soon_limit])
    ]
    return {"overdue": overdue, "soon": soon}
