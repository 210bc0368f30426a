"""Eligibility and budget rules, each a named check that refuses with a message saying why.

The workflow names which rules a transition checks (`Transition.rules`); `check()` runs them in
that order inside the transition's transaction, so what a rule reads cannot change before the
transition writes. The values come from the region's profile (`rules` section):
organisation age, domicile and secretariat, no funding in consecutive years unless allowed,
no overdue LPJ, and the programme's yearly ceiling (pagu), which approvals never exceed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hibahbansos.errors import RuleViolation
from hibahbansos.templating import rupiah


@dataclass
class RuleContext:
    """What a rule may look at: the proposal (as stored), its organisation, the region."""

    db: sqlite_utils.Database
    region: Any
    workflow: Any
    proposal: Any
    organisation: Any
    today: dt.date
    amount: int | None = None  # the amount being approved or disbursed


@dataclass(frozen=True)
class Rule:
    code: str
    label: Any
    check: Callable[[RuleContext], str | None]  # returns the refusal detail, or None


def _refuse(rule: Rule, detail: str) -> RuleViolation:
    return RuleViolation(rule.code, _('Ditolak oleh aturan "%(rule)s": %(detail)s', rule=rule.label, detail=detail))


def _intake_open(ctx: RuleContext) -> str | None:
    from hibahbansos.hibah import settings

    if not settings.get_bool(ctx.db, "intake_open"):
        return _("penerimaan proposal sedang ditutup oleh administrator.")
    return None


def _rab_present(ctx: RuleContext) -> str | None:
    if ctx.proposal.requested_amount <= 0:
        return _("RAB belum diisi; jumlah yang diusulkan adalah jumlah baris RAB.")
    return None


def _documents_complete(ctx: RuleContext) -> str | None:
    from hibahbansos.hibah import proposals

    missing = proposals.missing_documents(ctx.db, ctx.region, ctx.proposal)
    if missing:
        return _("dokumen wajib belum diunggah: %(docs)s.", docs=", ".join(d["name"] for d in missing))
    return None


def _org_age(ctx: RuleContext) -> str | None:
    need = ctx.region.rules["min_org_age_years"]
    age = ctx.organisation.age_years(ctx.today)
    if age < need:
        return _(
            "lembaga harus berbadan hukum sekurang-kurangnya %(need)d tahun; terdaftar %(age)d tahun (sejak %(date)s).",
            need=need,
            age=age,
            date=ctx.organisation.legal_date,
        )
    return None


def _domicile(ctx: RuleContext) -> str | None:
    if ctx.region.rules.get("require_domicile", True) and not ctx.organisation.domiciled:
        return _("lembaga harus berdomisili di %(name)s.", name=ctx.region.name)
    return None


def _secretariat(ctx: RuleContext) -> str | None:
    if ctx.region.rules.get("require_secretariat", True) and not ctx.organisation.has_secretariat:
        return _("lembaga harus memiliki sekretariat tetap di %(name)s.", name=ctx.region.name)
    return None


def _previous_year(ctx: RuleContext) -> str | None:
    if ctx.region.rules.get("allow_consecutive_funding", False):
        return None
    from hibahbansos.hibah.workflow import RECIPIENT_STATES

    marks = ", ".join("?" * len(RECIPIENT_STATES))
    funded = ctx.db.execute(
        f"SELECT 1 FROM proposals WHERE organisation_id = ? AND budget_year = ? AND state IN ({marks}) LIMIT 1",
        [ctx.organisation.id, ctx.proposal.budget_year - 1, *RECIPIENT_STATES],
    ).fetchone()
    if funded:
        return _(
            "lembaga sudah menerima hibah pada tahun anggaran %(year)d; daerah ini tidak mengizinkan hibah berturut-turut.",
            year=ctx.proposal.budget_year - 1,
        )
    return None


def _overdue_lpj(ctx: RuleContext) -> str | None:
    if not ctx.region.rules.get("block_overdue_lpj", True):
        return None
    row = ctx.db.execute(
        "SELECT tracking_no, lpj_due_date FROM proposals WHERE organisation_id = ? AND state = 'disbursed'"
        " AND lpj_due_date < ? ORDER BY lpj_due_date LIMIT 1",
        [ctx.organisation.id, ctx.today.isoformat()],
    ).fetchone()
    if row:
        return _(
            "LPJ hibah %(no)s belum diserahkan dan sudah lewat batas waktu %(due)s; serahkan LPJ terlebih dahulu.",
            no=row[0],
            due=row[1],
        )
    return None


def _ceiling(ctx: RuleContext) -> str | None:
    from hibahbansos.hibah.workflow import RECIPIENT_STATES

    programme = next((p for p in ctx.region.hibah_programmes if p["code"] == ctx.proposal.programme_code), None)
    if programme is None:
        return _("program %(code)s tidak ada dalam profil daerah.", code=ctx.proposal.programme_code)
    marks = ", ".join("?" * len(RECIPIENT_STATES))
    used = ctx.db.execute(
        f"SELECT COALESCE(SUM(approved_amount), 0) FROM proposals WHERE programme_code = ? AND budget_year = ?"
        f" AND state IN ({marks}) AND id != ?",
        [programme["code"], ctx.proposal.budget_year, *RECIPIENT_STATES, ctx.proposal.id],
    ).fetchone()[0]
    amount = ctx.amount or 0
    if used + amount > programme["ceiling"]:
        return _(
            "penetapan %(amount)s membuat total %(total)s melebihi pagu %(programme)s sebesar %(ceiling)s"
            " (sisa pagu %(left)s).",
            amount=rupiah(amount),
            total=rupiah(used + amount),
            programme=programme["name"],
            ceiling=rupiah(programme["ceiling"]),
            left=rupiah(max(programme["ceiling"] - used, 0)),
        )
    return None


def _tranche_limit(ctx: RuleContext) -> str | None:
    p = ctx.proposal
    count = ctx.db.execute("SELECT COUNT(*) FROM disbursements WHERE proposal_id = ?", [p.id]).fetchone()[0]
    if count >= ctx.workflow.max_tranches:
        return _("hibah ini sudah dicairkan dalam %(n)d tahap, batas daerah ini.", n=count)
    amount = ctx.amount or 0
    if p.disbursed_amount + amount > (p.approved_amount or 0):
        return _(
            "pencairan %(amount)s membuat total %(total)s melebihi nilai yang ditetapkan %(approved)s.",
            amount=rupiah(amount),
            total=rupiah(p.disbursed_amount + amount),
            approved=rupiah(p.approved_amount),
        )
    return None


def _fully_disbursed(ctx: RuleContext) -> str | None:
    p = ctx.proposal
    if p.disbursed_amount < (p.approved_amount or 0):
        return _(
            "LPJ diserahkan setelah seluruh hibah dicairkan; baru %(done)s dari %(approved)s.",
            done=rupiah(p.disbursed_amount),
            approved=rupiah(p.approved_amount),
        )
    return None


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule("intake_open", _l("Masa penerimaan proposal"), _intake_open),
        Rule("rab_present", _l("RAB terisi"), _rab_present),
        Rule("documents_complete", _l("Kelengkapan dokumen"), _documents_complete),
        Rule("org_age", _l("Usia badan hukum lembaga"), _org_age),
        Rule("domicile", _l("Domisili lembaga"), _domicile),
        Rule("secretariat", _l("Sekretariat tetap"), _secretariat),
        Rule("previous_year", _l("Tidak menerima hibah tahun sebelumnya"), _previous_year),
        Rule("overdue_lpj", _l("Tidak ada LPJ yang terlambat"), _overdue_lpj),
        Rule("ceiling", _l("Pagu program"), _ceiling),
        Rule("tranche_limit", _l("Batas pencairan"), _tranche_limit),
        Rule("fully_disbursed", _l("Hibah telah dicairkan penuh"), _fully_disbursed),
    )
}


def check(ctx: RuleContext, codes: tuple[str, ...]) -> None:
    """Run the named rules in order; raises RuleViolation from the first that refuses."""
    for code in codes:
        rule = RULES[code]
        detail = rule.check(ctx)
        if detail:
            raise _refuse(rule, detail)


def failing(ctx: RuleContext, codes: tuple[str, ...]) -> list[tuple[str, str]]:
    """Every rule that would refuse, as (code, message): shown before the applicant submits."""
    out = []
    for code in codes:
        detail = RULES[code].check(ctx)
        if detail:
            out.append((code, str(_refuse(RULES[code], detail))))
    return out
