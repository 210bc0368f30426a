"""Languages: Bahasa Indonesia by default (or the profile's locale), English available.

Messages are written in Indonesian in the code and templates (`_("...")`); the English
catalog lives in translations/en. A user's choice is kept in the session.
"""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel

LANGUAGES = ("id", "en")


def select_locale() -> str:
    """The session's language, else the region's; outside a request (CLI, threads) the region's."""
    if not has_request_context():
        return current_app.extensions["hibahbansos.region"].locale
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return current_app.extensions["hibahbansos.region"].locale


def select_timezone() -> str:
    return current_app.extensions["hibahbansos.region"].timezone


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)

    @app.context_processor
    def _languages() -> dict:
        return {"languages": LANGUAGES, "current_lang": select_locale(), "current_path": request.full_path.rstrip("?")}
