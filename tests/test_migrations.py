"""Migrations across template versions: the app's SQLite data, and copier `_migrations` for file moves."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import GIT_IDENTITY, git, hibahbansos, instance_env
from fleetlib import answers, commit_edit, fleet_profiles, release, render_instances, versioned_template

MIGRATIONS = "template/src/hibahbansos/migrations.py"

# v0.2.0 of the template adds this migration to the core set: a new column filled from old data
M003 = """

@core()
def m003_users_display_name(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE users ADD COLUMN display_name TEXT")
    db.execute("UPDATE users SET display_name = full_name || ' (' || username || ')'")
"""


def test_new_version_with_a_db_migration_upgrades_the_previous_versions_database(kit, tmp_path):
    repo = versioned_template(tmp_path / "template")
    regions, instances = tmp_path / "regions", tmp_path / "instances"
    fleet_profiles(regions, count=1)  # bogor
    render_instances(repo, regions, instances, ["bogor"])
    inst, data = instances / "bogor", tmp_path / "data"

    # the region runs v0.1.0: its database has an administrator and audit records
    assert hibahbansos(inst, data, "migrate").returncode == 0
    pw = tmp_path / "pw"
    pw.write_text("A-long-enough-Password-42\n")
    made = hibahbansos(inst, data, "create-admin", "admin", "--name", "Admin Bogor", "--password-file", str(pw))
    assert made.returncode == 0, made.stderr
    db = data / "hibahbansos.db"
    with sqlite3.connect(db) as conn:
        audit_before = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert audit_before >= 1

    source = (repo / MIGRATIONS).read_text()
    anchor = "\n\ndef migration_sets()"
    release(repo, "v0.2.0", {MIGRATIONS: source.replace(anchor, M003 + anchor, 1)})
    res = kit(
        "update", "bogor", env={"KIT_TEMPLATE": str(repo), "KIT_REGIONS": str(regions), "KIT_INSTANCES": str(instances)}
    )
    assert res.returncode == 0, res.stderr
    assert answers(inst)["_commit"] == "v0.2.0"

    # the new code sees one pending migration on the old database and applies it in place
    check = (
        "from hibahbansos import db, migrations as m; import sys; print(m.pending_migrations(db.connect(sys.argv[1])))"
    )
    pending = subprocess.run(
        [sys.executable, "-c", check, str(db)], capture_output=True, text=True, env=instance_env(inst, data)
    )
    assert pending.stdout.strip() == "['hibahbansos.core:m003_users_display_name']", pending.stderr
    migrated = hibahbansos(inst, data, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT username, full_name, display_name FROM users").fetchall()
        audit_after = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert rows == [("admin", "Admin Bogor", "Admin Bogor (admin)")]
    assert audit_after == audit_before  # nothing lost
    assert hibahbansos(inst, data, "audit", "verify").returncode == 0
    again = subprocess.run(
        [sys.executable, "-c", check, str(db)], capture_output=True, text=True, env=instance_env(inst, data)
    )
    assert again.stdout.strip() == "[]"
    # /healthz reports the new template version and a healthy database
    probe = (
        "from hibahbansos import create_app; c = create_app().test_client(); r = c.get('/healthz'); "
        "import json; print(r.status_code, json.dumps(r.get_json(), sort_keys=True))"
    )
    health = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=instance_env(inst, data), cwd=inst
    )
    code, body = health.stdout.split(" ", 1)
    assert code == "200", health.stderr
    assert '"template_version": "v0.2.0"' in body and '"pending_migrations": []' in body


def _rename_release(repo: Path) -> None:
    """v0.2.0: upstream renames app.css to main.css, and a copier migration moves a region-owned file."""
    css_old = "template/src/hibahbansos/static/css/app.css"
    css_new = "template/src/hibahbansos/static/css/main.css"
    git(repo, "mv", css_old, css_new)
    copier_yml = (repo / "copier.yml").read_text()
    migration = (
        "_migrations:\n"
        "  - version: v0.2.0\n"
        '    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/move.py",\n'
        '              "overrides/templates/home_extra.html", "overrides/templates/home/extra.html"]\n'
    )
    assert "_migrations: []\n" in copier_yml
    release(repo, "v0.2.0", {"copier.yml": copier_yml.replace("_migrations: []\n", migration)}, "rename app.css")


def test_migrations_move_region_files_and_the_merge_follows_an_upstream_rename(kit, tmp_path):
    repo = versioned_template(tmp_path / "template")
    regions, instances = tmp_path / "regions", tmp_path / "instances"
    fleet_profiles(regions, count=2)  # bogor, sukabumi
    render_instances(repo, regions, instances, ["bogor", "sukabumi"])
    for slug in ("bogor", "sukabumi"):
        inst = instances / slug
        # the region's own override file (upstream never ships it) and a local edit of app.css
        extra = inst / "overrides" / "templates" / "home_extra.html"
        extra.parent.mkdir(parents=True, exist_ok=True)
        extra.write_text(f"<p>Pengumuman {slug}</p>\n")
        git(inst, "add", "-A")
        git(inst, "commit", "-qm", "region override")
        commit_edit(inst, "src/hibahbansos/static/css/app.css", "}\n", "}\n/* local: larger print */\n")
    _rename_release(repo)
    env = {"KIT_TEMPLATE": str(repo), "KIT_REGIONS": str(regions), "KIT_INSTANCES": str(instances)}

    dry = kit("update", "bogor", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "  overrides/templates/home/extra.html" in dry.stdout.splitlines()
    assert not (instances / "bogor" / "overrides/templates/home/extra.html").exists()

    res = kit("update", "bogor", env=env)
    assert res.returncode == 0, res.stderr
    inst = instances / "bogor"
    first = res.stdout.splitlines()[0]
    assert first.startswith(f"Ran migration: {sys.executable} /")
    assert first.endswith("/migrations/move.py overrides/templates/home_extra.html overrides/templates/home/extra.html")
    assert (inst / "overrides/templates/home/extra.html").read_text() == "<p>Pengumuman bogor</p>\n"
    assert not (inst / "overrides/templates/home_extra.html").exists()
    css = inst / "src/hibahbansos/static/css/main.css"
    assert "/* local: larger print */" in css.read_text()  # the local edit followed the rename
    assert not (inst / "src/hibahbansos/static/css/app.css").exists()
    assert git(inst, "status", "--porcelain") == ""
    assert git(inst, "show", "--name-status", "--format=", "HEAD", "-M", "--first-parent").splitlines() == [
        "M\t.copier-answers.yml",
        "R100\toverrides/templates/home_extra.html\toverrides/templates/home/extra.html",
        "R100\tsrc/hibahbansos/static/css/app.css\tsrc/hibahbansos/static/css/main.css",
    ]

    # plain copier runs the very same migration (it is a real copier `_migrations` entry)
    other = instances / "sukabumi"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "copier"), "update", "--defaults", "--trust", "--skip-tasks"],
        cwd=other,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_IDENTITY},
    )
    assert proc.returncode == 0, proc.stderr
    assert (other / "overrides/templates/home/extra.html").read_text() == "<p>Pengumuman sukabumi</p>\n"
    assert not (other / "overrides/templates/home_extra.html").exists()
    assert (other / "src/hibahbansos/static/css/main.css").is_file()
    assert answers(other)["_commit"] == "v0.2.0"


def test_a_failing_migration_leaves_the_instance_as_it_was(kit, tmp_path):
    repo = versioned_template(tmp_path / "template")
    regions, instances = tmp_path / "regions", tmp_path / "instances"
    fleet_profiles(regions, count=1)
    render_instances(repo, regions, instances, ["bogor"])
    inst = instances / "bogor"
    head = git(inst, "rev-parse", "HEAD")
    copier_yml = (
        (repo / "copier.yml")
        .read_text()
        .replace("_migrations: []\n", '_migrations:\n  - version: v0.2.0\n    command: "echo moving >&2; exit 7"\n')
    )
    css = "template/src/hibahbansos/static/css/app.css"
    release(repo, "v0.2.0", {"copier.yml": copier_yml, css: (repo / css).read_text() + "\n/* v2 */\n"})
    res = kit(
        "update", "bogor", env={"KIT_TEMPLATE": str(repo), "KIT_REGIONS": str(regions), "KIT_INSTANCES": str(instances)}
    )
    assert res.returncode == 1
    assert res.stderr.strip() == (
        "Error: migration `echo moving >&2; exit 7` failed with exit 7: moving; the instance was left as it was before the update"
    )
    assert git(inst, "rev-parse", "HEAD") == head
    assert git(inst, "status", "--porcelain") == ""
    assert "/* v2 */" not in (inst / "src/hibahbansos/static/css/app.css").read_text()
    assert answers(inst)["_commit"] == "v0.1.0"


def test_move_helper_refuses_to_overwrite(tmp_path):
    shutil.copy(Path(__file__).resolve().parents[1] / "migrations" / "move.py", tmp_path / "move.py")
    work = tmp_path / "inst"
    work.mkdir()
    git(work, "init", "-q")
    (work / "a.txt").write_text("a\n")
    (work / "b.txt").write_text("b\n")
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "move.py"), "a.txt", "b.txt"], cwd=work, capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == "Error: cannot move a.txt to b.txt: b.txt exists already; merge the two by hand"
    assert (work / "a.txt").read_text() == "a\n" and (work / "b.txt").read_text() == "b\n"
    nothing = subprocess.run(
        [sys.executable, str(tmp_path / "move.py"), "gone.txt", "c.txt"], cwd=work, capture_output=True, text=True
    )
    assert nothing.returncode == 0 and nothing.stdout.strip() == "nothing to move at gone.txt"
