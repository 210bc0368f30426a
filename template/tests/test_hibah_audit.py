"""The audit chain: hibah actions append to it; editing, inserting or deleting a row is caught by `audit verify`."""

from __future__ import annotations

import json
import sqlite3

from hibahbansos.cli import main


def _verify(cli_env):
    return cli_env.invoke(main, ["audit", "verify"])


def _actions(world) -> list[str]:
    return [r[0] for r in world.conn.execute("SELECT action FROM audit_log ORDER BY id")]


def test_transitions_downloads_and_personal_data_views_are_recorded(world, client, login):
    p = world.proposal("approved")
    transitions = [
        json.loads(d)
        for (d,) in world.conn.execute(
            "SELECT detail FROM audit_log WHERE action = 'hibah.transition' AND subject_id = ?", [str(p.id)]
        )
    ]
    assert [(d["from"], d["to"]) for d in transitions][:3] == [
        ("draft", "submitted"),
        ("submitted", "admin_check"),
        ("admin_check", "opd_evaluation"),
    ]
    assert transitions[-1]["to"] == "approved" and transitions[-1]["amount"] == p.approved_amount
    login("desk")
    before = len(_actions(world))
    file_id = world.conn.execute(
        "SELECT file_id FROM proposal_documents WHERE proposal_id = ? LIMIT 1", [p.id]
    ).fetchone()[0]
    with client.get(f"/usulan/{p.id}/berkas/{file_id}") as res:
        assert res.status_code == 200
    assert client.get(f"/usulan/{p.id}/nphd.pdf").status_code == 200
    page = client.post(f"/usulan/{p.id}/data-pribadi", data={"reveal-reason": "Mencocokkan KTP dengan akta"})
    assert page.status_code == 200
    org_niks = [
        n
        for (n,) in world.conn.execute(
            "SELECT nik FROM organisation_officers WHERE organisation_id = ?", [p.organisation_id]
        )
    ]
    assert all(nik in page.get_data(as_text=True) for nik in org_niks)
    new = _actions(world)[before:]
    assert new == ["hibah.document.download", "hibah.document.download", "hibah.personal_data.view"]
    detail = json.loads(world.conn.execute("SELECT detail FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()[0])
    assert detail["reason"] == "Mencocokkan KTP dengan akta"
    assert not any(nik in json.dumps(detail) for nik in org_niks), "the audit row never holds the NIK itself"


def test_the_proposal_page_shows_niks_masked(world, client, login):
    p = world.proposal("submitted")
    login("desk")
    page = client.get(f"/usulan/{p.id}").get_data(as_text=True)
    for (nik,) in world.conn.execute(
        "SELECT nik FROM organisation_officers WHERE organisation_id = ?", [p.organisation_id]
    ):
        assert nik not in page
        assert nik[:6] + "******" + nik[-4:] in page


def test_verify_passes_on_an_untouched_chain(world, cli_env):
    world.proposal("tapd")
    res = _verify(cli_env)
    assert res.exit_code == 0, res.output
    count = world.conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    assert res.output.strip() == f"audit chain intact: {count} row(s)"


def _raw(world) -> sqlite3.Connection:
    return sqlite3.connect(world.app.config["DATABASE"])


def test_an_edited_row_is_caught(world, cli_env):
    p = world.proposal("tapd_agreed")
    with _raw(world) as raw:
        row_id = raw.execute(
            "SELECT id FROM audit_log WHERE action = 'hibah.transition' AND subject_id = ? ORDER BY id DESC LIMIT 1",
            [str(p.id)],
        ).fetchone()[0]
        raw.execute("UPDATE audit_log SET detail = replace(detail, 'tapd_agreed', 'approved') WHERE id = ?", [row_id])
    res = _verify(cli_env)
    assert res.exit_code == 1
    assert f"broken: row {row_id}: content does not match its hash: the row was edited" in res.output
    assert "Error: audit chain broken" in res.output


def test_an_inserted_row_is_caught(world, cli_env):
    world.proposal("submitted")
    with _raw(world) as raw:
        cols = "at, actor_id, actor, action, subject_type, subject_id, detail, ip, prev_hash, hash"
        last = raw.execute(f"SELECT id, {cols} FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        raw.execute(
            f"INSERT INTO audit_log (id, {cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [last[0] + 1, *last[1:]]
        )
    res = _verify(cli_env)
    assert res.exit_code == 1
    assert f"broken: row {last[0] + 1}: does not link to the row before it" in res.output


def test_a_deleted_row_is_caught(world, cli_env):
    world.proposal("admin_check")
    with _raw(world) as raw:
        raw.execute("DELETE FROM audit_log WHERE id = 3")
    res = _verify(cli_env)
    assert res.exit_code == 1
    assert "broken: row 4: expected row 3 here: rows were deleted or inserted" in res.output


def test_a_row_deleted_from_the_end_is_caught(world, cli_env):
    world.proposal("admin_check")
    with _raw(world) as raw:
        last = raw.execute("SELECT MAX(id) FROM audit_log").fetchone()[0]
        raw.execute("DELETE FROM audit_log WHERE id = ?", [last])
    res = _verify(cli_env)
    assert res.exit_code == 1
    assert f"the chain should end at row {last} but ends at row {last - 1}" in res.output


def test_the_inspector_reads_the_log_and_sees_a_broken_chain(world, client, login):
    p = world.proposal("submitted")
    login("inspector")
    page = client.get(f"/log-audit?subjek=proposal:{p.id}").get_data(as_text=True)
    assert "Rantai audit utuh" in page
    assert "hibah.transition" in page and "to=submitted" in page
    with _raw(world) as raw:
        raw.execute("UPDATE audit_log SET actor = 'orang-lain' WHERE id = 2")
    page = client.get("/log-audit").get_data(as_text=True)
    assert "Rantai audit rusak: 1 masalah." in page
    assert "row 2: content does not match its hash: the row was edited" in page
