"""An applicant registers, records their organisation and submits a proposal, all through the pages."""

from __future__ import annotations

import io

from bs4 import BeautifulSoup

from hibahbansos.hibah import proposals
from hibahbansos.hibah.organisations import LEGAL_DOCUMENTS


def _soup(res) -> BeautifulSoup:
    return BeautifulSoup(res.data, "html.parser")


def test_register_organisation_proposal_rab_documents_submit(world, client):
    res = client.post(
        "/daftar",
        data={
            "full_name": "Ujang Suryana",
            "username": "ujang",
            "email": "ujang@contoh.invalid",
            "password": "Rahasia-Sekali-9",
            "confirm": "Rahasia-Sekali-9",
        },
    )
    assert res.status_code == 302 and res.headers["Location"].endswith("/lembaga/baru")
    bad = client.post("/lembaga/baru", data={"name": "Masjid Al-Hidayah", "chair_nik": "1234"})
    soup = _soup(bad)
    assert bad.status_code == 400
    chair = soup.select_one("#chair_nik")
    assert chair["aria-invalid"] == "true"
    assert soup.select_one(f"#{chair['aria-describedby']}").get_text(strip=True) == "NIK harus 16 digit angka"
    assert "1234" not in soup.select_one(f"#{chair['aria-describedby']}").get_text()
    form = {
        "name": "Masjid Al-Hidayah",
        "kind": "rumah_ibadah",
        "address": "Jl. Masjid No. 5",
        "district_code": world.district,
        "legal_number": "7/2012",
        "legal_date": "2012-03-01",
        "kemenkumham_number": "AHU-77",
        "npwp": world.npwp(),
        "domiciled": "y",
        "has_secretariat": "y",
        "bank_code": "110",
        "bank_account": "0011223344",
        "bank_holder": "DKM Al-Hidayah",
        "phone": "0812-3456-7890",
        "chair_name": "H. Ahmad",
        "chair_nik": world.nik(),
        "secretary_name": "Dede",
        "secretary_nik": world.nik(),
        "treasurer_name": "Euis",
        "treasurer_nik": world.nik(),
    }
    res = client.post("/lembaga/baru", data=form)
    assert res.status_code == 302, _soup(res).select(".errors")
    org_id = int(res.headers["Location"].rsplit("/", 1)[1])
    assert (
        world.conn.execute("SELECT phone FROM organisations WHERE id = ?", [org_id]).fetchone()[0] == "+6281234567890"
    )
    for code in LEGAL_DOCUMENTS:
        client.post(
            f"/lembaga/{org_id}",
            data={"doc_code": code, "file": (io.BytesIO(b"%PDF-1.4 akta"), f"{code}.pdf")},
            content_type="multipart/form-data",
        )
    programme = world.programme
    res = client.post(
        "/proposal/baru",
        data={
            "organisation_id": org_id,
            "programme_code": programme["code"],
            "opd_code": programme["opd"][0],
            "title": "Renovasi tempat wudu",
            "purpose": "Tempat wudu rusak.",
        },
    )
    assert res.status_code == 302
    pid = int(res.headers["Location"].split("/")[-2])
    rab = {
        "lines-0-description": "Keramik",
        "lines-0-quantity": "30",
        "lines-0-unit": "dus",
        "lines-0-unit_price": "70000",
        "lines-1-description": "Upah tukang",
        "lines-1-quantity": "10",
        "lines-1-unit": "OH",
        "lines-1-unit_price": "150000",
    }
    assert client.post(f"/proposal/{pid}/rab", data=rab).status_code == 302
    assert proposals.get(world.conn, pid).requested_amount == 30 * 70_000 + 10 * 150_000
    for doc in world.region.documents["hibah"]:
        if doc["code"] not in LEGAL_DOCUMENTS:
            client.post(
                f"/proposal/{pid}/dokumen",
                data={"doc_code": doc["code"], "file": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")},
                content_type="multipart/form-data",
            )
    res = client.post(f"/usulan/{pid}/langkah/submit", data={})
    assert res.status_code == 302
    p = proposals.get(world.conn, pid)
    assert p.state == "submitted" and p.tracking_no
    page = _soup(client.get(f"/usulan/{pid}"))
    assert page.select_one("#tracking-number").get_text() == p.tracking_no
    mail = world.conn.execute("SELECT to_addr, subject FROM outbox ORDER BY id DESC LIMIT 1").fetchone()
    assert mail == ("ujang@contoh.invalid", f"Proposal {p.tracking_no}: Diajukan")


def test_weak_password_and_taken_username_are_refused_in_indonesian(world, client):
    soup = _soup(
        client.post(
            "/daftar",
            data={
                "full_name": "A",
                "username": "ab1",
                "email": "a@contoh.invalid",
                "password": "pendek",
                "confirm": "pendek",
            },
        )
    )
    assert "Kata sandi minimal 12 karakter." in soup.select_one(".has-error").get_text()
    soup = _soup(
        client.post(
            "/daftar",
            data={
                "full_name": "A",
                "username": "desk",
                "email": "a@contoh.invalid",
                "password": "Rahasia-Sekali-9",
                "confirm": "Rahasia-Sekali-9",
            },
        )
    )
    assert "Nama pengguna ini sudah dipakai" in soup.get_text()


def test_rab_error_is_on_its_row(world, client, login):
    p = world.draft(amount=0)
    login("applicant")
    soup = _soup(
        client.post(
            f"/proposal/{p.id}/rab",
            data={
                "lines-0-description": "Semen",
                "lines-0-quantity": "2",
                "lines-0-unit": "",
                "lines-0-unit_price": "50000",
            },
        )
    )
    cell = soup.select_one("#lines-0-unit")
    assert cell["aria-invalid"] == "true"
    assert soup.select_one("#lines-0-unit-error").get_text(strip=True) == "Baris 1: satuan wajib diisi."
