"""Languages: Bahasa Indonesia by default (or the profile's locale), English available.

Messages are written in Indonesian in the code and templates (`_("...")`); the English
catalog lives in translations/en. A user's choice is kept in the session.
"""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_translations

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


# Templates look up the same few hundred strings on every page; the catalogs never change while
# the process runs, so each (language, string) is translated once. This keeps busy public pages
# (the recipient list) cheap; the result is the same as Flask-Babel's own lookup.
_template_strings: dict[tuple[str, str], str] = {}


def _template_gettext(string: str) -> str:
    key = (select_locale(), string)
    try:
        return _template_strings[key]
    except KeyError:
        value = _template_strings[key] = get_translations().ugettext(string)
        return value


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.install_gettext_callables(
        gettext=_template_gettext,
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
    )

    @app.context_processor
    def _languages() -> dict:
        return {"languages": LANGUAGES, "current_lang": select_locale(), "current_path": request.full_path.rstrip("?")}
