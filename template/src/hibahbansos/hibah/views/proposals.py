"""A proposal's page for everyone allowed to see it, its workflow steps, documents and NPHD.

Read access is `proposals.can_view` (owner, roles that see all, reviewers of its OPD); each
step is checked again by `proposals.perform`. Downloads and reveals of personal data are
written to the audit chain before the bytes or the number leave the server.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from hibahbansos import audit, current_paths, current_region, identifiers, uploads
from hibahbansos import roles as R
from hibahbansos.auth import roles_required
from hibahbansos.db import get_db
from hibahbansos.errors import InvalidInput, NotAllowed, RuleViolation
from hibahbansos.hibah import amounts, nphd, organisations, outbox, proposals
from hibahbansos.hibah.forms import TRANSITION_FORMS, RevealForm
from hibahbansos.hibah.views import PROPOSAL_USERS, READERS
from hibahbansos.hibah.views.applicant import store_upload
from hibahbansos.hibah.workflow import STATES, for_region

bp = Blueprint("hibah_proposals", __name__)
# Roles whose work needs the officers' identity numbers (checking KTP against the akta).
REVEAL_ROLES = (R.DESK, R.OPD_REVIEWER, R.INSPECTOR)


def _visible(proposal_id: int) -> proposals.Proposal:
    p = proposals.get(get_db(), proposal_id)
    if p is None:
        abort(404)
    if not proposals.can_view(g.user, p):
        abort(403)
    return p


def _step_form(t, p: proposals.Proposal, posted: bool = False):
    """The form of step `t`: from the request when `posted`, else prefilled from the proposal."""
    form_cls = TRANSITION_FORMS[t.form]
    kwargs = {"prefix": t.action}
    if not posted:
        if t.form == "recommend":
            kwargs["data"] = {
                "lines": [
                    {k: x[k] for k in ("description", "quantity", "unit", "unit_price")}
                    for x in proposals.rab(get_db(), p.id)
                ]
            }
        elif t.form == "tapd":
            kwargs["data"] = {"amount": p.recommended_amount}
        elif t.form == "decree":
            kwargs["data"] = {"amount": p.tapd_amount}
        elif t.form == "tranche":
            kwargs["data"] = {"amount": (p.approved_amount or 0) - p.disbursed_amount}
        elif t.form == "lpj":
            kwargs["data"] = {"accounted_amount": p.disbursed_amount}
        return form_cls(formdata=None, **kwargs)
    return form_cls(**kwargs)


def _render(p: proposals.Proposal, forms: dict | None = None, status: int = 200):
    region = current_region()
    db = get_db()
    wf = for_region(region)
    steps = proposals.available(g.user, p, wf)
    forms = forms or {}
    for t in steps:
        forms.setdefault(t.action, _step_form(t, p))
    org = organisations.get(db, p.organisation_id)
    programme = next((x for x in region.hibah_programmes if x["code"] == p.programme_code), {"name": p.programme_code})
    return render_template(
        "hibah/proposals/detail.html",
        p=p,
        org=org,
        programme=programme,
        opd=region.opd_by_code.get(p.opd_code, {}),
        steps=steps,
        forms=forms,
        trail=amounts.trail(db, p.id),
        history=proposals.history(db, p.id),
        rab=proposals.rab(db, p.id),
        rab_versions=proposals.rab_versions(db, p.id),
        checklist=proposals.checklist(db, region, p),
        own_docs=proposals.documents(db, p.id),
        tranches=proposals.disbursements(db, p.id),
        lpj=proposals.lpj_reports(db, p.id),
        states=STATES,
        reveal_form=RevealForm(prefix="reveal"),
        can_reveal=g.user.has(*REVEAL_ROLES),
        mask=identifiers.mask_nik,
        mask_phone=identifiers.mask_phone,
        today=region.today(),
        is_owner=p.applicant_id == g.user.id,
        wf=wf,
    ), status


@bp.route("/usulan")
@roles_required(*READERS)
def index():
    region = current_region()
    try:
        page = max(int(request.args.get("hal", 1)), 1)
        year = int(request.args.get("tahun") or region.budget_year)
    except ValueError:
        abort(400)
    state = request.args.get("status") or None
    if state and state not in STATES:
        state = None
    rows, total = proposals.search(
        get_db(),
        g.user,
        year=year,
        state=state,
        opd=request.args.get("opd") or None,
        programme=request.args.get("program") or None,
        page=page,
    )
    return render_template(
        "hibah/proposals/index.html",
        rows=rows,
        total=total,
        page=page,
        year=year,
        state=state,
        states=STATES,
        per_page=50,
    )


@bp.route("/usulan/<int:proposal_id>")
@roles_required(*PROPOSAL_USERS)
def detail(proposal_id: int):
    return _render(_visible(proposal_id))


@bp.route("/usulan/<int:proposal_id>/langkah/<action>", methods=["POST"])
@roles_required(*PROPOSAL_USERS)
def step(proposal_id: int, action: str):
    p = _visible(proposal_id)
    region = current_region()
    t = for_region(region).get(action)
    if t is None:
        abort(404)
    form = _step_form(t, p, posted=True)
    if not form.validate():
        flash(_('Periksa isian pada langkah "%(step)s".', step=t.label), "error")
        return _render(p, {action: form}, 400)
    data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "file", "lines")}
    if t.form == "recommend":
        data["lines"] = [
            {k: getattr(e.form, k).data for k in ("description", "quantity", "unit", "unit_price")} for e in form.lines
        ]
    if "file" in form and form.file.data:
        if proposals.refusal(g.user, p, t):
            abort(403)
        file_id = store_upload(form.file)
        if file_id is None:
            return _render(p, {action: form}, 400)
        data["file_id"] = file_id
    db = get_db()
    try:
        after = proposals.perform(db, region, g.user, p.id, action, data)
    except NotAllowed as exc:
        flash(str(exc), "error")
        return _render(p, {action: form}, 403)
    except RuleViolation as exc:
        flash(str(exc), "error")
        return _render(p, {action: form}, 409)
    except InvalidInput as exc:
        field = exc.field.split("-")[0] if exc.field.startswith("rab") else exc.field
        if field in form:
            form[field].errors = [*form[field].errors, str(exc)]
        else:
            form.form_errors.append(str(exc))
        return _render(p, {action: form}, 400)
    outbox.deliver_pending(db, region)
    if after.tracking_no and action in ("submit", "resubmit"):
        flash(_("Proposal diajukan. Nomor pelacakan Anda: %(no)s. Simpan nomor ini.", no=after.tracking_no), "success")
    else:
        flash(_("Status proposal kini: %(state)s.", state=after.state_label), "success")
    return redirect(url_for("hibah_proposals.detail", proposal_id=p.id))


def _send_stored(file_id: int, subject_type: str, subject_id: int, doc_code: str | None):
    stored = uploads.get(get_db(), file_id)
    if stored is None:
        abort(404)
    try:
        path = uploads.path_of(current_paths().uploads, stored)
    except uploads.UploadRejected:
        abort(404)
    audit.record(
        get_db(),
        "hibah.document.download",
        subject_type=subject_type,
        subject_id=subject_id,
        detail={"file_id": file_id, "doc_code": doc_code},
    )
    return send_file(
        path, mimetype=stored.media_type, as_attachment=True, download_name=stored.original_name, max_age=0
    )


@bp.route("/usulan/<int:proposal_id>/berkas/<int:file_id>")
@roles_required(*PROPOSAL_USERS)
def download(proposal_id: int, file_id: int):
    p = _visible(proposal_id)
    db = get_db()
    row = db.execute(
        "SELECT doc_code FROM proposal_documents WHERE proposal_id = ? AND file_id = ?", [p.id, file_id]
    ).fetchone()
    if row is None:
        row = db.execute(
            "SELECT 'lpj' FROM lpj_reports WHERE proposal_id = ? AND file_id = ?", [p.id, file_id]
        ).fetchone()
    if row is None:
        row = db.execute(
            "SELECT doc_code FROM organisation_documents WHERE organisation_id = ? AND file_id = ?",
            [p.organisation_id, file_id],
        ).fetchone()
    if row is None:
        abort(404)
    return _send_stored(file_id, "proposal", p.id, row[0])


@bp.route("/usulan/<int:proposal_id>/nphd.pdf")
@roles_required(*PROPOSAL_USERS)
def nphd_pdf(proposal_id: int):
    p = _visible(proposal_id)
    if not p.decree_number:
        abort(404)
    region = current_region()
    org = organisations.get(get_db(), p.organisation_id)
    programme = next(x for x in region.hibah_programmes if x["code"] == p.programme_code)
    pdf = nphd.render_pdf(region, p, org, programme, region.opd_by_code[p.opd_code])
    audit.record(
        get_db(), "hibah.document.download", subject_type="proposal", subject_id=p.id, detail={"doc_code": "nphd"}
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f"attachment; filename=NPHD-{p.tracking_no}.pdf",
            "Cache-Control": "no-store",
        },
    )


@bp.route("/lembaga/<int:org_id>/berkas/<int:file_id>")
@roles_required(R.APPLICANT, *READERS)
def organisation_download(org_id: int, file_id: int):
    org = organisations.get(get_db(), org_id)
    if org is None:
        abort(404)
    if org.owner_id != g.user.id and not _staff_sees_org(org.id):
        abort(403)
    row = (
        get_db()
        .execute(
            "SELECT doc_code FROM organisation_documents WHERE organisation_id = ? AND file_id = ?", [org.id, file_id]
        )
        .fetchone()
    )
    if row is None:
        abort(404)
    return _send_stored(file_id, "organisation", org.id, row[0])


def _staff_sees_org(org_id: int) -> bool:
    """Staff may see an organisation when they may see one of its submitted proposals."""
    where, params = proposals.scope_sql(g.user)
    if not g.user.is_staff:
        return False
    return bool(
        get_db()
        .execute(
            f"SELECT 1 FROM proposals p WHERE p.organisation_id = ? AND p.tracking_no IS NOT NULL AND {where} LIMIT 1",
            [org_id, *params],
        )
        .fetchone()
    )


@bp.route("/usulan/<int:proposal_id>/data-pribadi", methods=["POST"])
@roles_required(*REVEAL_ROLES)
def reveal(proposal_id: int):
    """Show the officers' full NIKs and phone once, after a stated reason, and audit it."""
    p = _visible(proposal_id)
    form = RevealForm(prefix="reveal")
    if not form.validate_on_submit():
        flash(_("Tuliskan alasan membuka data pribadi (minimal 5 karakter)."), "error")
        return redirect(url_for("hibah_proposals.detail", proposal_id=p.id))
    org = organisations.get(get_db(), p.organisation_id)
    audit.record(
        get_db(),
        "hibah.personal_data.view",
        subject_type="organisation",
        subject_id=org.id,
        detail={"proposal_id": p.id, "fields": ["officers.nik", "phone"], "reason": form.reason.data},
    )
    return render_template("hibah/proposals/personal_data.html", p=p, org=org)
