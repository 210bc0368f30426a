"""GET /healthz: what the deploy's health gate and monitoring read."""

from __future__ import annotations

import yaml
from conftest import HOME

from hibahbansos import __version__, db


def test_healthz_reports_versions_region_and_database(client):
    answers = yaml.safe_load((HOME / ".copier-answers.yml").read_text())
    region = yaml.safe_load((HOME / "region.yml").read_text())
    res = client.get("/healthz")
    assert res.status_code == 200
    assert res.get_json() == {
        "status": "ok",
        "app_version": __version__,
        "template_version": str(answers["_commit"]),
        "region": region["slug"],
        "database": {"ok": True, "pending_migrations": []},
    }


def test_healthz_is_503_with_pending_migrations(tmp_path):
    from hibahbansos import create_app

    app = create_app({"TESTING": True, "HOME": HOME, "DATA": tmp_path, "SECRET_KEY": "x", "AUDIT_KEY": "y"})
    res = app.test_client().get("/healthz")
    assert res.status_code == 503
    body = res.get_json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is False
    assert "hibahbansos.core:m001_users_and_roles" in body["database"]["pending_migrations"]


def test_database_is_in_wal_mode(app):
    conn = db.connect(app.config["DATABASE"])
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_production_trusts_the_proxy_and_sets_secure_cookies(tmp_path, monkeypatch):
    from hibahbansos import create_app

    monkeypatch.setenv("HIBAHBANSOS_ENV", "production")
    app = create_app({"TESTING": True, "HOME": HOME, "DATA": tmp_path, "SECRET_KEY": "x", "AUDIT_KEY": "y"})
    assert app.config["SESSION_COOKIE_SECURE"] is True

    @app.route("/_ip")
    def _ip():
        from flask import request

        return f"{request.remote_addr} {request.scheme}"

    res = app.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert res.get_data(as_text=True) == "203.0.113.7 https"
