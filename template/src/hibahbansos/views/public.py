"""Pages anyone may see without logging in: home, health, branding, language choice."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)

from hibahbansos import __version__, current_paths, current_region, db
from hibahbansos.i18n import LANGUAGES

bp = Blueprint("public", __name__)


@bp.route("/")
def home():
    return render_template("home.html")


@bp.route("/healthz")
def healthz():
    """Liveness and readiness for the deploy's health gate and for monitoring."""
    region = current_region()
    database = db.status(current_app.config["DATABASE"])
    body = {
        "status": "ok" if database["ok"] else "degraded",
        "app_version": __version__,
        "template_version": current_app.config["TEMPLATE_VERSION"],
        "region": region.slug,
        "database": database,
    }
    return jsonify(body), 200 if database["ok"] else 503


@bp.route("/branding/<path:name>")
def branding(name: str):
    """The region's logo and other branding files (from the instance's branding/ folder)."""
    folder = current_paths().branding
    if not (folder / name).is_file():
        abort(404)
    return send_from_directory(folder, name, max_age=86400)


@bp.route("/custom/<path:name>")
def custom_static(name: str):
    """Static files a region adds in overrides/static/ (never shipped by upstream)."""
    folder = current_paths().overrides / "static"
    if not (folder / name).is_file():
        abort(404)
    return send_from_directory(folder, name, max_age=3600)


@bp.route("/bahasa/<lang>", methods=["POST"])
def set_language(lang: str):
    if lang not in LANGUAGES:
        abort(404)
    session["lang"] = lang
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("public.home")
    return redirect(target)
