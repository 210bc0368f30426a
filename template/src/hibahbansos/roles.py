"""The roles of Bandung's original process, as data.

A user holds one or more roles. The technical OPD reviewer role is always tied to one OPD
(`opd_code`): such a user sees only proposals routed to that OPD (fail closed: a reviewer
without an OPD sees nothing). A region may give one person several roles to merge desks.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Role:
    code: str
    label: object  # lazy translated string
    needs_opd: bool = False
    staff: bool = True


APPLICANT = "applicant"  # pemohon
DESK = "desk"  # Tata Usaha / sekretariat: administrative completeness
OPD_REVIEWER = "opd_reviewer"  # technical OPD evaluator, scoped to one OPD
CONSIDERATION = "consideration"  # tim pertimbangan
TAPD = "tapd"  # regional budget team
HEAD = "head"  # Kepala Daerah: approval
FINANCE = "finance"  # BPKAD / PPKD: disbursement (SP2D)
INSPECTOR = "inspector"  # Inspektorat / APIP: read-only audit
ADMIN = "admin"  # users, OPD assignments, settings
BANSOS_OFFICER = "bansos_officer"  # prepares bansos recipients and distributions
BANSOS_APPROVER = "bansos_approver"  # approves a distribution prepared by someone else

ROLES: dict[str, Role] = {
    r.code: r
    for r in (
        Role(APPLICANT, _l("Pemohon"), staff=False),
        Role(DESK, _l("Sekretariat (Tata Usaha)")),
        Role(OPD_REVIEWER, _l("Penilai OPD teknis"), needs_opd=True),
        Role(CONSIDERATION, _l("Tim Pertimbangan")),
        Role(TAPD, _l("TAPD")),
        Role(HEAD, _l("Kepala Daerah")),
        Role(FINANCE, _l("Keuangan (BPKAD)")),
        Role(INSPECTOR, _l("Inspektorat")),
        Role(ADMIN, _l("Administrator")),
        Role(BANSOS_OFFICER, _l("Petugas Bansos")),
        Role(BANSOS_APPROVER, _l("Pengesah Bansos")),
    )
}

STAFF_ROLES = frozenset(code for code, role in ROLES.items() if role.staff)
