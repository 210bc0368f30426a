"""The administrator's pages: users and their roles/OPD assignments, settings, and the outbox."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from hibahbansos import audit, current_region, users
from hibahbansos import roles as R
from hibahbansos.auth import roles_required
from hibahbansos.db import get_db
from hibahbansos.hibah import outbox, settings
from hibahbansos.hibah.forms import SettingsForm, UserForm, options
from hibahbansos.hibah.views.account import password_problem

bp = Blueprint("hibah_admin", __name__, url_prefix="/admin")


def _user_form(data: dict | None = None) -> UserForm:
    form = UserForm(data=data) if data is not None else UserForm()
    form.roles.choices = options([(code, str(role.label)) for code, role in R.ROLES.items()])
    form.opd_code.choices = options([("", _("Tidak ada"))] + [(o["code"], o["name"]) for o in current_region().opd])
    return form


def _roles_from(form: UserForm) -> dict[str, str | None] | None:
    chosen = form.roles.data or []
    if not chosen:
        form.roles.errors = [*form.roles.errors, _("Pilih sekurang-kurangnya satu peran.")]
        return None
    if R.OPD_REVIEWER in chosen and not form.opd_code.data:
        form.opd_code.errors = [*form.opd_code.errors, _("Penilai OPD teknis harus ditugaskan ke satu OPD.")]
        return None
    return {r: (form.opd_code.data if R.ROLES[r].needs_opd else None) for r in chosen}


@bp.route("/pengguna")
@roles_required(R.ADMIN)
def users_index():
    return render_template(
        "hibah/admin/users.html", users=users.list_users(get_db()), roles=R.ROLES, opd=current_region().opd_by_code
    )


@bp.route("/pengguna/baru", methods=["GET", "POST"])
@roles_required(R.ADMIN)
def new_user():
    form = _user_form()
    if form.validate_on_submit():
        roles = _roles_from(form)
        problem = password_problem(form.password.data or "")
        if problem:
            form.password.errors = [*form.password.errors, problem]
        if roles is not None and not problem:
            try:
                uid = users.create_user(
                    get_db(),
                    form.username.data,
                    form.password.data,
                    form.full_name.data,
                    form.email.data or None,
                    roles,
                )
            except users.UserError:
                form.username.errors = [*form.username.errors, _("Nama pengguna ini sudah dipakai atau tidak sah.")]
            else:
                audit.record(
                    get_db(), "admin.user.create", subject_type="user", subject_id=uid, detail={"roles": sorted(roles)}
                )
                flash(_("Pengguna dibuat."), "success")
                return redirect(url_for("hibah_admin.users_index"))
    return render_template("hibah/admin/user_form.html", form=form, user=None), 400 if form.errors else 200


@bp.route("/pengguna/<int:user_id>", methods=["GET", "POST"])
@roles_required(R.ADMIN)
def edit_user(user_id: int):
    db = get_db()
    user = users.get_user(db, user_id)
    if user is None:
        abort(404)
    if request.method == "GET":
        form = _user_form(
            {
                "username": user.username,
                "full_name": user.full_name,
                "email": user.email,
                "roles": list(user.roles),
                "opd_code": user.opd_code or "",
                "is_active": user.is_active,
            }
        )
    else:
        form = _user_form()
        form.username.data = user.username
    if request.method == "POST" and form.validate_on_submit():
        roles = _roles_from(form)
        removing_last_admin = (
            R.ADMIN in user.roles
            and (R.ADMIN not in (roles or {}) or not form.is_active.data)
            and users.count_admins(db) <= 1
        )
        if removing_last_admin:
            form.roles.errors = [*form.roles.errors, _("Ini administrator terakhir; buat administrator lain dulu.")]
        elif roles is not None:
            problem = password_problem(form.password.data) if form.password.data else None
            if problem:
                form.password.errors = [*form.password.errors, problem]
            else:
                users.update_user(db, user.id, form.full_name.data, form.email.data or None, form.is_active.data)
                users.set_roles(db, user.id, roles)
                if form.password.data:
                    users.set_password(db, user.id, form.password.data)
                audit.record(
                    db,
                    "admin.user.update",
                    subject_type="user",
                    subject_id=user.id,
                    detail={
                        "roles": sorted(roles),
                        "active": bool(form.is_active.data),
                        "password_reset": bool(form.password.data),
                        "opd": form.opd_code.data or None,
                    },
                )
                flash(_("Perubahan tersimpan."), "success")
                return redirect(url_for("hibah_admin.users_index"))
    return render_template("hibah/admin/user_form.html", form=form, user=user), 400 if form.errors else 200


@bp.route("/pengaturan", methods=["GET", "POST"])
@roles_required(R.ADMIN)
def settings_page():
    db = get_db()
    if request.method == "GET":
        form = SettingsForm(
            data={
                "intake_open": settings.get_bool(db, "intake_open"),
                "announcement": settings.get(db, "announcement"),
                "regulations": settings.get(db, "regulations"),
            }
        )
    else:
        form = SettingsForm()
    if form.validate_on_submit():
        changed = settings.set_many(
            db,
            {
                "intake_open": "1" if form.intake_open.data else "0",
                "announcement": (form.announcement.data or "").strip(),
                "regulations": (form.regulations.data or "").strip(),
            },
            g.user.id,
        )
        flash(_("Pengaturan tersimpan.") if changed else _("Tidak ada perubahan."), "success")
        return redirect(url_for("hibah_admin.settings_page"))
    return render_template("hibah/admin/settings.html", form=form)


@bp.route("/kotak-keluar")
@roles_required(R.ADMIN)
def outbox_page():
    region = current_region()
    try:
        before = int(request.args.get("sebelum", 0)) or None
    except ValueError:
        before = None
    messages = outbox.recent(get_db(), 50, before)
    # Recipients' addresses are personal data: opening the outbox is on the record.
    audit.record(get_db(), "hibah.personal_data.view", subject_type="outbox", detail={"messages": len(messages)})
    return render_template("hibah/admin/outbox.html", messages=messages, smtp=outbox.smtp_configured(region))
