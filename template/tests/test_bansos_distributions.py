"""The distribution cycle: selection, two-person rule, ceiling, receipts, lists, report, flags."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sqlite3
import threading

import pytest
from bansos_helpers import people, programme_for, run_import, set_ceiling, write_csv
from bs4 import BeautifulSoup
from openpyxl import load_workbook
from pypdf import PdfReader

from hibahbansos import db as dbmod
from hibahbansos.bansos import demo, distributions, duplicates, recipients
from hibahbansos.errors import RuleViolation
from hibahbansos.uploads import UploadRejected

pytest_plugins = ["bansos_fixtures"]

MASKED_NIK = re.compile(r"^[0-9]{6}\*{6}[0-9]{4}$")


@pytest.fixture
def registry(app, conn, region, tmp_path):
    rows = people(region, 60, seed=5)
    run_import(app, conn, write_csv(tmp_path / "dtks.csv", rows))
    return rows


def _year(region) -> int:
    return int(region.budget_year)


def prepare(app, conn, region, code, user, criteria=None, start=None, end=None, title="Tahap 1"):
    year = _year(region)
    with app.test_request_context():
        return distributions.prepare(
            conn,
            region,
            code,
            criteria or distributions.Criteria(),
            title=title,
            period_start=start or dt.date(year, 1, 1),
            period_end=end or dt.date(year, 12, 31),
            user_id=user,
            today=region.today(),
        )


def approve(app, conn, region, cycle_id, user):
    with app.test_request_context():
        distributions.approve(conn, region, cycle_id, user)


def test_two_person_rule(app, conn, region, staff, registry, client, login_as):
    code = programme_for(region, "individual")["code"]
    cycle_id = prepare(app, conn, region, code, staff["rangkap"], distributions.Criteria(limit=3))

    with pytest.raises(RuleViolation) as refused:
        approve(app, conn, region, cycle_id, staff["rangkap"])
    assert refused.value.rule == "two_person"
    # Through the web too: the page says why and the cycle stays prepared.
    login_as("rangkap")
    page = client.post(f"/bansos/siklus/{cycle_id}/sahkan", follow_redirects=True)
    text = BeautifulSoup(page.data, "html.parser").get_text(" ", strip=True)
    assert "penyiap siklus tidak boleh mengesahkannya sendiri; minta pengesah lain" in text
    assert conn.execute("SELECT status, approved_by FROM bansos_cycles WHERE id = ?", [cycle_id]).fetchone() == (
        "prepared",
        None,
    )
    # An officer without the approver role cannot even reach the action.
    login_as("petugas")
    assert client.post(f"/bansos/siklus/{cycle_id}/sahkan").status_code == 403
    # And the table itself refuses it, whatever code writes to it.
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE bansos_cycles SET status = 'approved', approved_by = prepared_by WHERE id = ?", [cycle_id])

    login_as("pengesah")
    client.post(f"/bansos/siklus/{cycle_id}/sahkan")
    assert conn.execute("SELECT status, approved_by FROM bansos_cycles WHERE id = ?", [cycle_id]).fetchone() == (
        "approved",
        staff["pengesah"],
    )
    actions = [
        a for (a,) in conn.execute("SELECT action FROM audit_log WHERE subject_type = 'bansos_cycle' ORDER BY id")
    ]
    assert actions == ["bansos.cycle.prepare", "bansos.cycle.approve"]


def test_ceiling_is_never_exceeded(app, conn, region, staff, registry):
    programme = programme_for(region, "individual")
    code, amount = programme["code"], programme["amount_per_recipient"]
    region = set_ceiling(app, code, 3 * amount)

    with pytest.raises(RuleViolation) as refused:
        prepare(app, conn, region, code, staff["petugas"], distributions.Criteria(limit=5))
    assert refused.value.rule == "ceiling"
    assert str(refused.value).endswith("sisa pagu cukup untuk 3 penerima")
    assert conn.execute("SELECT COUNT(*) FROM bansos_cycles").fetchone()[0] == 0

    first = prepare(app, conn, region, code, staff["petugas"], distributions.Criteria(limit=3))
    with pytest.raises(RuleViolation) as full:
        prepare(app, conn, region, code, staff["petugas"], distributions.Criteria(limit=1))
    assert str(full.value).endswith("sisa pagu cukup untuk 0 penerima")

    # A cancelled cycle frees its share; a lowered ceiling stops the approval.
    with app.test_request_context():
        distributions.cancel(conn, first, "")
    second = prepare(app, conn, region, code, staff["petugas"], distributions.Criteria(limit=2))
    region = set_ceiling(app, code, amount)
    with pytest.raises(RuleViolation) as lowered:
        approve(app, conn, region, second, staff["pengesah"])
    assert lowered.value.rule == "ceiling"
    assert conn.execute("SELECT status FROM bansos_cycles WHERE id = ?", [second]).fetchone()[0] == "prepared"


def test_two_officers_preparing_at_once_cannot_pass_the_ceiling_together(app, conn, region, staff, registry):
    programme = programme_for(region, "individual")
    code, amount = programme["code"], programme["amount_per_recipient"]
    region = set_ceiling(app, code, 3 * amount)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def officer(district_half: int) -> None:
        own = dbmod.connect(app.config["DATABASE"])
        try:
            barrier.wait()
            with app.test_request_context():
                distributions.prepare(
                    own,
                    region,
                    code,
                    distributions.Criteria(limit=2, sex="L" if district_half else "P"),
                    title="serentak",
                    period_start=dt.date(_year(region), 1, 1),
                    period_end=dt.date(_year(region), 12, 31),
                    user_id=staff["petugas"],
                    today=region.today(),
                )
            outcomes.append("prepared")
        except RuleViolation as exc:
            outcomes.append(exc.rule)
        finally:
            own.close()

    threads = [threading.Thread(target=officer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ceiling", "prepared"]
    assert conn.execute("SELECT SUM(total_amount) FROM bansos_cycles").fetchone()[0] == 2 * amount


def test_selection_by_criteria(app, conn, region, staff, registry):
    code = programme_for(region, "individual")["code"]
    year = _year(region)
    on = region.today()
    # The oldest woman's district and age: at least she qualifies, in any region's data.
    born, district = conn.execute(
        "SELECT birth_date, district_code FROM bansos_persons WHERE sex = 'P' AND district_code IS NOT NULL"
        " ORDER BY birth_date LIMIT 1"
    ).fetchone()
    min_age = recipients.age({"birth_date": born}, on) - 5
    expected = [
        pid
        for pid, b, sex, d in conn.execute("SELECT id, birth_date, sex, district_code FROM bansos_persons")
        if d == district and sex == "P" and recipients.age({"birth_date": b}, on) >= min_age
    ]
    assert expected
    criteria = distributions.Criteria(district_code=district, sex="P", min_age=min_age)
    with app.app_context():
        count = distributions.count_eligible(conn, distributions_programme(region, code), criteria, year, on)
    assert count == len(expected)
    cycle_id = prepare(app, conn, region, code, staff["petugas"], criteria)
    chosen = sorted(
        p for (p,) in conn.execute("SELECT person_id FROM bansos_cycle_items WHERE cycle_id = ?", [cycle_id])
    )
    assert chosen == sorted(expected)
    # Nobody gets the same programme twice in a year.
    with app.app_context():
        assert distributions.count_eligible(conn, distributions_programme(region, code), criteria, year, on) == 0


def distributions_programme(region, code):
    from hibahbansos.bansos import programmes

    return programmes.get(region, code)


def test_family_programme_takes_one_member_per_kk_the_head_first(app, conn, region, staff, registry):
    code = programme_for(region, "family")["code"]
    cycle_id = prepare(app, conn, region, code, staff["petugas"], distributions.Criteria(recipient_type="family"))
    items = conn.execute(
        "SELECT i.kk, p.relationship FROM bansos_cycle_items i JOIN bansos_persons p ON p.id = i.person_id WHERE cycle_id = ?",
        [cycle_id],
    ).fetchall()
    families = {kk for (kk,) in conn.execute("SELECT DISTINCT kk FROM bansos_persons")}
    assert sorted(kk for kk, _ in items) == sorted(families)
    assert {rel for _, rel in items} == {"Kepala Keluarga"}


def test_group_programme(app, conn, region, staff, registry):
    programme = programme_for(region, "group")
    village = conn.execute("SELECT village_code FROM bansos_persons LIMIT 1").fetchone()[0]
    from hibahbansos.bansos.areas import for_region

    with app.app_context():
        gid = recipients.create_group(
            conn,
            "Kelompok Tani Makmur",
            "kelompok",
            for_region(region.kode),
            village,
            registry[0]["NIK"],
            staff["petugas"],
        )
        recipients.add_member(conn, gid, registry[1]["NIK"])
    cycle_id = prepare(
        app, conn, region, programme["code"], staff["petugas"], distributions.Criteria(recipient_type="group")
    )
    assert conn.execute(
        "SELECT group_id, person_id FROM bansos_cycle_items WHERE cycle_id = ?", [cycle_id]
    ).fetchall() == [(gid, None)]
    assert len(recipients.group_members(conn, gid)) == 2


def _approved_cycle(app, conn, region, staff, limit=4):
    code = programme_for(region, "individual")["code"]
    cycle_id = prepare(app, conn, region, code, staff["petugas"], distributions.Criteria(limit=limit))
    approve(app, conn, region, cycle_id, staff["pengesah"])
    return cycle_id


def _receipt(app, conn, region, cycle_id, item_id, user, **overrides):
    year = _year(region)
    kwargs = {
        "received_on": min(region.today(), dt.date(year, 12, 31))
        if region.today().year == year
        else dt.date(year, 6, 1),
        "amount": conn.execute("SELECT amount FROM bansos_cycle_items WHERE id = ?", [item_id]).fetchone()[0],
        "goods": None,
        "evidence": io.BytesIO(demo.tiny_png()),
        "evidence_name": "foto.png",
        "uploads_folder": app.extensions["hibahbansos.paths"].uploads,
        "max_bytes": 1 << 20,
        "user_id": user,
        "today": max(region.today(), dt.date(year, 12, 31)),
    }
    kwargs.update(overrides)
    with app.test_request_context():
        distributions.record_receipt(conn, cycle_id, item_id, **kwargs)


def test_receipts_and_the_accountability_report(app, conn, region, staff, registry):
    code = programme_for(region, "individual")["code"]
    cycle_id = prepare(app, conn, region, code, staff["petugas"], distributions.Criteria(limit=4))
    items = [i["id"] for i in distributions.items(conn, cycle_id)]
    with pytest.raises(RuleViolation, match="sudah disahkan"):
        _receipt(app, conn, region, cycle_id, items[0], staff["petugas"])
    approve(app, conn, region, cycle_id, staff["pengesah"])
    amount = conn.execute("SELECT amount FROM bansos_cycle_items WHERE id = ?", [items[0]]).fetchone()[0]
    money = conn.execute("SELECT form FROM bansos_cycles WHERE id = ?", [cycle_id]).fetchone()[0] == "money"

    with pytest.raises(UploadRejected, match="JPEG atau PNG"):
        _receipt(app, conn, region, cycle_id, items[0], staff["petugas"], evidence=io.BytesIO(b"%PDF-1.4 bukan foto"))
    if money:
        with pytest.raises(RuleViolation, match="melebihi"):
            _receipt(app, conn, region, cycle_id, items[0], staff["petugas"], amount=amount + 1)
    with pytest.raises(RuleViolation, match="masa depan"):
        _receipt(
            app,
            conn,
            region,
            cycle_id,
            items[0],
            staff["petugas"],
            received_on=dt.date(_year(region), 12, 31),
            today=dt.date(_year(region), 12, 30),
        )
    assert conn.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 0  # nothing kept from refused attempts

    _receipt(app, conn, region, cycle_id, items[0], staff["petugas"])
    _receipt(app, conn, region, cycle_id, items[1], staff["petugas"], amount=amount - 1000 if money else None)
    with pytest.raises(RuleViolation, match="sudah dicatat"):
        _receipt(app, conn, region, cycle_id, items[0], staff["petugas"])

    report = distributions.report(conn, cycle_id)
    assert (report["recipients"], report["received"], report["not_received"], report["with_evidence"]) == (4, 2, 2, 2)
    assert report["planned"] == 4 * amount
    assert report["received_amount"] == (2 * amount - 1000 if money else 2 * amount)
    assert sum(d["recipients"] for d in report["by_district"]) == 4
    sha = conn.execute("SELECT sha256 FROM files ORDER BY id LIMIT 1").fetchone()[0]
    receipt_audit = conn.execute(
        "SELECT detail FROM audit_log WHERE action = 'bansos.receipt.record' ORDER BY id LIMIT 1"
    ).fetchone()[0]
    assert sha in receipt_audit

    with app.test_request_context():
        distributions.close(conn, cycle_id, staff["petugas"])
    with pytest.raises(RuleViolation):
        _receipt(app, conn, region, cycle_id, items[2], staff["petugas"])


def test_distribution_list_pdf_and_xlsx_have_a_signature_column_and_masked_niks(
    app, conn, region, staff, registry, client, login_as
):
    cycle_id = _approved_cycle(app, conn, region, staff, limit=5)
    items = distributions.items(conn, cycle_id)
    login_as("petugas")

    res = client.get(f"/bansos/siklus/{cycle_id}/daftar.xlsx")
    assert res.status_code == 200
    sheet = load_workbook(io.BytesIO(res.data), read_only=True).worksheets[0]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(table) if r and r[0] == "No")
    assert table[head] == [
        "No",
        "Nama penerima",
        "NIK",
        "Desa/Kelurahan",
        "Kecamatan",
        "Bantuan",
        "Tanda tangan / cap jempol",
    ]
    body = table[head + 1 :]
    assert len(body) == 5
    assert sorted(r[1] for r in body) == sorted(i["name"] for i in items)
    assert all(MASKED_NIK.match(r[2]) for r in body)
    assert all(r[6] in (None, "") for r in body)

    res = client.get(f"/bansos/siklus/{cycle_id}/daftar.pdf")
    assert res.status_code == 200 and res.data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(res.data)).pages)
    assert "Tanda tangan / cap jempol" in text
    for item in items:
        assert item["name"] in text
        assert item["nik"] not in text
        assert item["nik"][:6] + "******" + item["nik"][-4:] in text
    downloads = conn.execute(
        "SELECT action FROM audit_log WHERE action LIKE 'bansos.cycle.download_%' ORDER BY id"
    ).fetchall()
    assert downloads == [("bansos.cycle.download_list_xlsx",), ("bansos.cycle.download_list_pdf",)]

    res = client.get(f"/bansos/siklus/{cycle_id}/laporan.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(res.data)).pages)
    assert "LAPORAN PERTANGGUNGJAWABAN" in text and "Belum menerima" in text


def test_same_person_or_family_in_two_programmes_of_one_period_is_flagged(app, conn, region, staff, tmp_path):
    year = _year(region)
    everyone = people(region, 40, seed=12)
    by_kk: dict[str, list[dict]] = {}
    for p in everyone:
        by_kk.setdefault(p["NO_KK"], []).append(p)
    family_rows = next(members for members in by_kk.values() if len(members) >= 2)
    run_import(app, conn, write_csv(tmp_path / "keluarga.csv", family_rows))
    first, second = programme_for(region, "individual"), programme_for(region, "individual", skip=1)
    family = programme_for(region, "family")

    jan_jun = prepare(
        app,
        conn,
        region,
        first["code"],
        staff["petugas"],
        distributions.Criteria(limit=1),
        dt.date(year, 1, 1),
        dt.date(year, 6, 30),
    )
    jul_dec = prepare(
        app,
        conn,
        region,
        second["code"],
        staff["petugas"],
        distributions.Criteria(),
        dt.date(year, 7, 1),
        dt.date(year, 12, 31),
    )
    assert conn.execute("SELECT COUNT(*) FROM bansos_flags").fetchone()[0] == 0  # the periods do not overlap
    mar_sep = prepare(
        app,
        conn,
        region,
        family["code"],
        staff["petugas"],
        distributions.Criteria(recipient_type="family"),
        dt.date(year, 3, 1),
        dt.date(year, 9, 30),
    )

    (alone,) = conn.execute("SELECT person_id FROM bansos_cycle_items WHERE cycle_id = ?", [jan_jun]).fetchone()
    (head,) = conn.execute("SELECT person_id FROM bansos_cycle_items WHERE cycle_id = ?", [mar_sep]).fetchone()
    expected = {
        ("same_person" if alone == head else "same_kk", jan_jun, mar_sep),
        ("same_person", jul_dec, mar_sep),  # the head is in both
        ("same_kk", jul_dec, mar_sep),  # and so are the other members of the family card
    }
    flags = conn.execute("SELECT reasons, cycle_a, cycle_b FROM bansos_flags WHERE kind = 'multi_programme'").fetchall()
    assert {(json.loads(r)[0], a, b) for r, a, b in flags} == expected
    assert len(flags) == 3


def test_duplicate_review_confirm_keeps_the_newer_record_out(app, conn, region, staff, tmp_path):
    rows = people(region, 10, seed=8)
    twin = {**rows[0], "NIK": rows[0]["NIK"][:-4] + "8999", "NAMA": "Hj. " + rows[0]["NAMA"].upper() + ", S.Pd."}
    other_day = {**rows[0], "NIK": rows[0]["NIK"][:-4] + "8998"}
    run_import(app, conn, write_csv(tmp_path / "a.csv", [*rows, twin]))
    flags = duplicates.listing(conn)
    assert [(f["a_nik"], f["b_nik"]) for f in flags] == [(rows[0]["NIK"], twin["NIK"])]
    with app.test_request_context():
        duplicates.decide(conn, flags[0]["id"], "confirmed", staff["petugas"])
        with pytest.raises(RuleViolation):
            duplicates.decide(conn, flags[0]["id"], "dismissed", staff["petugas"])
    # Recomputing never reopens a decision.
    run_import(app, conn, write_csv(tmp_path / "b.csv", [*rows, twin, other_day]))
    statuses = conn.execute("SELECT person_b, status FROM bansos_flags ORDER BY id").fetchall()
    twin_id = conn.execute("SELECT id FROM bansos_persons WHERE nik = ?", [twin["NIK"]]).fetchone()[0]
    assert statuses[0] == (twin_id, "confirmed")
    code = programme_for(region, "individual")["code"]
    cycle_id = prepare(app, conn, region, code, staff["petugas"])
    chosen = {p for (p,) in conn.execute("SELECT person_id FROM bansos_cycle_items WHERE cycle_id = ?", [cycle_id])}
    assert twin_id not in chosen
    assert conn.execute("SELECT id FROM bansos_persons WHERE nik = ?", [rows[0]["NIK"]]).fetchone()[0] in chosen
    assert conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'bansos.flag.confirmed'").fetchone()[0] == 1
