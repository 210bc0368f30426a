"""What every template sees: the region, the version, menu entries, and number formats."""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, g, render_template
from flask_babel import format_date
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from hibahbansos import __version__


def rupiah(amount: float | None) -> str:
    """Rp1.250.000 (Indonesian thousands separator; no decimals)."""
    if amount is None:
        return "–"
    return "Rp" + f"{round(amount):,}".replace(",", ".")


def tanggal(value: str | dt.date | dt.datetime | None) -> str:
    """A date in the user's language, e.g. 10 Januari 2028."""
    if not value:
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return format_date(value, format="long")


# Menu entries: each feature area appends (endpoint, label, roles or None for everyone).
NAV: list[tuple[str, object, frozenset[str] | None]] = []


def nav_items() -> list[dict]:
    from flask import url_for

    user = g.get("user")
    items = []
    for endpoint, label, roles in NAV:
        if roles is None or (user is not None and user.has(*roles)):
            items.append({"url": url_for(endpoint), "label": label})
    return items


def init_app(app: Flask) -> None:
    app.add_template_filter(rupiah)
    app.add_template_filter(tanggal)

    @app.context_processor
    def _common() -> dict:
        return {
            "region": current_app.extensions["hibahbansos.region"],
            "app_version": __version__,
            "nav_items": nav_items(),
        }

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        titles = {
            403: _("Akses ditolak"),
            404: _("Halaman tidak ditemukan"),
            413: _("Berkas terlalu besar"),
            429: _("Terlalu banyak permintaan"),
        }
        messages = {
            403: _("Peran Anda tidak mengizinkan halaman atau tindakan ini."),
            404: _("Alamat yang Anda buka tidak ada."),
            413: _("Berkas melebihi batas ukuran unggahan."),
        }
        title = titles.get(exc.code, exc.name)
        message = messages.get(exc.code, _("Permintaan tidak dapat diproses."))
        return render_template("errors/error.html", code=exc.code, title=title, message=message), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Logged with its traceback (no local variables); the page shows nothing of it.
        current_app.logger.exception("unhandled %s", type(exc).__name__)
        return render_template(
            "errors/error.html",
            code=500,
            title=_("Terjadi kesalahan"),
            message=_("Terjadi kesalahan tak terduga dan sudah dicatat. Silakan coba lagi."),
        ), 500
