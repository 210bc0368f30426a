"""Logging in: hashed passwords, sessions that expire, throttling, CSRF, role checks."""

from __future__ import annotations

import datetime as dt

import pytest
from bs4 import BeautifulSoup

from hibahbansos import roles as R
from hibahbansos import users


def test_password_is_stored_as_a_scrypt_hash(conn, make_user):
    uid, _, password = make_user("desk1", {R.DESK: None})
    stored = conn.execute("SELECT password_hash FROM users WHERE id = ?", [uid]).fetchone()[0]
    assert stored.startswith("scrypt:")
    assert password not in stored


@pytest.mark.parametrize(
    "password,reason",
    [
        ("Pendek-1", "the password needs at least 12 characters"),
        ("semuahurufkecil1", "the password needs upper- and lower-case letters and a digit"),
        ("Tanpa-Angka-Sama-Sekali", "the password needs upper- and lower-case letters and a digit"),
    ],
)
def test_weak_passwords_are_refused(app, conn, password, reason):
    with app.app_context(), pytest.raises(users.UserError) as exc:
        users.create_user(conn, "lemah", password, "Lemah")
    assert str(exc.value) == reason
    assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0


def test_login_logout_round_trip(client, make_user, login):
    make_user("tapd1", {R.TAPD: None})
    res = login("tapd1")
    assert res.status_code == 302
    page = BeautifulSoup(client.get("/").data, "html.parser")
    assert page.select_one(".site-nav .user").get_text() == "Tapd1"
    client.post("/keluar")
    page = BeautifulSoup(client.get("/").data, "html.parser")
    assert page.select_one(".site-nav .user") is None


def test_wrong_password_is_refused_with_the_same_message_as_unknown_user(client, make_user, login):
    make_user("tapd1", {R.TAPD: None})
    wrong = login("tapd1", "Salah-Sandi-999")
    unknown = login("tidakada", "Salah-Sandi-999")
    assert wrong.status_code == unknown.status_code == 401
    for res in (wrong, unknown):
        errors = BeautifulSoup(res.data, "html.parser").select(".field .errors li")
        assert [e.get_text() for e in errors] == ["Nama pengguna atau kata sandi salah."]


def test_login_is_throttled_after_repeated_failures(app, client, make_user, login):
    make_user("tapd1", {R.TAPD: None})
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login("tapd1", "Salah-Sandi-999").status_code == 401
    res = login("tapd1")  # right password, but too late
    assert res.status_code == 429
    errors = [e.get_text() for e in BeautifulSoup(res.data, "html.parser").select(".field .errors li")]
    assert errors == ["Terlalu banyak percobaan gagal. Coba lagi dalam 15 menit."]


def test_session_ends_after_its_absolute_lifetime(app, client, make_user, login):
    make_user("tapd1", {R.TAPD: None})
    login("tapd1")
    with client.session_transaction() as sess:
        started = dt.datetime.now(dt.UTC) - dt.timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"], minutes=1)
        sess["login_at"] = started.isoformat()
    page = BeautifulSoup(client.get("/").data, "html.parser")
    assert page.select_one(".site-nav .user") is None
    with client.session_transaction() as sess:
        assert "user_id" not in sess


def test_session_cookie_is_permanent_with_an_idle_lifetime(app, client, make_user, login):
    make_user("tapd1", {R.TAPD: None})
    res = login("tapd1")
    cookie = res.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert app.config["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(hours=2)


def test_deactivated_user_is_logged_out(conn, client, make_user, login):
    uid, *_ = make_user("tapd1", {R.TAPD: None})
    login("tapd1")
    conn.execute("UPDATE users SET is_active = 0 WHERE id = ?", [uid])
    conn.commit()
    page = BeautifulSoup(client.get("/").data, "html.parser")
    assert page.select_one(".site-nav .user") is None


def test_forms_need_a_csrf_token(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("tapd1", {R.TAPD: None})
    client = app.test_client()
    res = client.post("/masuk", data={"username": "tapd1", "password": "Sandi-Rahasia-123"})
    assert res.status_code == 400
    page = client.get("/masuk")
    token = BeautifulSoup(page.data, "html.parser").select_one("input[name=csrf_token]")["value"]
    ok = client.post("/masuk", data={"username": "tapd1", "password": "Sandi-Rahasia-123", "csrf_token": token})
    assert ok.status_code == 302


def test_open_redirect_after_login_is_refused(client, make_user):
    make_user("tapd1", {R.TAPD: None})
    res = client.post("/masuk?next=//evil.example/x", data={"username": "tapd1", "password": "Sandi-Rahasia-123"})
    assert res.headers["Location"] == "/"


def test_login_and_logout_are_audited_without_passwords(conn, client, make_user, login):
    uid, *_ = make_user("tapd1", {R.TAPD: None})
    login("tapd1")
    client.post("/keluar")
    rows = conn.execute("SELECT action, actor, subject_id, detail FROM audit_log ORDER BY id").fetchall()
    assert rows == [("auth.login", "tapd1", str(uid), "{}"), ("auth.logout", "tapd1", str(uid), "{}")]


def test_reviewer_role_needs_an_opd(app, conn):
    with app.app_context(), pytest.raises(users.UserError) as exc:
        users.create_user(conn, "penilai", "Sandi-Rahasia-123", "Penilai", None, {R.OPD_REVIEWER: None})
    assert str(exc.value) == "role opd_reviewer needs an OPD code"
