"""Fixtures of the app's own tests: an app on a fresh SQLite file, its client and CLI runner.

They run against this instance's own region.yml, so every rendered region tests itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hibahbansos import create_app, db, migrations, users

HOME = Path(__file__).resolve().parents[1]
# Feature areas keep their fixtures in their own modules.
pytest_plugins = ["hibah_support"]


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "HOME": HOME,
            "DATA": tmp_path / "data",
            "SECRET_KEY": "test-secret",
            "AUDIT_KEY": "test-audit-key",
            "WTF_CSRF_ENABLED": False,
        }
    )
    conn = db.connect(app.config["DATABASE"])
    migrations.apply_all(conn)
    conn.close()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def conn(app):
    c = db.connect(app.config["DATABASE"])
    yield c
    c.close()


@pytest.fixture
def make_user(app, conn):
    """Create a user with the given roles; returns (id, username, password)."""

    def _make(username: str, roles: dict, password: str = "Sandi-Rahasia-123"):
        with app.app_context():
            uid = users.create_user(conn, username, password, username.title(), None, roles)
        return uid, username, password

    return _make


@pytest.fixture
def login(client):
    def _login(username: str, password: str = "Sandi-Rahasia-123"):
        return client.post("/masuk", data={"username": username, "password": password})

    return _login


@pytest.fixture
def cli_env(app, monkeypatch, tmp_path):
    """Environment for CLI commands: this instance, the test's data folder and keys."""
    monkeypatch.setenv("HIBAHBANSOS_HOME", str(HOME))
    monkeypatch.setenv("HIBAHBANSOS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HIBAHBANSOS_SECRET_KEY", "test-secret")
    monkeypatch.setenv("HIBAHBANSOS_AUDIT_KEY", "test-audit-key")
    return CliRunner()
