"""What `kit deploy` and friends check on the control machine, before any server is touched.

No server is booted here: every case stops before Ansible runs (an address nothing listens on
stands in for a server), so the messages a technician sees are asserted exactly.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import REGIONS, git

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def kit_cache(tmp_path_factory) -> Path:
    """One wheelhouse for the whole session: building it takes pip a while."""
    return tmp_path_factory.mktemp("kit-cache")


@pytest.fixture
def ws(tmp_path, kit_cache):
    regions = tmp_path / "regions"
    (regions / "assets").mkdir(parents=True)
    shutil.copytree(REGIONS / "assets" / "tasikmalaya", regions / "assets" / "tasikmalaya")
    data = yaml.safe_load((REGIONS / "tasikmalaya.yml").read_text())
    data["server"] = {"host": "127.0.0.1", "port": 1, "user": "deploy"}  # nothing listens on port 1
    (regions / "tasikmalaya.yml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    pw = tmp_path / "vault-pass"
    pw.write_text("pw\n")
    env = {
        "KIT_REGIONS": str(regions),
        "KIT_INSTANCES": str(tmp_path / "instances"),
        "KIT_CACHE": str(kit_cache),
        "KIT_VAULT_PASSWORD_FILE": str(pw),
    }
    return {"regions": regions, "env": env, "instances": tmp_path / "instances", "data": data}


def edit(ws, change) -> None:
    path = ws["regions"] / "tasikmalaya.yml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def test_deploy_needs_a_slug_or_all(kit, ws):
    res = kit("deploy", env=ws["env"])
    assert res.returncode == 2
    assert "Error: name at least one region (kit deploy SLUG...) or use --all" in res.stderr


def test_deploy_needs_a_server_section(kit, ws):
    edit(ws, lambda d: d.pop("server"))
    res = kit("deploy", "tasikmalaya", env=ws["env"])
    assert res.returncode == 1
    assert "regions/tasikmalaya.yml: server: no server section; add server: with host:" in res.stderr


def test_deploy_needs_the_secrets(kit, ws):
    res = kit("deploy", "tasikmalaya", env=ws["env"])
    assert res.returncode == 1
    assert (
        "tasikmalaya.secrets.vault does not exist; create the region's secrets with `kit secrets init tasikmalaya`"
        in res.stderr
    )


def test_two_regions_on_one_server_are_refused(kit, ws):
    other = dict(ws["data"], slug="garut", name="Kabupaten Garut", kode="32.05", seat="Tarogong Kidul")
    other["site"] = {"domain": "hibahbansos.garutkab.go.id"}
    shutil.copytree(ws["regions"] / "assets" / "tasikmalaya", ws["regions"] / "assets" / "garut")
    (ws["regions"] / "garut.yml").write_text(yaml.safe_dump(other, sort_keys=False, allow_unicode=True))
    res = kit("deploy", "--all", env=ws["env"])
    assert res.returncode == 1
    assert "garut and tasikmalaya both deploy to 127.0.0.1:1; each region needs its own server" in res.stderr


def test_instance_problems_stop_the_deploy(kit, ws, template_repo):
    env = {**ws["env"], "KIT_TEMPLATE": str(template_repo)}
    assert kit("secrets", "init", "tasikmalaya", env=env).returncode == 0
    # a missing instance is rendered; then the server is unreachable: named with host and port
    res = kit("deploy", "tasikmalaya", env=env)
    assert res.returncode == 1
    assert "tasikmalaya: no instance at" in res.stdout
    assert (
        "Error: tasikmalaya: cannot reach the server at 127.0.0.1 port 1: connection refused "
        "(is sshd running, and on this port?); check server.host and server.port in"
    ) in res.stderr
    instance = ws["instances"] / "tasikmalaya"
    assert git(instance, "status", "--porcelain") == ""
    # uncommitted changes are not shipped
    (instance / "overrides" / "README.md").write_text("changed\n")
    res = kit("deploy", "tasikmalaya", env=env)
    assert res.returncode == 1
    assert "has uncommitted changes (overrides/README.md); the deploy ships committed work only" in res.stderr
    git(instance, "checkout", "--", "overrides/README.md")
    # a profile edited since the render: the instance must be updated first
    edit(ws, lambda d: d.update(budget_year=2028))
    res = kit("deploy", "tasikmalaya", env=env)
    assert res.returncode == 1
    assert "was rendered from an older" in res.stderr
    assert "(budget_year differ); run `kit update tasikmalaya`" in res.stderr
    # settings only the deploy reads need no re-render
    edit(ws, lambda d: d.update(budget_year=ws["data"]["budget_year"], backup={"time": "04:00"}))
    edit(ws, lambda d: d["site"].update(tls="acme", acme_email="kominfo@tasikmalayakab.go.id"))
    res = kit("deploy", "tasikmalaya", env=env)
    assert res.returncode == 1
    assert "cannot reach the server at 127.0.0.1 port 1" in res.stderr


def test_bundle_is_reproducible_and_carries_wheels_for_both_distributions(rendered, tmp_path, kit_cache, monkeypatch):
    from kit import bundle

    monkeypatch.setenv("KIT_CACHE", str(kit_cache))
    instance = tmp_path / "instance"
    shutil.copytree(rendered("tasikmalaya"), instance)
    first = bundle.build(instance, "tasikmalaya", log=lambda _: None)
    blob = first.path.read_bytes()
    first.path.unlink()
    again = bundle.build(instance, "tasikmalaya", log=lambda _: None)
    assert again.path.read_bytes() == blob  # same commit, same bytes: a redeploy uploads nothing
    commit = git(instance, "rev-parse", "HEAD").strip()
    assert again.release.endswith("-" + commit[:10]) and again.instance_commit == commit
    with tarfile.open(again.path) as tar:
        names = tar.getnames()
        meta = json.load(tar.extractfile("release.json"))
    assert meta == {
        "slug": "tasikmalaya",
        "release": again.release,
        "instance_commit": commit,
        "template_version": yaml.safe_load((instance / ".copier-answers.yml").read_text())["_commit"],
        "app_version": again.app_version,
    }
    assert {"region.yml", ".copier-answers.yml", "branding/logo.svg", "overrides/README.md"} <= set(names)
    assert not any(n.startswith(("src/", "tests/")) for n in names)  # the code travels as a wheel
    wheels = [n.removeprefix("wheels/") for n in names if n.startswith("wheels/") and n.endswith(".whl")]
    assert any(w.startswith("hibahbansos-") and w.endswith("-py3-none-any.whl") for w in wheels)
    assert any(w.startswith("pyyaml-") and "-cp311-cp311-manylinux" in w for w in wheels)  # Debian 12
    assert any(w.startswith("pyyaml-") and "-cp312-cp312-manylinux" in w for w in wheels)  # Ubuntu 24.04


def _archive(tmp_path: Path, manifest: dict | None, db: bytes | None) -> Path:
    path = tmp_path / "backup-20270101T000000Z.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in (
            ("manifest.json", json.dumps(manifest).encode() if manifest else None),
            ("hibahbansos.db", db),
        ):
            if data is not None:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def test_restore_refuses_bad_archives_before_touching_the_server(kit, ws, tmp_path):
    good_db = tmp_path / "good.db"
    conn = sqlite3.connect(good_db)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    not_tar = tmp_path / "notes.txt"
    not_tar.write_text("hello")
    res = kit("restore", "tasikmalaya", str(not_tar), env=ws["env"])
    assert res.returncode == 1
    assert "notes.txt cannot be read as a backup" in res.stderr
    res = kit("restore", "tasikmalaya", str(_archive(tmp_path, None, good_db.read_bytes())), env=ws["env"])
    assert res.returncode == 1
    assert "is not a backup made by the kit (no manifest.json or hibahbansos.db in it)" in res.stderr
    res = kit("restore", "tasikmalaya", str(_archive(tmp_path, {"slug": "garut"}, good_db.read_bytes())), env=ws["env"])
    assert res.returncode == 1
    assert "backup-20270101T000000Z.tar.gz is a backup of 'garut', not of tasikmalaya" in res.stderr
    damaged = bytearray(good_db.read_bytes())
    damaged[0:16] = b"not a database!!"
    res = kit("restore", "tasikmalaya", str(_archive(tmp_path, {"slug": "tasikmalaya"}, bytes(damaged))), env=ws["env"])
    assert res.returncode == 1
    assert "cannot be read as a backup: file is not a database" in res.stderr
