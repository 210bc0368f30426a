"""`kit new`: real copier, real git; atomic; the rendered instance runs and passes its own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import GIT_IDENTITY, REGIONS, SLUGS, git, instance_env, snapshot_template


@pytest.mark.parametrize("slug", SLUGS)
def test_new_renders_every_region(kit, tmp_path, template_repo, slug):
    dest = tmp_path / slug
    res = kit("new", slug, "--dest", str(dest))
    assert res.returncode == 0, res.stderr
    profile = yaml.safe_load((REGIONS / f"{slug}.yml").read_text())
    region = yaml.safe_load((dest / "region.yml").read_text())
    assert region["slug"] == slug
    assert region["name"] == profile["name"]
    assert region["kode"] == profile["kode"]
    assert region["head_title"] in ("Bupati", "Wali Kota", "Gubernur")
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(template_repo)
    assert answers["_commit"] == git(template_repo, "describe", "--tags", "--always").strip()
    assert answers["region"] == region
    logo = profile["branding"]["logo"]
    assert (dest / "branding" / logo).read_bytes() == (REGIONS / "assets" / slug / logo).read_bytes()
    # committed, clean, on main
    assert git(dest, "status", "--porcelain") == ""
    head = git(template_repo, "rev-parse", "HEAD").strip()
    assert git(dest, "log", "--format=%s").strip() == f"Render {profile['name']} from template {head[:12]}"
    assert "Next steps:" in res.stdout
    assert f"cd {dest}" in res.stdout


def test_instance_own_tests_pass(rendered, tmp_path):
    instance = rendered("tasikmalaya")
    env = instance_env(instance, tmp_path / "data")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
        cwd=instance,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
    assert "failed" not in proc.stdout


def _leftovers(parent):
    return sorted(p.name for p in parent.iterdir()) if parent.exists() else []


def test_new_refuses_a_non_empty_destination_and_touches_nothing(kit, tmp_path):
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    res = kit("new", "tasikmalaya", "--dest", str(dest))
    assert res.returncode == 1
    assert res.stderr.strip() == f"Error: {dest} already exists and is not empty; choose another --dest or remove it"
    assert _leftovers(dest) == ["keep.txt"]
    assert (dest / "keep.txt").read_text() == "mine"
    assert _leftovers(tmp_path) == ["taken"]


def test_new_into_an_empty_directory_is_fine(kit, tmp_path):
    dest = tmp_path / "empty"
    dest.mkdir()
    res = kit("new", "tasikmalaya", "--dest", str(dest))
    assert res.returncode == 0, res.stderr
    assert (dest / "region.yml").is_file()


def test_new_default_destination_is_instances_slug(kit, kit_env):
    res = kit("new", "tasikmalaya")
    assert res.returncode == 0, res.stderr
    assert (Path(kit_env["KIT_INSTANCES"]) / "tasikmalaya" / "region.yml").is_file()


def test_unknown_ref_is_refused_and_nothing_is_written(kit, tmp_path, template_repo):
    dest = tmp_path / "out" / "tasik"
    res = kit("new", "tasikmalaya", "--dest", str(dest), "--ref", "v9.9.9")
    assert res.returncode == 1
    assert res.stderr.strip() == (
        f"Error: template ref 'v9.9.9' does not exist in {template_repo}; the template has no tags yet"
    )
    assert not (tmp_path / "out").exists()


def test_git_missing_from_path_is_a_clear_error(kit, tmp_path):
    dest = tmp_path / "tasik"
    res = kit("new", "tasikmalaya", "--dest", str(dest), env={"PATH": str(Path(sys.executable).parent)})
    assert res.returncode == 1
    assert (
        res.stderr.strip()
        == "Error: git is not installed or not on PATH; install it (apt-get install git) and try again"
    )
    assert not dest.exists()


def test_invalid_profile_renders_nothing(kit, tmp_path):
    regions = tmp_path / "regions"
    shutil.copytree(REGIONS, regions)
    text = (regions / "tasikmalaya.yml").read_text().replace("budget_year: 2027", "budget_year: soon")
    (regions / "tasikmalaya.yml").write_text(text)
    dest = tmp_path / "tasik"
    res = kit("new", "tasikmalaya", "--dest", str(dest), env={"KIT_REGIONS": str(regions)}, cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.startswith("Error: regions/tasikmalaya.yml:")
    assert "budget_year: expected a whole number, got 'soon'" in res.stderr
    assert not dest.exists()


def test_a_render_failure_midway_leaves_no_partial_directory(kit, tmp_path):
    broken = snapshot_template(tmp_path / "broken-template")
    # a template file late in the render that uses an undefined variable (strict undefined)
    (broken / "template" / "tests" / "zz_broken.txt.jinja").write_text("{{ no_such_answer }}\n")
    git(broken, "add", "-A")
    git(broken, "commit", "-qm", "break the template")
    parent = tmp_path / "renders"
    parent.mkdir()
    res = kit("new", "tasikmalaya", "--dest", str(parent / "tasik"), env={"KIT_TEMPLATE": str(broken)})
    assert res.returncode == 1
    assert res.stderr.startswith("Error: copier could not render tasikmalaya: ")
    assert "no_such_answer" in res.stderr
    assert _leftovers(parent) == []


def test_relative_template_path_is_recorded_absolute(kit, tmp_path, template_repo):
    dest = tmp_path / "tasik"
    rel = os.path.relpath(template_repo, tmp_path)
    res = kit("--template", rel, "new", "tasikmalaya", "--dest", str(dest), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(template_repo)


def test_uncommitted_template_changes_are_not_rendered(kit, tmp_path):
    repo = snapshot_template(tmp_path / "tpl")
    head = git(repo, "rev-parse", "HEAD").strip()
    (repo / "template" / "README.md.jinja").write_text("draft\n")
    dest = tmp_path / "tasik"
    res = kit("new", "tasikmalaya", "--dest", str(dest), env={"KIT_TEMPLATE": str(repo)})
    assert res.returncode == 0, res.stderr
    assert (
        "Warning: the template has uncommitted changes (template/README.md.jinja); rendering the last commit"
        in res.stderr
    )
    assert (dest / "README.md").read_text() != "draft\n"
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert git(repo, "rev-parse", answers["_commit"]).strip() == head


def test_plain_copier_update_brings_a_template_change_and_keeps_a_local_edit(kit, tmp_path):
    repo = snapshot_template(tmp_path / "tpl")
    git(repo, "tag", "v1.0.0")
    dest = tmp_path / "tasik"
    res = kit("new", "tasikmalaya", "--dest", str(dest), "--ref", "v1.0.0", env={"KIT_TEMPLATE": str(repo)})
    assert res.returncode == 0, res.stderr
    assert yaml.safe_load((dest / ".copier-answers.yml").read_text())["_commit"] == "v1.0.0"

    # the region's own edit, committed in the instance
    readme = dest / "README.md"
    readme.write_text(readme.read_text() + "\nKontak darurat: Diskominfo, ext. 204\n")
    git(dest, "commit", "-qam", "local contact line")

    # upstream: a change in a file the region did not touch, released as v2.0.0
    css = repo / "template" / "src" / "hibahbansos" / "static" / "css" / "app.css"
    css.write_text(css.read_text() + "\n.upstream-v2 { color: inherit; }\n")
    git(repo, "commit", "-qam", "v2 style")
    git(repo, "tag", "v2.0.0")

    env = {**os.environ, **GIT_IDENTITY}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "copier"), "update", "--defaults", "--skip-tasks"],
        cwd=dest,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert ".upstream-v2 { color: inherit; }" in (dest / "src/hibahbansos/static/css/app.css").read_text()
    assert "Kontak darurat: Diskominfo, ext. 204" in readme.read_text()
    assert yaml.safe_load((dest / ".copier-answers.yml").read_text())["_commit"] == "v2.0.0"
    assert git(dest, "diff", "--name-only", "--diff-filter=U") == ""


@pytest.mark.slow
def test_rendered_instance_installs_with_pip_and_its_tests_pass(rendered, tmp_path):
    """The README of an instance, for real: a fresh venv, pip install -e .[test], pytest."""
    instance = tmp_path / "inst"
    shutil.copytree(rendered("tasikmalaya"), instance)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "-e", ".[test]"], cwd=instance, capture_output=True, text=True
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HIBAHBANSOS_", "PYTHON", "VIRTUAL_ENV"))}
    proc = subprocess.run(
        [str(venv / "bin" / "pytest"), "-q", "-p", "no:cacheprovider"],
        cwd=instance,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
    cli = subprocess.run(
        [str(venv / "bin" / "hibahbansos"), "--version"], cwd=instance, capture_output=True, text=True, env=env
    )
    assert cli.returncode == 0 and cli.stdout.startswith("hibahbansos, version ")


def test_default_is_the_newest_release_like_copier(kit, tmp_path):
    repo = snapshot_template(tmp_path / "tpl")
    git(repo, "tag", "v1.0.0")
    readme = repo / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nunreleased line\n")
    git(repo, "commit", "-qam", "work after the release")
    dest = tmp_path / "tasik"
    res = kit("new", "tasikmalaya", "--dest", str(dest), env={"KIT_TEMPLATE": str(repo)})
    assert res.returncode == 0, res.stderr
    assert (
        "Warning: rendering the newest release v1.0.0; the template has newer commits (pass --ref HEAD to render them)"
        in res.stderr
    )
    assert yaml.safe_load((dest / ".copier-answers.yml").read_text())["_commit"] == "v1.0.0"
    assert "unreleased line" not in (dest / "README.md").read_text()
    head = tmp_path / "tasik-head"
    res = kit("new", "tasikmalaya", "--dest", str(head), "--ref", "HEAD", env={"KIT_TEMPLATE": str(repo)})
    assert res.returncode == 0, res.stderr
    assert "unreleased line" in (head / "README.md").read_text()
    assert yaml.safe_load((head / ".copier-answers.yml").read_text())["_commit"].startswith("v1.0.0-1-g")
