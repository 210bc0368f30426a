"""Personal data: masked on every page that shows a recipient, revealed only with an audit entry,
never on public pages, never in URLs."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from bansos_helpers import people, planted, programme_for, run_import, write_csv
from bs4 import BeautifulSoup

from hibahbansos.bansos import demo, distributions, recipients

pytest_plugins = ["bansos_fixtures"]

MASKED = re.compile(r"\b[0-9]{6}\*{6}[0-9]{4}\b")


@pytest.fixture
def world(app, conn, region, staff, tmp_path):
    """A registry with every kind of page filled: people, a family, a group, flags, a cycle with a receipt, an import."""
    rows, _ = planted(region)
    rows += people(region, 40, seed=17)
    run_import(app, conn, write_csv(tmp_path / "dtks.csv", rows))
    persons = conn.execute(
        "SELECT id, nik, kk, phone, address, birth_date, village_code FROM bansos_persons"
    ).fetchall()
    year = int(region.budget_year)
    with app.test_request_context():
        from hibahbansos.bansos.areas import for_region

        group = recipients.create_group(
            conn,
            "Kelompok Wanita Tani",
            "kelompok",
            for_region(region.kode),
            persons[0][6],
            persons[0][1],
            staff["petugas"],
        )
        recipients.add_member(conn, group, persons[1][1])
        code = programme_for(region, "individual")["code"]
        cycle = distributions.prepare(
            conn,
            region,
            code,
            distributions.Criteria(limit=6),
            title="Tahap uji",
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 12, 31),
            user_id=staff["petugas"],
            today=region.today(),
        )
        distributions.approve(conn, region, cycle, staff["pengesah"])
        item = distributions.items(conn, cycle)[0]
        distributions.record_receipt(
            conn,
            cycle,
            item["id"],
            received_on=dt.date(year, 6, 1),
            amount=item["amount"] if _money(conn, cycle) else None,
            goods="paket",
            evidence=io.BytesIO(demo.tiny_png()),
            evidence_name="foto.png",
            uploads_folder=app.extensions["hibahbansos.paths"].uploads,
            max_bytes=1 << 20,
            user_id=staff["petugas"],
            today=dt.date(year, 12, 31),
        )
    secrets = set()
    for _, nik, kk, phone, address, born, _ in persons:
        secrets |= {nik, kk, phone, address, born, dt.date.fromisoformat(born).strftime("%d-%m-%Y")}
    for row in rows:  # also the raw values of rejected rows (the preview shows those rows too)
        secrets |= {row["NIK"], row["NO_KK"], row["NO_HP"], row["ALAMAT"], row["TGL_LAHIR"]}
    secrets = {s for s in secrets if s and len(s) >= 8} - {region.today().isoformat()}
    open_item = conn.execute(
        "SELECT id FROM bansos_cycle_items WHERE cycle_id = ? AND received_on IS NULL LIMIT 1", [cycle]
    ).fetchone()[0]
    first_flag = conn.execute("SELECT id FROM bansos_flags ORDER BY id LIMIT 1").fetchone()
    assert first_flag, "the planted rows hold a likely duplicate"
    return {
        "persons": persons,
        "group": group,
        "cycle": cycle,
        "item": item,
        "open_item": open_item,
        "rows": rows,
        "secrets": secrets,
        "names": {r["NAMA"].strip() for r in rows if r["NAMA"].strip()},
    }


def _money(conn, cycle) -> bool:
    return conn.execute("SELECT form FROM bansos_cycles WHERE id = ?", [cycle]).fetchone()[0] == "money"


def _csv_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO()
    import csv

    writer = csv.DictWriter(out, fieldnames=demo.HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _visible(html: bytes) -> str:
    """Everything a browser holds of a page: its text and every attribute value."""
    soup = BeautifulSoup(html, "html.parser")
    parts = [soup.get_text(" ")]
    for tag in soup.find_all(True):
        for value in tag.attrs.values():
            parts.append(" ".join(value) if isinstance(value, list) else str(value))
    return "\n".join(parts)


def _pages(world) -> dict[str, str]:
    person_id = world["persons"][0][0]
    return {
        "registry": "/bansos/",
        "person": f"/bansos/penerima/{person_id}",
        "groups": "/bansos/kelompok",
        "group": f"/bansos/kelompok/{world['group']}",
        "flags": "/bansos/tanda",
        "programmes": "/bansos/program",
        "cycles": "/bansos/siklus",
        "cycle": f"/bansos/siklus/{world['cycle']}",
        "report": f"/bansos/siklus/{world['cycle']}/laporan",
        "imports": "/bansos/impor",
        "import": "/bansos/impor/1",
    }


@pytest.mark.parametrize("username", ["petugas", "pengesah", "auditor"])
def test_every_page_that_shows_a_recipient_masks_nik_kk_phone_address_and_birth_date(client, login_as, world, username):
    login_as(username)
    pages = _pages(world)
    if username == "petugas":
        pages["receipt"] = f"/bansos/siklus/{world['cycle']}/terima/{world['open_item']}"
        # A file waiting in the import preview (uploaded in this session: a login starts a new one).
        upload = client.post(
            "/bansos/impor",
            data={"file": (io.BytesIO(_csv_bytes(world["rows"][:15])), "dtks.csv"), "programme": ""},
            content_type="multipart/form-data",
        )
        pages["preview"] = upload.headers["Location"]
    for name, url in pages.items():
        res = client.get(url)
        if username != "petugas" and name in ("imports",):
            assert res.status_code == 403
            continue
        if username == "pengesah" and name == "import":
            assert res.status_code == 403
            continue
        assert res.status_code == 200, f"{name}: {res.status_code}"
        seen = _visible(res.data)
        leaked = [s for s in world["secrets"] if s in seen]
        assert not leaked, f"{name} shows personal data in clear ({len(leaked)} values)"
        if name in ("registry", "person", "group", "flags", "cycle", "report", "receipt", "preview"):
            assert MASKED.search(seen), f"{name} shows no masked NIK at all"
    search = client.post("/bansos/cari", data={"q": world["persons"][0][1]})
    seen = _visible(search.data)
    assert MASKED.search(seen) and not [s for s in world["secrets"] if s in seen]


def test_reveal_is_audited_and_only_for_roles_that_need_it(client, login_as, world, conn, staff):
    person_id, nik, *_ = world["persons"][0]
    login_as("pengesah")
    assert client.post(f"/bansos/penerima/{person_id}/buka").status_code == 403
    assert "Tampilkan data lengkap" not in client.get(f"/bansos/penerima/{person_id}").get_data(as_text=True)

    login_as("petugas")
    before = conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'bansos.person.reveal'").fetchone()[0]
    res = client.post(f"/bansos/penerima/{person_id}/buka")
    assert res.status_code == 200
    assert res.headers["Cache-Control"] == "no-store"
    assert nik in _visible(res.data)
    entries = conn.execute(
        "SELECT actor_id, subject_type, subject_id, detail FROM audit_log WHERE action = 'bansos.person.reveal' ORDER BY id"
    ).fetchall()
    assert len(entries) == before + 1
    actor, subject_type, subject_id, detail = entries[-1]
    assert (actor, subject_type, subject_id) == (staff["petugas"], "bansos_person", str(person_id))
    assert nik not in detail and "nik" in detail  # the field names, never the values

    login_as("auditor")
    assert client.post(f"/bansos/penerima/{person_id}/buka").status_code == 200


def test_public_sees_only_counts_and_totals(client, world, conn, region):
    res = client.get("/bansos/statistik")
    assert res.status_code == 200
    seen = _visible(res.data)
    assert not [s for s in world["secrets"] if s in seen]
    names = [n for n in world["names"] if n in seen]
    assert names == [], "a recipient's name is on the public page"
    soup = BeautifulSoup(res.data, "html.parser")
    code = conn.execute("SELECT programme_code FROM bansos_cycles WHERE id = ?", [world["cycle"]]).fetchone()[0]
    section = soup.select_one(f'section[data-programme="{code}"]')
    total = section.select_one("tfoot tr").find_all("td")
    assert total[0].get_text(strip=True) == "6"
    assert total[2].get_text(strip=True) == "1"
    district_rows = section.select("tbody tr")
    assert sum(int(r.find_all("td")[1].get_text(strip=True)) for r in district_rows) == 6


def test_staff_pages_are_closed_to_the_public_and_to_other_roles(client, login_as, world):
    assert client.get("/bansos/").status_code == 302  # to the login page
    assert client.get("/bansos/statistik").status_code == 200
    login_as("warga")
    for url in _pages(world).values():
        assert client.get(url).status_code == 403, url


def test_nik_search_is_posted_so_the_number_never_reaches_a_url(client, login_as, world):
    login_as("petugas")
    soup = BeautifulSoup(client.get("/bansos/").data, "html.parser")
    form = soup.select_one("form.search-form")
    assert form["method"] == "post"
    for link in soup.find_all("a"):
        assert not [s for s in world["secrets"] if s in link.get("href", "")]
