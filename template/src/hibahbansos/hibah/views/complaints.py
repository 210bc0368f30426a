"""Complaints received from the public: the desk answers, the inspector reads."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from hibahbansos import audit
from hibahbansos import roles as R
from hibahbansos.auth import roles_required
from hibahbansos.db import get_db
from hibahbansos.hibah import complaints
from hibahbansos.hibah.forms import ComplaintResponseForm, options
from hibahbansos.hibah.views import COMPLAINT_READERS

bp = Blueprint("hibah_complaints", __name__)


def _status_choices() -> list:
    return options([("baru", _("Baru")), ("diproses", _("Diproses")), ("selesai", _("Selesai"))])


@bp.route("/pengaduan-masuk")
@roles_required(*COMPLAINT_READERS)
def index():
    status = request.args.get("status") or None
    if status not in (None, *complaints.STATUSES):
        status = None
    return render_template("hibah/complaints/index.html", rows=complaints.listing(get_db(), status), status=status)


@bp.route("/pengaduan-masuk/<int:complaint_id>", methods=["GET", "POST"])
@roles_required(*COMPLAINT_READERS)
def detail(complaint_id: int):
    item = complaints.get(get_db(), complaint_id)
    if item is None:
        abort(404)
    form = ComplaintResponseForm(data={"status": item["status"], "response": item["response"]})
    form.status.choices = _status_choices()
    if request.method == "GET" and (item["name"] or item["contact"]):
        # The complainant's name and contact are personal data: each view is on the record.
        audit.record(
            get_db(),
            "hibah.personal_data.view",
            subject_type="complaint",
            subject_id=item["id"],
            detail={"fields": ["name", "contact"]},
        )
    if request.method == "POST":
        if not g.user.has(R.DESK):
            abort(403)
        form = ComplaintResponseForm()
        form.status.choices = _status_choices()
        if form.validate_on_submit():
            complaints.respond(get_db(), item["id"], form.status.data, form.response.data or "", g.user.id)
            flash(_("Jawaban tersimpan."), "success")
            return redirect(url_for("hibah_complaints.detail", complaint_id=item["id"]))
    return render_template("hibah/complaints/detail.html", item=item, form=form, can_answer=g.user.has(R.DESK))
