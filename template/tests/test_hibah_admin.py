"""The administrator: staff accounts with roles and OPD assignments, settings, the last administrator kept."""

from __future__ import annotations

from bs4 import BeautifulSoup

from hibahbansos import users


def _soup(res) -> BeautifulSoup:
    return BeautifulSoup(res.data, "html.parser")


def test_admin_creates_an_opd_reviewer_who_then_sees_only_that_opd(world, client, login):
    login("admin")
    res = client.post(
        "/admin/pengguna/baru",
        data={
            "username": "penilai-baru",
            "full_name": "Penilai Baru",
            "email": "",
            "password": "Sandi-Awal-2027x",
            "roles": ["opd_reviewer"],
            "opd_code": world.opd,
            "is_active": "y",
        },
    )
    assert res.status_code == 302
    uid = world.conn.execute("SELECT id FROM users WHERE username = 'penilai-baru'").fetchone()[0]
    assert users.get_user(world.conn, uid).roles == {"opd_reviewer": world.opd}
    action = world.conn.execute("SELECT action, detail FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert action == ("admin.user.create", '{"roles": ["opd_reviewer"]}')


def test_a_reviewer_needs_an_opd(world, client, login):
    login("admin")
    soup = _soup(
        client.post(
            "/admin/pengguna/baru",
            data={
                "username": "tanpa-opd",
                "full_name": "Tanpa OPD",
                "password": "Sandi-Awal-2027x",
                "roles": ["opd_reviewer"],
            },
        )
    )
    assert "Penilai OPD teknis harus ditugaskan ke satu OPD." in soup.select_one(".has-error").get_text()
    assert world.conn.execute("SELECT 1 FROM users WHERE username = 'tanpa-opd'").fetchone() is None


def test_the_last_administrator_cannot_be_removed(world, client, login):
    login("admin")
    admin = world.users["admin"]
    soup = _soup(
        client.post(f"/admin/pengguna/{admin.id}", data={"full_name": "Admin", "roles": ["desk"], "is_active": "y"})
    )
    assert "Ini administrator terakhir" in soup.get_text()
    assert users.get_user(world.conn, admin.id).roles == {"admin": None}


def test_deactivated_user_can_no_longer_log_in(world, client, login):
    login("admin")
    desk = world.users["desk"]
    client.post(f"/admin/pengguna/{desk.id}", data={"full_name": "Desk", "roles": ["desk"]})
    client.post("/keluar")
    assert login("desk").status_code == 401


def test_settings_close_intake_and_show_the_announcement(world, client, login):
    login("admin")
    res = client.post(
        "/admin/pengaturan",
        data={
            "announcement": "Penerimaan proposal 2027 ditutup 30 Juni.",
            "regulations": "Peraturan Bupati Nomor 1 Tahun 2026",
        },
    )
    assert res.status_code == 302, res.get_data(as_text=True)[-2000:]
    client.post("/keluar")
    page = _soup(client.get("/penerima"))
    assert page.select_one(".announcement").get_text(strip=True) == "Penerimaan proposal 2027 ditutup 30 Juni."
    assert "Peraturan Bupati Nomor 1 Tahun 2026" in client.get("/regulasi").get_data(as_text=True)
    p = world.draft()
    login("applicant")
    res = client.post(f"/usulan/{p.id}/langkah/submit")
    assert res.status_code == 409
    assert "penerimaan proposal sedang ditutup oleh administrator." in res.get_data(as_text=True)
