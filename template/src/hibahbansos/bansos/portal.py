"""What the public sees of bansos: counts and totals by programme and district, never a name.

Only cycles an approver signed off (approved or closed) count. No row of the registry and no
identifier is read here beyond the district code kept on each cycle item.
"""

from __future__ import annotations

import sqlite_utils

from hibahbansos.bansos import programmes


def aggregates(db: sqlite_utils.Database, region, year: int) -> dict:
    """Totals per programme and per (programme, district) for a budget year."""
    rows = db.execute(
        """
        SELECT c.programme_code, i.district_code, COUNT(*), SUM(i.amount),
               SUM(i.received_on IS NOT NULL), COALESCE(SUM(CASE WHEN i.received_on IS NOT NULL
                   THEN COALESCE(i.received_amount, i.amount) END), 0)
        FROM bansos_cycle_items i JOIN bansos_cycles c ON c.id = i.cycle_id
        WHERE c.budget_year = ? AND c.status IN ('approved', 'closed')
        GROUP BY c.programme_code, i.district_code
        ORDER BY c.programme_code, i.district_code
        """,
        [year],
    ).fetchall()
    by_programme: dict[str, dict] = {}
    for p in programmes.all_programmes(region):
        by_programme[p.code] = {
            "programme": p,
            "recipients": 0,
            "approved": 0,
            "received": 0,
            "disbursed": 0,
            "districts": [],
        }
    for code, district, recipients, approved, received, disbursed in rows:
        entry = by_programme.get(code)
        if entry is None:  # a programme since removed from region.yml still counts in its year
            continue
        entry["recipients"] += recipients
        entry["approved"] += approved or 0
        entry["received"] += received or 0
        entry["disbursed"] += disbursed or 0
        entry["districts"].append(
            {
                "district_code": district,
                "recipients": recipients,
                "approved": approved or 0,
                "received": received or 0,
                "disbursed": disbursed or 0,
            }
        )
    return {
        "programmes": list(by_programme.values()),
        "recipients": sum(e["recipients"] for e in by_programme.values()),
        "approved": sum(e["approved"] for e in by_programme.values()),
        "disbursed": sum(e["disbursed"] for e in by_programme.values()),
    }
