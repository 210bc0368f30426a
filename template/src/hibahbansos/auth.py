"""Logging in and out, sessions that expire, login throttling, and role checks for views.

Views declare who may use them with `@roles_required(...)`; anything not declared is refused
(fail closed). CSRF protection covers every POST form (Flask-WTF's CSRFProtect).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from hibahbansos import audit, users
from hibahbansos.db import get_db, transaction

bp = Blueprint("auth", __name__)
csrf = CSRFProtect()


class LoginForm(FlaskForm):
    username = StringField("Nama pengguna", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Kata sandi", validators=[DataRequired(), Length(max=200)])


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def load_user() -> None:
    """Load g.user from the session; end sessions past their absolute lifetime."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    started = session.get("login_at")
    limit = dt.timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    if not started or _utcnow() - dt.datetime.fromisoformat(started) > limit:
        session.clear()
        return
    user = users.get_user(get_db(), user_id)
    if user is None or not user.is_active:
        session.clear()
        return
    g.user = user


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def roles_required(*roles: str) -> Callable:
    """Allow the view only to logged-in users holding one of `roles`; others get 403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = g.get("user")
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if not user.has(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped

    return decorator


def _throttled(db, username: str, ip: str | None) -> bool:
    cfg = current_app.config
    since = (_utcnow() - dt.timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])).isoformat(timespec="seconds")
    by_user = db.execute(
        "SELECT COUNT(*) FROM login_attempts WHERE username = ? AND ok = 0 AND at >= ?", [username, since]
    ).fetchone()[0]
    by_ip = db.execute(
        "SELECT COUNT(*) FROM login_attempts WHERE ip = ? AND ok = 0 AND at >= ?", [ip, since]
    ).fetchone()[0]
    limit = cfg["LOGIN_MAX_FAILURES"]
    return by_user >= limit or by_ip >= limit * 4


def _note_attempt(db, username: str, ip: str | None, ok: bool) -> None:
    with transaction(db):
        db.execute(
            "INSERT INTO login_attempts (username, ip, at, ok) VALUES (?, ?, ?, ?)",
            [username, ip, _utcnow().isoformat(timespec="seconds"), int(ok)],
        )


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        db = get_db()
        username = form.username.data.strip().lower()
        ip = request.remote_addr
        if _throttled(db, username, ip):
            minutes = current_app.config["LOGIN_WINDOW_MINUTES"]
            form.username.errors.append(
                _("Terlalu banyak percobaan gagal. Coba lagi dalam %(minutes)d menit.", minutes=minutes)
            )
            return render_template("auth/login.html", form=form), 429
        user = users.authenticate(db, username, form.password.data)
        _note_attempt(db, username, ip, user is not None)
        if user is None:
            form.password.errors.append(_("Nama pengguna atau kata sandi salah."))
            return render_template("auth/login.html", form=form), 401
        session.clear()
        session.permanent = True
        session["user_id"] = user.id
        session["login_at"] = _utcnow().isoformat()
        g.user = user
        audit.record(db, "auth.login", subject_type="user", subject_id=user.id)
        target = request.args.get("next") or ""
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("public.home")
        return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.route("/keluar", methods=["POST"])
def logout():
    if g.get("user") is not None:
        audit.record(get_db(), "auth.logout", subject_type="user", subject_id=g.user.id)
    session.clear()
    flash(_("Anda telah keluar."), "info")
    return redirect(url_for("public.home"))


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.before_request(load_user)

    @app.context_processor
    def _user() -> dict:
        return {"current_user": g.get("user")}
