"""The applicant's pages: their organisations, proposal drafts, RAB and documents."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from hibahbansos import current_paths, current_region, uploads
from hibahbansos import roles as R
from hibahbansos.auth import roles_required
from hibahbansos.db import get_db
from hibahbansos.errors import InvalidInput, NotAllowed
from hibahbansos.hibah import organisations, proposals, rules
from hibahbansos.hibah.forms import OrganisationForm, ProposalForm, RabForm, UploadForm, options
from hibahbansos.hibah.workflow import for_region
from hibahbansos.templating import rupiah

bp = Blueprint("hibah_applicant", __name__)

# The organisation's stored fields the form edits as they are: the legal date is converted, the
# district name is looked up from its code.
_ORG_FORM_FIELDS = tuple(f for f in organisations.FIELDS if f not in ("district_name", "legal_date"))
_OFFICER_FIELDS = {
    "ketua": ("chair_name", "chair_nik"),
    "sekretaris": ("secretary_name", "secretary_nik"),
    "bendahara": ("treasurer_name", "treasurer_nik"),
}


def store_upload(field) -> int | None:
    """Store the file of a FileField; returns its id, or None after adding the reason to the field."""
    region = current_region()
    try:
        stored = uploads.store(
            get_db(),
            field.data.stream,
            field.data.filename,
            current_paths().uploads,
            region.uploads["max_mb"] * 1024 * 1024,
            g.user.id,
        )
    except uploads.UploadRejected as exc:
        field.errors = [*field.errors, str(exc)]
        return None
    return stored.id


def _own_org(org_id: int) -> organisations.Organisation:
    org = organisations.get(get_db(), org_id)
    if org is None or org.owner_id != g.user.id:
        abort(404)
    return org


def _own_proposal(proposal_id: int) -> proposals.Proposal:
    p = proposals.get(get_db(), proposal_id)
    if p is None or p.applicant_id != g.user.id:
        abort(404)
    return p


def _org_form(org: organisations.Organisation | None = None) -> OrganisationForm:
    region = current_region()
    form = OrganisationForm(obj=None)
    if org is not None and request.method == "GET":
        form = OrganisationForm(
            data={
                **{k: getattr(org, k) for k in _ORG_FORM_FIELDS},
                "legal_date": dt.date.fromisoformat(org.legal_date),
                **{fields[0]: org.officers.get(pos, {}).get("name") for pos, fields in _OFFICER_FIELDS.items()},
                **{fields[1]: org.officers.get(pos, {}).get("nik") for pos, fields in _OFFICER_FIELDS.items()},
            }
        )
    form.kind.choices = options([("", _("Pilih..."))] + [(k, str(v)) for k, v in organisations.KINDS.items()])
    form.district_code.choices = options([("", _("Pilih..."))] + list(organisations.districts(region.kode)))
    return form


def _save_org(form: OrganisationForm, org_id: int | None) -> int | None:
    data = {k: getattr(form, k).data for k in _ORG_FORM_FIELDS}
    data["legal_date"] = form.legal_date.data.isoformat()
    region = current_region()
    if form.legal_date.data > region.today():
        form.legal_date.errors = [*form.legal_date.errors, _("Tanggal tidak boleh di masa depan.")]
        return None
    officers = {
        pos: {"name": getattr(form, f[0]).data.strip(), "nik": getattr(form, f[1]).data}
        for pos, f in _OFFICER_FIELDS.items()
    }
    try:
        return organisations.save(get_db(), g.user.id, data, officers, region.kode, org_id)
    except InvalidInput as exc:
        getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, str(exc)]
        return None


@bp.route("/lembaga")
@roles_required(R.APPLICANT)
def my_organisations():
    return render_template("hibah/applicant/organisations.html", orgs=organisations.owned_by(get_db(), g.user.id))


@bp.route("/lembaga/baru", methods=["GET", "POST"])
@roles_required(R.APPLICANT)
def new_organisation():
    form = _org_form()
    if form.validate_on_submit():
        org_id = _save_org(form, None)
        if org_id:
            flash(_("Lembaga tersimpan. Unggah dokumen legalitasnya."), "success")
            return redirect(url_for("hibah_applicant.organisation", org_id=org_id))
    return render_template("hibah/applicant/organisation_form.html", form=form, org=None), 400 if form.errors else 200


@bp.route("/lembaga/<int:org_id>/ubah", methods=["GET", "POST"])
@roles_required(R.APPLICANT)
def edit_organisation(org_id: int):
    org = _own_org(org_id)
    form = _org_form(org)
    if form.validate_on_submit() and _save_org(form, org.id):
        flash(_("Perubahan tersimpan."), "success")
        return redirect(url_for("hibah_applicant.organisation", org_id=org.id))
    return render_template("hibah/applicant/organisation_form.html", form=form, org=org), 400 if form.errors else 200


@bp.route("/lembaga/<int:org_id>", methods=["GET", "POST"])
@roles_required(R.APPLICANT)
def organisation(org_id: int):
    org = _own_org(org_id)
    form = UploadForm()
    form.doc_code.choices = options([(k, str(v)) for k, v in organisations.LEGAL_DOCUMENTS.items()])
    if form.validate_on_submit():
        file_id = store_upload(form.file)
        if file_id:
            organisations.attach_document(get_db(), org.id, form.doc_code.data, file_id)
            flash(_("Dokumen tersimpan."), "success")
            return redirect(url_for("hibah_applicant.organisation", org_id=org.id))
    docs = organisations.documents(get_db(), org.id)
    return render_template(
        "hibah/applicant/organisation.html", org=org, docs=docs, form=form, legal=organisations.LEGAL_DOCUMENTS
    ), 400 if form.errors else 200


@bp.route("/proposal-saya")
@roles_required(R.APPLICANT)
def my_proposals():
    rows, _total = proposals.search(get_db(), g.user, per_page=200)
    return render_template(
        "hibah/applicant/proposals.html", rows=rows, orgs=organisations.owned_by(get_db(), g.user.id)
    )


def _proposal_form(p: proposals.Proposal | None = None) -> ProposalForm:
    region = current_region()
    data = None
    if p is not None and request.method == "GET":
        data = {
            "organisation_id": p.organisation_id,
            "programme_code": p.programme_code,
            "opd_code": p.opd_code,
            "title": p.title,
            "purpose": p.purpose,
        }
    form = ProposalForm(data=data)
    form.organisation_id.choices = options([(o.id, o.name) for o in organisations.owned_by(get_db(), g.user.id)])
    form.programme_code.choices = options(
        [("", _("Pilih..."))] + [(x["code"], x["name"]) for x in region.hibah_programmes]
    )
    form.opd_code.choices = options(
        [("", _("Pilih..."))]
        + [
            (code, region.opd_by_code[code]["name"])
            for code in dict.fromkeys(c for x in region.hibah_programmes for c in x["opd"])
        ]
    )
    return form


@bp.route("/proposal/baru", methods=["GET", "POST"])
@roles_required(R.APPLICANT)
def new_proposal():
    form = _proposal_form()
    if not form.organisation_id.choices:
        flash(_("Daftarkan lembaga Anda terlebih dahulu."), "info")
        return redirect(url_for("hibah_applicant.new_organisation"))
    if form.validate_on_submit():
        try:
            pid = proposals.create_draft(
                get_db(),
                current_region(),
                g.user,
                form.organisation_id.data,
                {
                    "programme_code": form.programme_code.data,
                    "opd_code": form.opd_code.data,
                    "title": form.title.data,
                    "purpose": form.purpose.data,
                },
            )
        except InvalidInput as exc:
            getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, str(exc)]
        except NotAllowed as exc:
            form.organisation_id.errors = [*form.organisation_id.errors, str(exc)]
        else:
            flash(_("Konsep proposal tersimpan. Isi RAB dan unggah dokumennya."), "success")
            return redirect(url_for("hibah_applicant.edit_rab", proposal_id=pid))
    return render_template("hibah/applicant/proposal_form.html", form=form, p=None), 400 if form.errors else 200


@bp.route("/proposal/<int:proposal_id>/ubah", methods=["GET", "POST"])
@roles_required(R.APPLICANT)
def edit_proposal(proposal_id: int):
    p = _own_proposal(proposal_id)
    form = _proposal_form(p)
    form.organisation_id.choices = options([(p.organisation_id, organisations.get(get_db(), p.organisation_id).name)])
    if form.validate_on_submit():
        try:
            proposals.update_draft(
                get_db(),
                current_region(),
                g.user,
                p.id,
                {
                    "programme_code": form.programme_code.data,
                    "opd_code": form.opd_code.data,
                    "title": form.title.data,
                    "purpose": form.purpose.data,
                },
            )
        except InvalidInput as exc:
            getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, str(exc)]
        except NotAllowed as exc:
            flash(str(exc), "error")
        else:
            flash(_("Perubahan tersimpan."), "success")
            return redirect(url_for("hibah_proposals.detail", proposal_id=p.id))
    return render_template("hibah/applicant/proposal_form.html", form=form, p=p), 400 if form.errors else 200


@bp.route("/proposal/<int:proposal_id>/rab", methods=["GET", "POST"])
@roles_required(R.APPLICANT)
def edit_rab(proposal_id: int):
    p = _own_proposal(proposal_id)
    current = proposals.rab(get_db(), p.id)
    if request.method == "GET":
        form = RabForm(
            data={
                "lines": [{k: line[k] for k in ("description", "quantity", "unit", "unit_price")} for line in current]
            }
        )
    else:
        form = RabForm()
    while len(form.lines) < len(current) + 3 or len(form.lines) < 5:
        form.lines.append_entry()
    if request.method == "POST" and request.form.get("more"):
        for _i in range(5):
            form.lines.append_entry()
        return render_template("hibah/applicant/rab.html", form=form, p=p)
    if form.validate_on_submit():
        lines = [
            {k: getattr(entry.form, k).data for k in ("description", "quantity", "unit", "unit_price")}
            for entry in form.lines
        ]
        try:
            total = proposals.save_rab(get_db(), g.user, p.id, lines)
        except InvalidInput as exc:
            _attach_rab_error(form, exc)
        except NotAllowed as exc:
            flash(str(exc), "error")
        else:
            flash(_("RAB tersimpan. Jumlah yang diusulkan: %(total)s.", total=rupiah(total)), "success")
            return redirect(url_for("hibah_applicant.documents", proposal_id=p.id))
    return render_template("hibah/applicant/rab.html", form=form, p=p), 400 if form.errors else 200


def _attach_rab_error(form, exc: InvalidInput) -> None:
    """Put an error on the RAB row and column it names (field `rab-<row>-<column>`)."""
    parts = exc.field.split("-")
    if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(form.lines):
        field = getattr(form.lines[int(parts[1])].form, parts[2])
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


@bp.route("/proposal/<int:proposal_id>/dokumen", methods=["GET", "POST"])
@roles_required(R.APPLICANT)
def documents(proposal_id: int):
    p = _own_proposal(proposal_id)
    region = current_region()
    form = UploadForm()
    form.doc_code.choices = options([(d["code"], d["name"]) for d in region.documents["hibah"]])
    if form.validate_on_submit():
        file_id = store_upload(form.file)
        if file_id:
            try:
                proposals.attach_document(get_db(), region, g.user, p.id, form.doc_code.data, file_id)
            except (InvalidInput, NotAllowed) as exc:
                flash(str(exc), "error")
            else:
                flash(_("Dokumen tersimpan."), "success")
                return redirect(url_for("hibah_applicant.documents", proposal_id=p.id))
    checklist = proposals.checklist(get_db(), region, p)
    wf = for_region(region)
    problems = []
    step = wf.get("submit" if p.state == "draft" else "resubmit")
    if p.state in ("draft", "revision") and step is not None:
        org = organisations.get(get_db(), p.organisation_id)
        ctx = rules.RuleContext(get_db(), region, wf, p, org, region.today())
        problems = rules.failing(ctx, step.rules)
    return render_template(
        "hibah/applicant/documents.html", p=p, form=form, checklist=checklist, problems=problems, step=step
    ), 400 if form.errors else 200
