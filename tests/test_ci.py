"""The fleet's CI: which regions a change touches, sharding, the workflows, and one region really tested."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from conftest import REGIONS, ROOT, git
from fleetlib import fleet_profiles


@pytest.fixture
def fleet_repo(tmp_path):
    """A fleet repository: copier.yml, template/ and three region profiles, committed."""
    repo = tmp_path / "fleet"
    (repo / "template").mkdir(parents=True)
    shutil.copy(ROOT / "copier.yml", repo / "copier.yml")
    (repo / "template" / "README.md.jinja").write_text("# {{ region.name }}\n")
    fleet_profiles(repo / "regions", count=3)  # bogor, sukabumi, cianjur
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "fleet")
    return repo


def plan(kit, repo, *args):
    res = kit("ci", "plan", *args, env={"KIT_REGIONS": str(repo / "regions")}, cwd=repo)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_a_profile_change_touches_that_region_only(kit, fleet_repo):
    base = git(fleet_repo, "rev-parse", "HEAD").strip()
    path = fleet_repo / "regions" / "sukabumi.yml"
    path.write_text(path.read_text().replace("budget_year: 2027", "budget_year: 2028"))
    (fleet_repo / "regions" / "assets" / "cianjur" / "logo.svg").write_text("<svg/>")
    git(fleet_repo, "commit", "-qam", "profile and logo")
    assert plan(kit, fleet_repo, "--base", base) == {
        "regions": ["cianjur", "sukabumi"],
        "every": False,
        "reason": "2 profile(s) changed",
    }


def test_a_template_change_touches_every_region(kit, fleet_repo):
    base = git(fleet_repo, "rev-parse", "HEAD").strip()
    (fleet_repo / "template" / "README.md.jinja").write_text("# {{ region.name }}!\n")
    git(fleet_repo, "commit", "-qam", "template")
    assert plan(kit, fleet_repo, "--base", base) == {
        "regions": ["bogor", "cianjur", "sukabumi"],
        "every": True,
        "reason": "template/README.md.jinja changed",
    }
    assert plan(kit, fleet_repo)["every"] is True  # no base: everything


def test_shards_split_the_regions_and_an_empty_shard_is_fine(kit, fleet_repo):
    base = git(fleet_repo, "rev-parse", "HEAD").strip()
    git(fleet_repo, "commit", "-q", "--allow-empty", "-m", "nothing")
    res = kit(
        "ci", "test", "--base", base, "--shard", "2/4", env={"KIT_REGIONS": str(fleet_repo / "regions")}, cwd=fleet_repo
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "Nothing to test in shard 2/4."
    bad = kit("ci", "test", "--shard", "5/4", env={"KIT_REGIONS": str(fleet_repo / "regions")}, cwd=fleet_repo)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "Error: --shard 5/4: the job number must be between 1 and 4"


def test_workflows_validate_every_profile_and_test_every_shard():
    gh = yaml.safe_load((ROOT / ".github/workflows/fleet.yml").read_text())
    steps = [s.get("run", "") for s in gh["jobs"]["validate"]["steps"]]
    assert "kit validate" in steps
    shards = int(gh["env"]["SHARDS"])
    assert gh["jobs"]["regions"]["strategy"]["matrix"]["shard"] == list(range(1, shards + 1))
    run = [s["run"] for s in gh["jobs"]["regions"]["steps"] if "kit ci test" in s.get("run", "")]
    assert run == ['kit ci test --base "$BASE" --shard "${{ matrix.shard }}/$SHARDS"']
    gl = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())
    assert "kit validate" in gl["validate"]["script"]
    assert gl["regions"]["parallel"] == shards
    assert any('--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"' in line for line in gl["regions"]["script"])


@pytest.mark.slow
def test_ci_test_renders_a_region_and_runs_its_own_tests(kit, template_repo):
    res = kit("ci", "test", "tasikmalaya", env={"KIT_TEMPLATE": str(template_repo), "KIT_REGIONS": str(REGIONS)})
    assert res.returncode == 0, res.stdout + res.stderr
    first, last = res.stdout.strip().splitlines()
    assert first.startswith("PASS tasikmalaya: ") and " passed" in first
    assert last == "1 passed, 0 failed"
