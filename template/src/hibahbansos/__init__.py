"""Hibah & Bansos: regional grants and social assistance, transparent by design.

The same package runs in every region; what differs lives in the instance's region.yml
(see `hibahbansos.region`), its branding/ folder and its overrides/ folder.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.middleware.proxy_fix import ProxyFix

__version__ = "0.1.0"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app for one instance; `test_config` overrides any setting (tests use it).

    Raises ConfigError when region.yml or the data folder cannot be found.
    """
    from hibahbansos import auth, db, i18n, settings, templating
    from hibahbansos.region import Region
    from hibahbansos.views import public

    test_config = dict(test_config or {})
    home = Path(test_config.pop("HOME", None) or settings.find_home())
    data = Path(test_config.pop("DATA", None) or settings.data_dir(home))
    paths = settings.Paths(home=home, data=data)
    region = Region.load(home / settings.REGION_FILE)

    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE=str(paths.database),
        MAX_CONTENT_LENGTH=(region.uploads["max_mb"] + 1) * 1024 * 1024,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=2),
        SESSION_REFRESH_EACH_REQUEST=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME=f"hb_{region.slug}",
        SESSION_ABSOLUTE_HOURS=12,
        WTF_CSRF_TIME_LIMIT=None,
        LOGIN_MAX_FAILURES=5,
        LOGIN_WINDOW_MINUTES=15,
        TEMPLATE_VERSION=settings.template_version(home),
    )
    app.config.update(test_config)
    if "SECRET_KEY" not in test_config:
        app.config["SECRET_KEY"] = settings.local_secret(data, "HIBAHBANSOS_SECRET_KEY", "secret_key")
    if "AUDIT_KEY" not in test_config:
        app.config["AUDIT_KEY"] = settings.local_secret(data, "HIBAHBANSOS_AUDIT_KEY", "audit_key")
    if os.environ.get("HIBAHBANSOS_ENV") == "production":
        # Behind nginx over HTTPS: trust its X-Forwarded-For/-Proto (one hop), secure cookies.
        if "SESSION_COOKIE_SECURE" not in test_config:
            app.config["SESSION_COOKIE_SECURE"] = True
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.extensions["hibahbansos.region"] = region
    app.extensions["hibahbansos.paths"] = paths

    # Region-owned templates in overrides/templates win over the shipped ones.
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(paths.overrides / "templates")), app.jinja_loader])

    db.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    templating.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    for register in _feature_blueprints():
        register(app)
    return app


def _feature_blueprints() -> list:
    """Feature areas register themselves here, one line each, in menu order."""
    from hibahbansos import hibah

    return [hibah.register]


def current_region():
    """The Region of the running app."""
    from flask import current_app

    return current_app.extensions["hibahbansos.region"]


def current_paths():
    """The Paths of the running app."""
    from flask import current_app

    return current_app.extensions["hibahbansos.paths"]
