"""Each eligibility rule refuses with a message naming it; the ceiling holds under concurrent approvals."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from hibahbansos import db
from hibahbansos.errors import RuleViolation
from hibahbansos.hibah import proposals, settings


def refused(world, p, action="submit", **data) -> RuleViolation:
    with pytest.raises(RuleViolation) as err:
        world.act(p, action, **data)
    assert proposals.get(world.conn, p.id).state == p.state, "a refused step changes nothing"
    return err.value


def test_intake_closed_refuses_submission(world):
    with world.app.app_context():
        settings.set_many(world.conn, {"intake_open": "0"}, world.users["admin"].id)
    err = refused(world, world.draft())
    assert err.rule == "intake_open"
    assert (
        str(err)
        == 'Ditolak oleh aturan "Masa penerimaan proposal": penerimaan proposal sedang ditutup oleh administrator.'
    )


def test_empty_rab_refuses_submission(world):
    err = refused(world, world.draft(amount=0))
    assert err.rule == "rab_present"
    assert str(err) == (
        'Ditolak oleh aturan "RAB terisi": RAB belum diisi; jumlah yang diusulkan adalah jumlah baris RAB.'
    )


def test_missing_documents_are_named(world):
    err = refused(world, world.draft(documents=False))
    from hibahbansos.hibah.organisations import LEGAL_DOCUMENTS

    missing = [d["name"] for d in world.region.documents["hibah"] if d["required"] and d["code"] not in LEGAL_DOCUMENTS]
    assert err.rule == "documents_complete"
    assert str(err) == f'Ditolak oleh aturan "Kelengkapan dokumen": dokumen wajib belum diunggah: {", ".join(missing)}.'


def test_young_organisation_is_refused(world):
    need = world.region.rules["min_org_age_years"]
    org = world.organisation(legal_years=max(need - 1, 0) + 0.5 if need else 0)
    p = world.draft(org_id=org.id)
    if need == 0:
        assert world.act(p, "submit").state == "submitted"
        return
    err = refused(world, p)
    assert err.rule == "org_age"
    assert str(err) == (
        f'Ditolak oleh aturan "Usia badan hukum lembaga": lembaga harus berbadan hukum sekurang-kurangnya {need} tahun;'
        f" terdaftar {need - 1} tahun (sejak {org.legal_date})."
    )


@pytest.mark.parametrize(
    ("field", "setting", "rule", "label", "words"),
    [
        ("domiciled", "require_domicile", "domicile", "Domisili lembaga", "harus berdomisili di"),
        (
            "has_secretariat",
            "require_secretariat",
            "secretariat",
            "Sekretariat tetap",
            "harus memiliki sekretariat tetap di",
        ),
    ],
)
def test_domicile_and_secretariat(world, field, setting, rule, label, words):
    org = world.organisation(**{field: False})
    p = world.draft(org_id=org.id)
    if not world.region.rules.get(setting, True):
        assert world.act(p, "submit").state == "submitted"
        return
    err = refused(world, p)
    assert err.rule == rule
    assert str(err) == f'Ditolak oleh aturan "{label}": lembaga {words} {world.region.name}.'


def _funded_last_year(world):
    org = world.organisation()
    old = world.draft(org_id=org.id)
    world.conn.execute("UPDATE proposals SET budget_year = budget_year - 1 WHERE id = ?", [old.id])
    world.conn.commit()
    return org, world.advance(proposals.get(world.conn, old.id), "closed")


def test_funded_previous_year_is_refused_unless_allowed(world):
    org, old = _funded_last_year(world)
    p = world.draft(org_id=org.id)
    if world.region.rules.get("allow_consecutive_funding"):
        assert world.act(p, "submit").state == "submitted"
        return
    err = refused(world, p)
    assert err.rule == "previous_year"
    assert str(err) == (
        f'Ditolak oleh aturan "Tidak menerima hibah tahun sebelumnya": lembaga sudah menerima hibah pada tahun anggaran'
        f" {old.budget_year}; daerah ini tidak mengizinkan hibah berturut-turut."
    )


def test_overdue_lpj_blocks_a_new_proposal(world):
    org = world.organisation()
    old = world.proposal("disbursed", org_id=org.id)
    due = (world.region.today() - dt.timedelta(days=3)).isoformat()
    world.conn.execute(
        "UPDATE proposals SET lpj_due_date = ?, budget_year = budget_year - 2 WHERE id = ?", [due, old.id]
    )
    world.conn.commit()
    p = world.draft(org_id=org.id)
    if not world.region.rules.get("block_overdue_lpj", True):
        assert world.act(p, "submit").state == "submitted"
        return
    err = refused(world, p)
    assert err.rule == "overdue_lpj"
    assert str(err) == (
        f'Ditolak oleh aturan "Tidak ada LPJ yang terlambat": LPJ hibah {old.tracking_no} belum diserahkan dan sudah'
        f" lewat batas waktu {due}; serahkan LPJ terlebih dahulu."
    )


def _rp(n: int) -> str:
    return "Rp" + f"{n:,}".replace(",", ".")


def test_ceiling_is_never_exceeded(world):
    ceiling = world.programme["ceiling"]
    first = world.proposal("approved", amount=ceiling - 1_000_000)
    assert first.approved_amount == ceiling - 1_000_000
    second = world.proposal("tapd_agreed", amount=2_000_000)
    err = refused(world, second, "approve")
    assert err.rule == "ceiling"
    assert str(err) == (
        f'Ditolak oleh aturan "Pagu program": penetapan {_rp(2_000_000)} membuat total {_rp(ceiling + 1_000_000)}'
        f" melebihi pagu {world.programme['name']} sebesar {_rp(ceiling)} (sisa pagu {_rp(1_000_000)})."
    )
    third = world.proposal("tapd_agreed", amount=1_000_000)
    assert world.act(third, "approve").state == "approved"


def test_ceiling_holds_under_two_concurrent_approvals(world, app):
    """Two heads approve at the same moment on separate connections; only one fits the ceiling."""
    ceiling = world.programme["ceiling"]
    half = ceiling // 2 + 1_000_000
    a = world.proposal("tapd_agreed", amount=half)
    b = world.proposal("tapd_agreed", amount=half)
    head = world.users["head"]
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def approve(pid: int) -> None:
        conn = db.connect(app.config["DATABASE"])
        try:
            with app.app_context():
                data = {"decree_number": f"900/{pid}", "decree_date": world.region.today().isoformat(), "amount": half}
                barrier.wait()
                try:
                    results[pid] = proposals.perform(conn, world.region, head, pid, "approve", data).state
                except RuleViolation as exc:
                    results[pid] = exc.rule
        finally:
            conn.close()

    threads = [threading.Thread(target=approve, args=(pid,)) for pid in (a.id, b.id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(map(str, results.values())) == ["approved", "ceiling"]
    total = world.conn.execute(
        "SELECT SUM(approved_amount) FROM proposals WHERE programme_code = ? AND is_recipient = 1",
        [world.programme["code"]],
    ).fetchone()[0]
    assert total == half <= ceiling


def test_disbursement_never_exceeds_the_approved_amount(world):
    p = world.proposal("nphd_signed", amount=10_000_000)
    err = refused(world, p, "disburse", amount=10_000_001)
    assert err.rule == "tranche_limit"
    assert str(err) == (
        f'Ditolak oleh aturan "Batas pencairan": pencairan {_rp(10_000_001)} membuat total {_rp(10_000_001)}'
        f" melebihi nilai yang ditetapkan {_rp(10_000_000)}."
    )


def test_tranche_count_is_limited_by_the_profile(world):
    p = world.proposal("nphd_signed", amount=10_000_000)
    for _ in range(world.wf.max_tranches):
        p = world.act(p, "disburse", amount=1)
    err = refused(world, p, "disburse", amount=1)
    assert err.rule == "tranche_limit"
    assert f"{world.wf.max_tranches} tahap" in str(err)


def test_rules_are_listed_before_submitting(world, client, login):
    org = world.organisation(has_secretariat=False)
    p = world.draft(org_id=org.id, documents=False)
    login("applicant")
    page = client.get(f"/proposal/{p.id}/dokumen").get_data(as_text=True)
    assert 'data-rule="documents_complete"' in page
    if world.region.rules.get("require_secretariat", True):
        assert 'data-rule="secretariat"' in page
