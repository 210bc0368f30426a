"""The app's CLI: migrate, create-admin, backup, seed-demo; errors as one line."""

from __future__ import annotations

import sqlite3

from hibahbansos.cli import main


def test_migrate_is_idempotent(cli_env):
    first = cli_env.invoke(main, ["migrate"])
    assert first.exit_code == 0
    assert cli_env.invoke(main, ["migrate"]).output.strip() == "database is up to date"


def test_migrate_pending_lists_without_applying(cli_env, tmp_path, monkeypatch):
    from hibahbansos.migrations import migration_sets

    data = tmp_path / "fresh-data"
    monkeypatch.setenv("HIBAHBANSOS_DATA", str(data))
    res = cli_env.invoke(main, ["migrate", "--pending"])
    assert res.exit_code == 0
    assert res.output.strip() == "database does not exist yet"
    assert not (data / "hibahbansos.db").exists()  # asking creates nothing
    data.mkdir()
    sqlite3.connect(data / "hibahbansos.db").close()
    every = [f"pending {m.name}:{fn.name}" for m in migration_sets() for fn in m.pending(_empty_db())]
    res = cli_env.invoke(main, ["migrate", "--pending"])
    assert res.output.splitlines() == every and every
    assert cli_env.invoke(main, ["migrate", "--pending"]).output.splitlines() == every  # still pending
    assert cli_env.invoke(main, ["migrate"]).exit_code == 0
    assert cli_env.invoke(main, ["migrate", "--pending"]).output == ""


def _empty_db():
    import sqlite_utils

    return sqlite_utils.Database(memory=True)


def test_create_admin_needs_a_strong_password_and_never_has_a_default(cli_env, conn):
    weak = cli_env.invoke(main, ["create-admin", "root", "--name", "Admin", "--password-file", "-"], input="admin\n")
    assert weak.exit_code == 1
    assert weak.output.strip() == "Error: the password needs at least 12 characters"
    ok = cli_env.invoke(
        main, ["create-admin", "Root", "--name", "Admin Utama", "--password-file", "-"], input="Sandi-Kuat-2027\n"
    )
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip() == "administrator root created"
    roles = conn.execute("SELECT u.username, r.role FROM users u JOIN user_roles r ON r.user_id = u.id").fetchall()
    assert roles == [("root", "admin")]
    again = cli_env.invoke(
        main, ["create-admin", "root", "--name", "X", "--password-file", "-"], input="Sandi-Kuat-2027\n"
    )
    assert again.exit_code == 1
    assert again.output.strip() == "Error: username 'root' is taken"


def test_backup_is_a_consistent_copy(cli_env, app, conn, tmp_path, make_user):
    make_user("desk1", {"desk": None})
    target = tmp_path / "copy.db"
    res = cli_env.invoke(main, ["backup", "--to", str(target)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(target)
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT username FROM users").fetchall() == [("desk1",)]
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_seed_demo_refuses_production(cli_env, monkeypatch):
    monkeypatch.setenv("HIBAHBANSOS_ENV", "production")
    res = cli_env.invoke(main, ["seed-demo"])
    assert res.exit_code == 1
    assert res.output.strip() == "Error: seed-demo refuses to run with HIBAHBANSOS_ENV=production"


def test_seed_demo_creates_one_account_per_role_with_random_passwords(cli_env, conn, tmp_path):
    res = cli_env.invoke(main, ["seed-demo"])
    assert res.exit_code == 0, res.output
    roles = {r for (r,) in conn.execute("SELECT DISTINCT role FROM user_roles")}
    from hibahbansos.roles import ROLES

    assert roles == set(ROLES)
    saved = (tmp_path / "data" / "demo-accounts.txt").read_text().splitlines()
    passwords = [line.split("\t")[1] for line in saved]
    assert len(set(passwords)) == len(passwords) >= len(ROLES)
    again = cli_env.invoke(main, ["seed-demo"])
    assert again.exit_code == 1
    assert again.output.strip() == "Error: the database already has users; pass --force to add demo data anyway"
