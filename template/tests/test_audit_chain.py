"""The audit chain: `hibahbansos audit verify` catches an edited, inserted or deleted row."""

from __future__ import annotations

import sqlite3

import pytest

from hibahbansos import audit
from hibahbansos.cli import main


@pytest.fixture
def chain(app, conn):
    """Five audit rows written the normal way; returns the database path."""
    with app.app_context():
        for i in range(5):
            audit.record(conn, "test.event", subject_type="proposal", subject_id=i, detail={"n": i}, actor="cli")
    return app.config["DATABASE"]


def _verify(cli_env):
    return cli_env.invoke(main, ["audit", "verify"])


def _tamper(path: str, *sql: str) -> None:
    raw = sqlite3.connect(path)
    for statement in sql:
        raw.execute(statement)
    raw.commit()
    raw.close()


def test_intact_chain_verifies(chain, cli_env):
    res = _verify(cli_env)
    assert res.exit_code == 0
    assert res.output.strip() == "audit chain intact: 5 row(s)"


def test_edited_row_is_caught(chain, cli_env):
    _tamper(chain, "UPDATE audit_log SET detail = '{\"n\": 99}' WHERE id = 3")
    res = _verify(cli_env)
    assert res.exit_code == 1
    assert "broken: row 3: content does not match its hash: the row was edited" in res.output
    assert "Error: audit chain broken: 1 problem(s) in 5 row(s)" in res.output


def test_deleted_row_is_caught(chain, cli_env):
    _tamper(chain, "DELETE FROM audit_log WHERE id = 2")
    res = _verify(cli_env)
    assert res.exit_code == 1
    assert "broken: row 3: expected row 2 here: rows were deleted or inserted" in res.output
    assert "broken: row 3: does not link to the row before it: a row was inserted, deleted or edited" in res.output


def test_inserted_row_is_caught(chain, cli_env):
    _tamper(
        chain,
        "UPDATE audit_log SET id = id + 100 WHERE id >= 4",
        "UPDATE audit_log SET id = id - 99 WHERE id >= 104",
        "INSERT INTO audit_log (id, at, actor_id, actor, action, subject_type, subject_id, detail, ip, prev_hash, hash)"
        " SELECT 4, at, actor_id, 'pemalsu', action, subject_type, subject_id, detail, ip, hash, hash FROM audit_log WHERE id = 3",
        "UPDATE audit_head SET last_id = 6",
    )
    res = _verify(cli_env)
    assert res.exit_code == 1
    assert "broken: row 4: content does not match its hash: the row was edited" in res.output
    assert "broken: row 5: content does not match its hash" in res.output  # its id moved
    assert "broken: log: the chain head was edited" in res.output


def test_rows_removed_from_the_end_are_caught(chain, cli_env):
    _tamper(chain, "DELETE FROM audit_log WHERE id = 5")
    res = _verify(cli_env)
    assert res.exit_code == 1
    assert "broken: log: the chain should end at row 5 but ends at row 4" in res.output


def test_rehashing_without_the_key_is_caught(chain, cli_env):
    """An attacker who recomputes plain SHA-256 hashes still fails: the chain is keyed."""
    import hashlib

    raw = sqlite3.connect(chain)
    rows = raw.execute("SELECT id, hash FROM audit_log ORDER BY id").fetchall()
    raw.execute("UPDATE audit_log SET detail = '{}' , hash = ? WHERE id = 1", [hashlib.sha256(b"forged").hexdigest()])
    raw.commit()
    raw.close()
    assert rows
    res = _verify(cli_env)
    assert res.exit_code == 1
    assert "broken: row 1: content does not match its hash: the row was edited" in res.output


def test_verify_with_another_key_fails(chain, cli_env, monkeypatch):
    monkeypatch.setenv("HIBAHBANSOS_AUDIT_KEY", "another-key")
    res = _verify(cli_env)
    assert res.exit_code == 1
    assert "content does not match its hash" in res.output
