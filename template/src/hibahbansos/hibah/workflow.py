"""The hibah proposal workflow as data: its states, and the transitions between them.

The lifecycle follows the regulations (DOMAIN.md): submitted -> administrative check ->
technical OPD evaluation -> consideration team -> TAPD -> approval by the head of region
(Kepala Daerah, with a decree) -> NPHD (grant agreement) signed -> disbursed in tranches
(each with an SP2D, the payment order) -> LPJ (accountability report) submitted -> verified ->
closed; withdrawn and rejected end it early.

A region adjusts it in its profile's `workflow` section: `actions` replaces the roles allowed
to take a staff action, `skip_consideration` sends the OPD recommendation straight to TAPD.
`perform()` in `hibahbansos.hibah.proposals` is the only code that changes a state; it checks
the role, the OPD scope and the rules named here, inside one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l

from hibahbansos import roles as R


@dataclass(frozen=True)
class State:
    code: str
    label: Any  # lazy translated string
    public: bool = True  # shown by the public status page
    recipient: bool = False  # counts as a recipient (public list, ceiling, previous-year rule)
    final: bool = False


STATES: dict[str, State] = {
    s.code: s
    for s in (
        State("draft", _l("Konsep"), public=False),
        State("submitted", _l("Diajukan")),
        State("admin_check", _l("Pemeriksaan administrasi")),
        State("revision", _l("Perlu perbaikan pemohon")),
        State("opd_evaluation", _l("Evaluasi OPD teknis")),
        State("consideration", _l("Tim pertimbangan")),
        State("tapd", _l("Pembahasan TAPD")),
        State("tapd_agreed", _l("Disetujui TAPD, menunggu keputusan Kepala Daerah")),
        State("approved", _l("Ditetapkan (keputusan Kepala Daerah)"), recipient=True),
        State("nphd_signed", _l("NPHD ditandatangani"), recipient=True),
        State("disbursed", _l("Dicairkan"), recipient=True),
        State("lpj_submitted", _l("LPJ diserahkan"), recipient=True),
        State("lpj_verified", _l("LPJ diverifikasi"), recipient=True),
        State("closed", _l("Selesai"), recipient=True, final=True),
        State("withdrawn", _l("Ditarik pemohon"), final=True),
        State("rejected", _l("Ditolak"), final=True),
    )
}
RECIPIENT_STATES = tuple(code for code, s in STATES.items() if s.recipient)


@dataclass(frozen=True)
class Transition:
    """One step: from which states, to which state, who may take it and which rules it checks.

    `form` names the inputs the step needs (see hibahbansos.hibah.forms); `owner` steps are
    taken by the applicant who owns the proposal; OPD reviewers only act on their own OPD.
    """

    action: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    label: Any
    form: str = "note"
    rules: tuple[str, ...] = ()
    owner: bool = False
    danger: bool = False
    note_required: bool = False


_DEFAULTS: tuple[Transition, ...] = (
    Transition(
        "submit",
        ("draft",),
        "submitted",
        (R.APPLICANT,),
        _l("Ajukan proposal"),
        form="confirm",
        owner=True,
        rules=(
            "intake_open",
            "rab_present",
            "documents_complete",
            "org_age",
            "domicile",
            "secretariat",
            "previous_year",
            "overdue_lpj",
        ),
    ),
    Transition(
        "resubmit",
        ("revision",),
        "submitted",
        (R.APPLICANT,),
        _l("Ajukan kembali"),
        form="confirm",
        owner=True,
        rules=("rab_present", "documents_complete", "overdue_lpj"),
    ),
    Transition(
        "withdraw",
        ("draft", "submitted", "admin_check", "revision", "opd_evaluation"),
        "withdrawn",
        (R.APPLICANT,),
        _l("Tarik proposal"),
        owner=True,
        danger=True,
    ),
    Transition("start_check", ("submitted",), "admin_check", (R.DESK,), _l("Mulai pemeriksaan administrasi")),
    Transition(
        "route_to_opd",
        ("admin_check",),
        "opd_evaluation",
        (R.DESK,),
        _l("Lengkap: teruskan ke OPD teknis"),
        rules=("documents_complete",),
    ),
    Transition(
        "return_incomplete",
        ("admin_check",),
        "revision",
        (R.DESK,),
        _l("Belum lengkap: kembalikan ke pemohon"),
        note_required=True,
    ),
    Transition("reject_admin", ("admin_check",), "rejected", (R.DESK,), _l("Tolak"), danger=True, note_required=True),
    Transition(
        "recommend",
        ("opd_evaluation",),
        "consideration",
        (R.OPD_REVIEWER,),
        _l("Rekomendasikan"),
        form="recommend",
        rules=("org_age", "previous_year"),
    ),
    Transition(
        "request_revision",
        ("opd_evaluation",),
        "revision",
        (R.OPD_REVIEWER,),
        _l("Minta perbaikan"),
        note_required=True,
    ),
    Transition(
        "reject_opd", ("opd_evaluation",), "rejected", (R.OPD_REVIEWER,), _l("Tolak"), danger=True, note_required=True
    ),
    Transition("forward_to_tapd", ("consideration",), "tapd", (R.CONSIDERATION,), _l("Teruskan ke TAPD")),
    Transition(
        "reject_consideration",
        ("consideration",),
        "rejected",
        (R.CONSIDERATION,),
        _l("Tolak"),
        danger=True,
        note_required=True,
    ),
    Transition("tapd_agree", ("tapd",), "tapd_agreed", (R.TAPD,), _l("Setujui nilai TAPD"), form="tapd"),
    Transition("reject_tapd", ("tapd",), "rejected", (R.TAPD,), _l("Tolak"), danger=True, note_required=True),
    Transition(
        "approve",
        ("tapd_agreed",),
        "approved",
        (R.HEAD,),
        _l("Tetapkan dengan keputusan"),
        form="decree",
        rules=("previous_year", "overdue_lpj", "ceiling"),
    ),
    Transition("reject_head", ("tapd_agreed",), "rejected", (R.HEAD,), _l("Tolak"), danger=True, note_required=True),
    Transition("sign_nphd", ("approved",), "nphd_signed", (R.DESK,), _l("Catat NPHD ditandatangani"), form="nphd"),
    Transition(
        "disburse",
        ("nphd_signed", "disbursed"),
        "disbursed",
        (R.FINANCE,),
        _l("Catat pencairan (SP2D)"),
        form="tranche",
        rules=("tranche_limit",),
    ),
    Transition(
        "submit_lpj",
        ("disbursed",),
        "lpj_submitted",
        (R.APPLICANT,),
        _l("Serahkan LPJ"),
        form="lpj",
        owner=True,
        rules=("fully_disbursed",),
    ),
    Transition(
        "return_lpj",
        ("lpj_submitted",),
        "disbursed",
        (R.OPD_REVIEWER,),
        _l("Kembalikan LPJ untuk diperbaiki"),
        note_required=True,
    ),
    Transition("verify_lpj", ("lpj_submitted",), "lpj_verified", (R.OPD_REVIEWER,), _l("Verifikasi LPJ")),
    Transition("close", ("lpj_verified",), "closed", (R.DESK,), _l("Tutup")),
)

OWNER_ACTIONS = frozenset(t.action for t in _DEFAULTS if t.owner)
STAFF_ACTIONS = tuple(t.action for t in _DEFAULTS if not t.owner)


@dataclass(frozen=True)
class Workflow:
    """The workflow of one region: the default table with the profile's adjustments."""

    transitions: tuple[Transition, ...]
    max_tranches: int
    ageing_warn_days: int
    ageing_alert_days: int

    def get(self, action: str) -> Transition | None:
        return next((t for t in self.transitions if t.action == action), None)

    def from_state(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def states_for_roles(self, roles: set[str]) -> set[str]:
        """States in which a user with these roles has something to do (their work queue)."""
        return {s for t in self.transitions if not t.owner and roles & set(t.roles) for s in t.sources}

    @property
    def used_states(self) -> list[str]:
        used = {"draft"} | {t.target for t in self.transitions} | {s for t in self.transitions for s in t.sources}
        return [code for code in STATES if code in used]


def build(settings: dict[str, Any] | None) -> Workflow:
    """The workflow for a profile's `workflow` section (None or {} gives the defaults)."""
    settings = settings or {}
    overrides: dict[str, list[str]] = settings.get("actions") or {}
    transitions = []
    for t in _DEFAULTS:
        if t.action in overrides and not t.owner:
            t = replace(t, roles=tuple(overrides[t.action]))
        transitions.append(t)
    if settings.get("skip_consideration"):
        transitions = [
            replace(t, target="tapd") if t.target == "consideration" else t
            for t in transitions
            if "consideration" not in t.sources
        ]
    return Workflow(
        transitions=tuple(transitions),
        max_tranches=int(settings.get("max_tranches", 3)),
        ageing_warn_days=int(settings.get("ageing_warn_days", 14)),
        ageing_alert_days=int(settings.get("ageing_alert_days", 30)),
    )


@cache
def _cached(key: str) -> Workflow:
    import json

    return build(json.loads(key))


def for_region(region) -> Workflow:
    """The workflow of the running region (built once per distinct settings)."""
    import json

    return _cached(json.dumps(region.data.get("workflow") or {}, sort_keys=True))
