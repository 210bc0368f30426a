"""What staff see of a recipient's personal data, and the audited reveal.

Every page masks NIK, No. KK, phone number and address (UU PDP). The full birth date is
hidden too: with the sex and the visible ends of a masked NIK it would give the whole NIK
back, so pages show the birth year. A role that needs the full data (the bansos officer, who
checks it against documents, and the inspector) reveals one person at a time; each reveal is
written to the audit chain before the data is shown. The approver signs off totals and
never needs the identifiers.

Personal data also stays out of URLs (they reach access logs): NIK searches are POSTed and
pages address people by their row id.
"""

from __future__ import annotations

import sqlite_utils
from flask import Flask

from hibahbansos import audit, identifiers
from hibahbansos import roles as R

REVEAL_ROLES = frozenset({R.BANSOS_OFFICER, R.INSPECTOR})
REVEALED_FIELDS = ("nik", "kk", "phone", "address", "birth_date")


def birth_year(value: str | None) -> str:
    return (value or "")[:4] or "–"


def can_reveal(user) -> bool:
    return user is not None and user.has(*REVEAL_ROLES)


def reveal(db: sqlite_utils.Database, person_id: int) -> None:
    """Record in the audit chain that the current user sees this person's full data."""
    audit.record(
        db,
        "bansos.person.reveal",
        subject_type="bansos_person",
        subject_id=person_id,
        detail={"fields": list(REVEALED_FIELDS)},
    )


def init_app(app: Flask) -> None:
    app.add_template_filter(identifiers.mask_nik, "mask_nik")
    app.add_template_filter(identifiers.mask_kk, "mask_kk")
    app.add_template_filter(identifiers.mask_phone, "mask_phone")
    app.add_template_filter(identifiers.mask_address, "mask_address")
    app.add_template_filter(birth_year, "birth_year")
