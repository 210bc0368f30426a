"""`kit new`: real copier, real git; atomic; the rendered instance runs and passes its own tests."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from conftest import REGIONS, SLUGS, git, instance_env


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
        cwd=instance, env=env, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
    assert "failed" not in proc.stdout
