"""The public portal: status by tracking number, recipients with filters and pages, statistics, complaints."""

from __future__ import annotations

from bs4 import BeautifulSoup

from hibahbansos.hibah import proposals


def _soup(res) -> BeautifulSoup:
    return BeautifulSoup(res.data, "html.parser")


def test_status_by_tracking_number_shows_steps_but_no_notes_or_people(world, client):
    p = world.proposal("opd_evaluation")
    world.act(p, "request_revision", note="Catatan rahasia petugas")
    soup = _soup(client.get(f"/cek-status?nomor={p.tracking_no.lower()}"))
    text = soup.get_text(" ", strip=True)
    assert p.tracking_no in text
    assert "Perlu perbaikan pemohon" in text
    assert "Catatan rahasia petugas" not in text
    assert "desk" not in text and "reviewer" not in text
    missing = _soup(client.get("/cek-status?nomor=HB-2027-00000-00000")).get_text(" ", strip=True)
    assert "Nomor pelacakan tidak ditemukan" in missing


def test_recipients_filter_search_and_keyset_pages(world, client):
    made = [world.proposal("approved", amount=1_000_000 + i) for i in range(27)]
    world.proposal("tapd")  # not a recipient yet
    year = world.region.budget_year
    first = _soup(client.get(f"/penerima?tahun={year}"))
    rows = first.select("table.recipients tbody tr")
    assert len(rows) == 25
    assert "27 penerima ditemukan" in first.get_text(" ", strip=True)
    next_link = first.select_one("a[rel=next]")["href"]
    second = _soup(client.get(next_link))
    assert len(second.select("table.recipients tbody tr")) == 2
    assert second.select_one("a[rel=next]") is None
    back = _soup(client.get(second.select_one("a[rel=prev]")["href"]))
    assert [r.get_text() for r in back.select("table.recipients tbody tr")] == [r.get_text() for r in rows]
    name = world.conn.execute("SELECT name FROM organisations WHERE id = ?", [made[5].organisation_id]).fetchone()[0]
    found = _soup(client.get(f"/penerima?tahun={year}&cari={name.split()[-1]}")).select("table.recipients tbody tr")
    assert len(found) == 1 and name in found[0].get_text()
    other = _soup(client.get(f"/penerima?tahun={year}&opd={world.other_opd}"))
    assert "0 penerima ditemukan" in other.get_text(" ", strip=True)


def test_recipients_show_amounts_and_lpj_status_without_personal_data(world, client):
    p = world.proposal("disbursed", amount=7_500_000)
    niks = [
        n
        for (n,) in world.conn.execute(
            "SELECT nik FROM organisation_officers WHERE organisation_id = ?", [p.organisation_id]
        )
    ]
    page = client.get("/penerima").get_data(as_text=True)
    assert "Rp7.500.000" in page
    assert "Belum jatuh tempo" in page
    assert not any(n in page for n in niks)
    assert "Jl. Raya No. 1" not in page, "street addresses are not published"


def test_statistics_are_drawn_as_svg_without_external_files(world, client):
    world.proposal("approved", amount=3_000_000)
    soup = _soup(client.get("/statistik"))
    charts = soup.select("svg.chart")
    assert len(charts) == 4
    assert all(c.find("title").get_text() for c in charts)
    assert "Rp3.000.000" in soup.get_text(" ", strip=True)
    for tag in soup.select("script[src], link[href]"):
        src = tag.get("src") or tag.get("href")
        assert src.startswith("/"), f"{src} is not served by the app"


