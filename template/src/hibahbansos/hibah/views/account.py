"""Self-registration of applicants (pemohon); staff accounts are made by the administrator."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, g, redirect, render_template, session, url_for
from flask_babel import gettext as _

from hibahbansos import audit, current_region, users
from hibahbansos import roles as R
from hibahbansos.db import get_db
from hibahbansos.hibah import outbox
from hibahbansos.hibah.forms import RegisterForm

bp = Blueprint("hibah_account", __name__)


def password_problem(password: str) -> str | None:
    """The strength rule of users.check_password_strength, worded for applicants."""
    if len(password) < users.MIN_PASSWORD_LENGTH:
        return _("Kata sandi minimal %(n)d karakter.", n=users.MIN_PASSWORD_LENGTH)
    if password.lower() == password or password.upper() == password or not any(c.isdigit() for c in password):
        return _("Kata sandi harus memuat huruf besar, huruf kecil dan angka.")
    return None


@bp.route("/daftar", methods=["GET", "POST"])
def register():
    if g.get("user") is not None:
        return redirect(url_for("hibah_applicant.my_proposals"))
    form = RegisterForm()
    if form.validate_on_submit():
        db = get_db()
        problem = password_problem(form.password.data)
        if problem:
            form.password.errors.append(problem)
        elif db.execute("SELECT 1 FROM users WHERE username = ?", [form.username.data.strip().lower()]).fetchone():
            form.username.errors.append(_("Nama pengguna ini sudah dipakai; pilih yang lain."))
        else:
            user_id = users.create_user(
                db,
                form.username.data,
                form.password.data,
                form.full_name.data,
                form.email.data.strip(),
                {R.APPLICANT: None},
            )
            region = current_region()
            audit.record(
                db,
                "user.register",
                subject_type="user",
                subject_id=user_id,
                actor_id=user_id,
                actor=form.username.data.strip().lower(),
            )
            outbox.queue(
                db,
                form.email.data.strip(),
                _("Akun %(app)s Anda", app=region.branding["app_name"]),
                _(
                    "Akun pemohon Anda sudah dibuat dengan nama pengguna %(u)s.\n\n%(office)s",
                    u=form.username.data.strip().lower(),
                    office=region.contact["office"],
                ),
            )
            outbox.deliver_pending(db, region)
            session.clear()
            session.permanent = True
            session["user_id"] = user_id
            session["login_at"] = dt.datetime.now(dt.UTC).isoformat()
            return redirect(url_for("hibah_applicant.new_organisation"))
    status = 400 if form.errors else 200
    return render_template("hibah/account/register.html", form=form), status
