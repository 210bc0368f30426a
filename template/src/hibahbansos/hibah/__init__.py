"""The hibah area: grants from the regional budget to organisations, from proposal to LPJ.

Modules are named by what they hold: `organisations`, `proposals` (and its `perform()`, the only
code that changes a proposal's state), `workflow` (states and transitions as data), `rules`,
`amounts` (the amount trail), `nphd` (the grant agreement PDF), `recap` (DNC-PBH exports), `lpj`,
`portal` (public queries), `charts`, `complaints`, `outbox` (email), `settings`; the HTTP views
live in `views/`, one module per area; the tables in the migration set `hibahbansos.hibah`.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from hibahbansos import roles as R


def nav_entries() -> list[tuple[str, object, frozenset[str] | None]]:
    """The hibah area's menu entries, in order (public ones first)."""
    from hibahbansos.hibah.views import LPJ_WATCHERS, READERS, RECAP_USERS, WORKERS

    return [
        ("hibah_portal.recipients", _l("Penerima hibah"), None),
        ("hibah_portal.status", _l("Cek status"), None),
        ("hibah_applicant.my_proposals", _l("Proposal saya"), frozenset({R.APPLICANT})),
        ("hibah_queue.queue", _l("Antrian kerja"), frozenset(WORKERS)),
        ("hibah_proposals.index", _l("Usulan"), frozenset(READERS)),
        ("hibah_lpj.dashboard", _l("LPJ"), frozenset(LPJ_WATCHERS)),
        ("hibah_recap.index", _l("Rekap"), frozenset(RECAP_USERS)),
        ("hibah_complaints.index", _l("Pengaduan masuk"), frozenset({R.DESK, R.INSPECTOR})),
        ("hibah_audit.index", _l("Log audit"), frozenset({R.INSPECTOR, R.ADMIN})),
        ("hibah_admin.users_index", _l("Administrasi"), frozenset({R.ADMIN})),
    ]


def register(app: Flask) -> None:
    """Register the hibah blueprints and menu entries on an app."""
    from hibahbansos import templating
    from hibahbansos.hibah.views import (
        account,
        admin,
        applicant,
        audit,
        complaints,
        lpj,
        portal,
        proposals,
        queue,
        recap,
    )

    for module in (portal, account, applicant, proposals, queue, lpj, recap, complaints, audit, admin):
        app.register_blueprint(module.bp)
    known = {endpoint for endpoint, _label, _roles in templating.NAV}
    templating.NAV.extend(entry for entry in nav_entries() if entry[0] not in known)