def test_complaint_gets_its_own_tracking_number_and_answer(world, client, login):
    res = client.post(
        "/pengaduan",
        data={
            "subject": "Dugaan pungutan",
            "message": "Ada pungutan liar saat pencairan.",
            "contact": "0812 0000 1111",
        },
    )
    number = _soup(res).select_one("#complaint-number").get_text()
    assert number.startswith(f"AD-{world.region.budget_year}-")
    login("desk")
    cid = world.conn.execute("SELECT id FROM complaints WHERE tracking_no = ?", [number]).fetchone()[0]
    res = client.post(
        f"/pengaduan-masuk/{cid}", data={"status": "selesai", "response": "Sudah ditindaklanjuti Inspektorat."}
    )
    assert res.status_code == 302, res.get_data(as_text=True)[-3000:]
    client.post("/keluar")
    answer = _soup(client.get(f"/pengaduan/cek?nomor={number}")).get_text(" ", strip=True)
    assert "Sudah ditindaklanjuti Inspektorat." in answer
    assert "0812 0000 1111" not in answer


def test_complaint_form_errors_are_next_to_their_fields(client):
    soup = _soup(client.post("/pengaduan", data={"subject": "", "message": "pendek"}))
    subject = soup.select_one("#subject")
    assert subject["aria-invalid"] == "true"
    assert soup.select_one(f"#{subject['aria-describedby']}").get_text(strip=True) == "Wajib diisi."
    assert soup.select_one("label[for=message]") is not None


def test_regulations_page_lists_the_settings(client, world):
    text = _soup(client.get("/regulasi")).get_text(" ", strip=True)
    assert "Peraturan Menteri Dalam Negeri Nomor 32 Tahun 2011" in text
    assert f"sekurang-kurangnya {world.region.rules['min_org_age_years']} tahun" in text


def test_work_queue_shows_ageing(world, client, login):
    p = world.proposal("submitted")
    old = "2026-01-01T00:00:00+00:00"
    world.conn.execute("UPDATE proposals SET state_changed_at = ? WHERE id = ?", [old, p.id])
    world.conn.commit()
    login("desk")
    soup = _soup(client.get("/antrian"))
    row = next(tr for tr in soup.select("table.queue tbody tr") if f"/usulan/{p.id}" in str(tr))
    assert "age-alert" in row["class"]
    assert proposals.get(world.conn, p.id).state == "submitted"


def test_recipient_count_follows_new_approvals(world, client):
    world.proposal("approved")
    assert "1 penerima ditemukan" in _soup(client.get("/penerima")).get_text(" ", strip=True)
    world.proposal("approved")
    assert "2 penerima ditemukan" in _soup(client.get("/penerima")).get_text(" ", strip=True)


def test_portal_and_staff_pages_in_english(world, client, login):
    p = world.proposal("disbursed")
    client.post("/bahasa/en", data={"next": "/"})
    text = _soup(client.get("/penerima")).get_text(" ", strip=True)
    assert "Grant recipients of budget year" in text
    assert "Not due yet" in text
    login("desk")
    client.post("/bahasa/en", data={"next": "/"})
    page = _soup(client.get(f"/usulan/{p.id}")).get_text(" ", strip=True)
    assert "Amount trail" in page and "Disbursed" in page
    assert "Jejak nilai" not in page


def test_one_address_may_file_only_a_few_complaints_an_hour(client):
    data = {"subject": "Pungutan", "message": "Ada pungutan liar saat pencairan."}
    for _ in range(5):
        assert client.post("/pengaduan", data=data).status_code == 200
    res = client.post("/pengaduan", data=data)
    assert res.status_code == 429
    assert "Terlalu banyak pengaduan dari alamat ini" in _soup(res).select_one("#message-error").get_text()


def test_finance_queue_holds_only_grants_with_money_still_to_pay(world):
    from hibahbansos.hibah import proposals as P

    unpaid = world.proposal("nphd_signed", amount=10_000_000)
    part = world.act(world.proposal("nphd_signed", amount=10_000_000), "disburse", amount=4_000_000)
    paid = world.proposal("disbursed", amount=10_000_000)
    with world.app.app_context():
        queue = {i["id"] for i in P.work_queue(world.conn, world.users["finance"], world.wf, world.region.today())}
    assert unpaid.id in queue and part.id in queue
    assert paid.id not in queue
