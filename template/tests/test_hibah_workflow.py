"""The hibah workflow: every state reachable, the amount trail and history append-only, profile adjustments."""

from __future__ import annotations

import sqlite3

import pytest
from hibah_support import HAPPY

from hibahbansos.errors import InvalidInput, NotAllowed
from hibahbansos.hibah import amounts, proposals, workflow
from hibahbansos.hibah.workflow import STATES


def test_happy_path_reaches_closed_with_full_amount_trail(world):
    p = world.proposal("closed", amount=80_000_000)
    assert p.state == "closed"
    assert p.tracking_no.startswith(f"HB-{p.budget_year}-")
    kinds = [(e.kind, e.amount) for e in amounts.trail(world.conn, p.id)]
    assert kinds == [
        ("requested", 80_000_000),
        ("recommended", 80_000_000),
        ("tapd", 80_000_000),
        ("approved", 80_000_000),
        ("disbursed", 80_000_000),
        ("accounted", 80_000_000),
    ]
    states = [h["to_state"] for h in proposals.history(world.conn, p.id)]
    expected = [
        s
        for s in (
            "submitted",
            "admin_check",
            "opd_evaluation",
            "consideration",
            "tapd",
            "tapd_agreed",
            "approved",
            "nphd_signed",
            "disbursed",
            "lpj_submitted",
            "lpj_verified",
            "closed",
        )
        if s in world.wf.used_states
    ]
    assert states == expected
    assert p.decree_number == "900/Kep.123-BPKAD/2027"
    assert p.lpj_due_date == world.region.lpj_due_date(p.budget_year).isoformat()
    assert p.is_recipient == 1


def test_every_state_is_reachable(world):
    p = world.draft()
    seen = {p.state}
    while p.state != "closed":
        p = world.advance(
            p, next(t.target for t in world.wf.from_state(p.state) if t.action in HAPPY and t.target != p.state)
        )
        seen.add(p.state)
    seen.add(world.act(world.proposal("submitted"), "withdraw").state)
    seen.add(world.act(world.proposal("admin_check"), "return_incomplete", note="Lengkapi akta.").state)
    seen.add(world.act(world.proposal("opd_evaluation"), "reject_opd", note="Di luar prioritas.").state)
    assert seen == set(world.wf.used_states)


def test_corrections_add_rows_and_never_overwrite(world):
    p = world.proposal("opd_evaluation", amount=10_000_000)
    p = world.act(p, "request_revision", note="Turunkan harga satuan.")
    assert p.state == "revision"
    with world.app.app_context():
        proposals.save_rab(
            world.conn,
            world.users["applicant"],
            p.id,
            [
                {"description": "Genteng beton", "quantity": 2, "unit": "paket", "unit_price": 4_000_000},
            ],
        )
    trail = amounts.trail(world.conn, p.id)
    assert [(e.kind, e.amount) for e in trail] == [("requested", 10_000_000), ("requested", 8_000_000)]
    assert proposals.get(world.conn, p.id).requested_amount == 8_000_000
    assert [v["total"] for v in proposals.rab_versions(world.conn, p.id)] == [10_000_000, 8_000_000]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        world.conn.execute("UPDATE amounts SET amount = 1 WHERE proposal_id = ?", [p.id])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        world.conn.execute("DELETE FROM transitions WHERE proposal_id = ?", [p.id])


def test_recommend_with_corrected_rab_makes_a_new_version_and_amount(world):
    p = world.proposal("opd_evaluation", amount=10_000_000)
    lines = [{"description": "Genteng beton", "quantity": 1, "unit": "paket", "unit_price": 7_500_000}]
    p = world.act(p, "recommend", lines=lines, note="Harga disesuaikan standar.")
    assert p.state in ("consideration", "tapd")
    assert p.recommended_amount == 7_500_000
    assert p.requested_amount == 10_000_000
    assert proposals.rab(world.conn, p.id)[0]["unit_price"] == 7_500_000
    assert proposals.rab(world.conn, p.id, version=1)[0]["unit_price"] == 10_000_000


def test_recommendation_above_request_is_refused_next_to_the_field(world):
    p = world.proposal("opd_evaluation", amount=10_000_000)
    with pytest.raises(InvalidInput) as err:
        world.act(p, "recommend", amount=12_000_000)
    assert err.value.field == "amount"
    assert str(err.value) == "Rekomendasi tidak boleh melebihi jumlah yang diusulkan."
    assert proposals.get(world.conn, p.id).state == "opd_evaluation"


def test_step_not_available_in_this_state_is_refused(world):
    p = world.proposal("submitted")
    with pytest.raises(NotAllowed, match='tidak tersedia untuk proposal berstatus "Diajukan"'):
        world.act(p, "approve", user=world.users["head"])


def test_tranches_add_up_and_lpj_waits_for_full_disbursement(world):
    p = world.proposal("nphd_signed", amount=30_000_000)
    p = world.act(p, "disburse", amount=20_000_000)
    assert (p.state, p.disbursed_amount) == ("disbursed", 20_000_000)
    with pytest.raises(Exception) as err:
        world.act(p, "submit_lpj", accounted_amount=20_000_000)
    assert getattr(err.value, "rule", None) == "fully_disbursed"
    p = world.act(p, "disburse", amount=10_000_000)
    assert p.disbursed_amount == 30_000_000
    rows = proposals.disbursements(world.conn, p.id)
    assert [(r["tranche_no"], r["amount"]) for r in rows] == [(1, 20_000_000), (2, 10_000_000)]


def test_profile_can_skip_consideration_and_reassign_roles():
    wf = workflow.build(
        {"skip_consideration": True, "actions": {"forward_to_tapd": ["tapd"], "approve": ["tapd", "head"]}}
    )
    assert wf.get("recommend").target == "tapd"
    assert "consideration" not in wf.used_states
    assert wf.get("forward_to_tapd") is None
    assert wf.get("approve").roles == ("tapd", "head")
    default = workflow.build(None)
    assert default.get("recommend").target == "consideration"
    assert default.get("approve").roles == ("head",)


def test_owner_steps_cannot_be_given_to_staff():
    wf = workflow.build({"actions": {"submit": ["desk"]}})
    assert wf.get("submit").roles == ("applicant",)


def test_every_state_has_a_label_and_recipient_states_follow_approval():
    assert workflow.RECIPIENT_STATES == (
        "approved",
        "nphd_signed",
        "disbursed",
        "lpj_submitted",
        "lpj_verified",
        "closed",
    )
    assert all(str(s.label) for s in STATES.values())


def test_tracking_numbers_are_long_random_and_forgiving_to_type():
    numbers = {proposals.new_tracking_number("HB", 2027) for _ in range(500)}
    assert len(numbers) == 500
    number = next(iter(numbers))
    assert len(number) == len("HB-2027-ABCDE-FGHJK")
    assert proposals.normalise_tracking_number(" hb-2027-0abcd-efghj ".replace("0", "O")) == "HB-2027-0ABCD-EFGHJ"
