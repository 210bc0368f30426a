"""kill -9 in the middle of an import: every row fully in or not at all; a rerun completes it.

A real `hibahbansos bansos import` runs in a child process and gets SIGKILL at several points
while it writes; after each kill the database is checked against the file, then the same
command is run again until it finishes.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bansos_helpers import people, planted, read_issue_file, run_import, write_csv
from conftest import HOME

pytest_plugins = ["bansos_fixtures"]

ROWS = 12_000
BATCH = 400


def _env(data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIBAHBANSOS_")}
    env.update(
        HIBAHBANSOS_HOME=str(HOME),
        HIBAHBANSOS_DATA=str(data),
        HIBAHBANSOS_SECRET_KEY="test-secret",
        HIBAHBANSOS_AUDIT_KEY="test-audit-key",
        PYTHONPATH=os.pathsep.join(p for p in (str(HOME / "src"), os.environ.get("PYTHONPATH")) if p),
    )
    return env


def _command(path: Path) -> list[str]:
    return [sys.executable, "-m", "hibahbansos.cli", "bansos", "import", str(path), "--batch-size", str(BATCH)]


def _journal(database: Path) -> tuple | None:
    conn = sqlite3.connect(database, timeout=10)
    try:
        return conn.execute("SELECT id, status, last_row FROM bansos_imports ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()


def _kill_after(path: Path, data: Path, past_row: int) -> None:
    """Start the import and SIGKILL it once its journal has committed past `past_row`."""
    child = subprocess.Popen(_command(path), env=_env(data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            found = _journal(data / "hibahbansos.db")
            if found and found[2] > past_row:
                break
            if child.poll() is not None:
                raise AssertionError(
                    f"the import ended (exit {child.returncode}) before row {past_row}; make the file larger"
                )
            time.sleep(0.01)
        else:
            raise AssertionError("the import made no progress")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL


def _check_consistent(database: Path, valid: dict[int, str]) -> int:
    """Persons in the database are exactly the valid rows up to the journal's last row."""
    conn = sqlite3.connect(database)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        _, _, last_row = conn.execute(
            "SELECT id, status, last_row FROM bansos_imports ORDER BY id DESC LIMIT 1"
        ).fetchone()
        stored = dict(conn.execute("SELECT source_row, nik FROM bansos_persons").fetchall())
        assert stored == {row: nik for row, nik in valid.items() if row <= last_row}
        # Batches are whole: the journal stops at a batch boundary (or the end of the file).
        assert (last_row - 1) % BATCH == 0 or last_row == ROWS + 1
        # The FTS index holds exactly the committed rows.
        assert conn.execute("SELECT COUNT(*) FROM bansos_persons_fts").fetchone()[0] == len(stored)
        # Problems are recorded for the committed rows only, once each.
        rows = [r for (r,) in conn.execute("SELECT row FROM bansos_import_issues")]
        assert all(r <= last_row for r in rows) and len(rows) == len(set(rows))
        return last_row
    finally:
        conn.close()


def test_kill_9_mid_import_leaves_whole_rows_and_a_rerun_completes(app, region, tmp_path):
    rows = people(region, ROWS, seed=41)
    # Every 500th row gets a NIK of 15 digits: rejected rows must stay rejected across resumes.
    for i in range(0, ROWS, 500):
        rows[i]["NIK"] = rows[i]["NIK"][:15]
    path = write_csv(tmp_path / "besar.csv", rows)
    valid = {i + 2: r["NIK"] for i, r in enumerate(rows) if len(r["NIK"]) == 16}
    data = Path(app.config["DATABASE"]).parent
    database = data / "hibahbansos.db"

    reached = 0
    for target in (ROWS // 6, ROWS // 2, (ROWS * 5) // 6):
        _kill_after(path, data, max(target, reached))
        reached = _check_consistent(database, valid)
        assert _journal(database)[1] == "running"

    done = subprocess.run(_command(path), env=_env(data), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"import #1 (resumed): besar.csv: {ROWS} rows read"
    assert done.stdout.splitlines()[1] == f"  inserted {len(valid)}, updated 0, unchanged 0"
    assert _check_consistent(database, valid) == ROWS + 1
    assert _journal(database)[1] == "done"
    issues = read_issue_file(data / "imports" / "import-1-masalah.csv")
    assert [r for r, *_ in issues] == [i + 2 for i in range(0, ROWS, 500)]
    assert {(c, code) for _, c, _, code, _ in issues} == {("NIK", "invalid")}

    # Running it once more is a plain re-import: nothing changes.
    again = subprocess.run(_command(path), env=_env(data), capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1] == f"  inserted 0, updated 0, unchanged {len(valid)}"


def test_a_crash_after_the_rows_is_finished_by_a_rerun(app, conn, region, tmp_path):
    """Killed between the last batch and the duplicate flags: the rerun only does what is left."""
    rows, _ = planted(region)
    path = write_csv(tmp_path / "dtks.csv", rows)
    first = run_import(app, conn, path)
    persons = conn.execute("SELECT * FROM bansos_persons ORDER BY id").fetchall()
    # The state a kill leaves after the rows phase committed: journal running, no flags yet.
    conn.execute("DELETE FROM bansos_flags")
    conn.execute("UPDATE bansos_imports SET status = 'running', phase = 'duplicates', finished_at = NULL")
    conn.conn.commit()

    again = run_import(app, conn, path)

    assert again.import_id == first.import_id and again.resumed
    assert (again.inserted, again.updated, again.errors) == (first.inserted, first.updated, first.errors)
    assert again.flags == 1
    assert conn.execute("SELECT status, phase FROM bansos_imports").fetchall() == [("done", "done")]
    assert conn.execute("SELECT * FROM bansos_persons ORDER BY id").fetchall() == persons
    assert conn.execute("SELECT COUNT(*) FROM bansos_import_issues").fetchone()[0] == first.errors + first.warnings
