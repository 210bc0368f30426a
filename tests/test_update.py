"""`kit update`: real copier-made instances, real git, tagged template versions in a temp repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GIT_IDENTITY, git
from fleetlib import (
    answers,
    commit_edit,
    edit,
    fleet_profiles,
    release,
    render_instances,
    snapshot,
    versioned_template,
)

HEADING = "## Run it locally"
CSS = "template/src/hibahbansos/static/css/app.css"
CSS_OUT = "src/hibahbansos/static/css/app.css"


def v2_edits(repo: Path) -> dict[str, str]:
    """Template v0.2.0: a new README heading (the line region 'bandung' also edits) and a CSS rule."""
    readme = (repo / "template/README.md.jinja").read_text().replace(HEADING, "## Run it on your machine")
    css = (repo / CSS).read_text() + "\n.upstream-v2 { color: inherit; }\n"
    return {"template/README.md.jinja": readme, CSS: css}


@pytest.fixture
def fleet(tmp_path):
    """A template at v0.1.0 and eleven regions rendered from it."""
    repo = versioned_template(tmp_path / "template")
    regions, instances = tmp_path / "regions", tmp_path / "instances"
    slugs = fleet_profiles(regions)
    render_instances(repo, regions, instances, slugs)
    env = {"KIT_TEMPLATE": str(repo), "KIT_REGIONS": str(regions), "KIT_INSTANCES": str(instances)}
    return repo, regions, instances, slugs, env


def test_fleet_update_reports_each_region_exactly_and_exits_3_on_a_conflict(kit, fleet):
    repo, regions, instances, slugs, env = fleet
    # bandung edits the very line v0.2.0 changes; garut edits a line v0.2.0 leaves alone
    commit_edit(instances / "bandung", "README.md", HEADING, "## Run it locally (Diskominfo Kab. Bandung)")
    commit_edit(instances / "garut", "README.md", "## Test it", "## Test it before each release")
    # cianjur's profile changes: a new budget year
    edit(regions / "cianjur.yml", "budget_year: 2027", "budget_year: 2028")
    release(repo, "v0.2.0", v2_edits(repo))

    res = kit("update", "--all", "--format", "json", env=env)
    assert res.returncode == 3, res.stderr
    report = json.loads(res.stdout)
    assert report["target"] == "v0.2.0"
    assert report["counts"] == {"updated": 10, "already current": 0, "conflicted": 1, "failed": 0}
    by_slug = {r["slug"]: r for r in report["regions"]}
    assert [r["slug"] for r in report["regions"]] == sorted(slugs)
    upstream = [".copier-answers.yml", "README.md", CSS_OUT]
    for slug in slugs:
        r = by_slug[slug]
        assert (r["from_version"], r["to_version"]) == ("v0.1.0", "v0.2.0")
        if slug == "bandung":
            assert r["result"] == "conflicted"
            assert r["conflicts"] == ["README.md"]
            continue
        assert r["result"] == "updated", r
        assert r["conflicts"] == []
        assert r["profile_changed"] is (slug == "cianjur")
        assert r["changed"] == sorted(upstream + (["region.yml"] if slug == "cianjur" else []))
        inst = instances / slug
        assert git(inst, "status", "--porcelain") == ""
        assert answers(inst)["_commit"] == "v0.2.0"
        subject, parents = git(inst, "log", "-1", "--format=%s%n%P").splitlines()
        assert subject == "Update template v0.1.0 -> v0.2.0"
        assert len(parents.split()) == 2
        assert ".upstream-v2 { color: inherit; }" in (inst / CSS_OUT).read_text()
        assert "## Run it on your machine" in (inst / "README.md").read_text()
    # the non-conflicting local edit survived; the profile change reached region.yml and the answers
    assert "## Test it before each release" in (instances / "garut" / "README.md").read_text()
    assert "budget_year: 2028" in (instances / "cianjur" / "region.yml").read_text()
    assert answers(instances / "cianjur")["region"]["budget_year"] == 2028

    # bandung: git's markers, unmerged index entries, the update's commit prepared
    band = instances / "bandung"
    text = (band / "README.md").read_text()
    assert (
        "<<<<<<< bandung (local edits)\n## Run it locally (Diskominfo Kab. Bandung)\n=======\n"
        "## Run it on your machine\n>>>>>>> template v0.2.0\n"
    ) in text
    assert git(band, "diff", "--name-only", "--diff-filter=U") == "README.md\n"
    assert (band / ".git" / "MERGE_HEAD").is_file()
    assert ".upstream-v2" in (band / CSS_OUT).read_text()  # the clean part of the update is staged

    # a second run leaves everyone alone and names the unfinished update
    again = kit("update", "--all", "--format", "json", env=env)
    assert again.returncode == 1
    second = {r["slug"]: r for r in json.loads(again.stdout)["regions"]}
    assert {s: r["result"] for s, r in second.items()} == {
        s: ("failed" if s == "bandung" else "already current") for s in slugs
    }
    assert second["bandung"]["reason"].startswith("an earlier update of ")
    assert (
        "resolve its conflicts and `git commit`, or abandon it with `git merge --abort`" in second["bandung"]["reason"]
    )

    # the technician resolves it as the kit explained; then the region is current
    (band / "README.md").write_text(
        text.split("<<<<<<<")[0]
        + "## Run it on your machine (Diskominfo Kab. Bandung)\n"
        + text.split(">>>>>>> template v0.2.0\n")[1]
    )
    git(band, "add", "README.md")
    git(band, "commit", "--no-edit", "-q")
    assert git(band, "log", "-1", "--format=%s").strip() == "Update template v0.1.0 -> v0.2.0"
    done = kit("update", "bandung", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "bandung is already current (template v0.2.0)."


def test_single_update_conflict_explains_how_to_finish(kit, fleet):
    repo, regions, instances, slugs, env = fleet
    commit_edit(instances / "bogor", "README.md", HEADING, "## Run it locally, Bogor style")
    release(repo, "v0.2.0", v2_edits(repo))
    res = kit("update", "bogor", env=env)
    assert res.returncode == 3
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        "Conflict: bogor has conflicts updating template v0.1.0 -> v0.2.0; your local edits and upstream changed the same lines in:",
        "  README.md",
        f"Nothing is committed yet. To finish, in {instances / 'bogor'}:",
        "  1. edit each file above: keep what is right between <<<<<<< and >>>>>>>, delete the markers",
        "  2. git add README.md",
        "  3. git commit --no-edit      (the update's commit message is prepared)",
        "To abandon the update instead: git merge --abort",
    ]
    # and abandoning it the way the kit says restores the instance exactly
    git(instances / "bogor", "merge", "--abort")
    assert git(instances / "bogor", "status", "--porcelain") == ""
    assert answers(instances / "bogor")["_commit"] == "v0.1.0"


def test_clean_single_update_commits_and_says_so(kit, fleet):
    repo, regions, instances, slugs, env = fleet
    release(repo, "v0.2.0", v2_edits(repo))
    res = kit("update", "sumedang", env=env)
    assert res.returncode == 0, res.stderr
    head = git(instances / "sumedang", "rev-parse", "HEAD").strip()
    assert res.stdout.strip() == (
        f"Updated sumedang: template v0.1.0 -> v0.2.0, 3 file(s) changed; committed {head[:12]} in {instances / 'sumedang'}."
    )


def test_dry_run_touches_nothing_and_tells_what_would_happen(kit, fleet):
    repo, regions, instances, slugs, env = fleet
    commit_edit(instances / "bandung", "README.md", HEADING, "## Run it locally (Diskominfo)")
    release(repo, "v0.2.0", v2_edits(repo))
    before = {s: snapshot(instances / s) for s in ("bandung", "bogor")}

    clean = kit("update", "bogor", "--dry-run", env=env)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.splitlines() == [
        "Dry run: bogor would update template v0.1.0 -> v0.2.0; 3 file(s) would change, no conflicts:",
        "  .copier-answers.yml",
        "  README.md",
        f"  {CSS_OUT}",
    ]
    conflict = kit("update", "bandung", "--dry-run", env=env)
    assert conflict.returncode == 3
    assert conflict.stderr.splitlines() == [
        "Conflict: bandung would conflict updating template v0.1.0 -> v0.2.0; your local edits and upstream changed the same lines in:",
        "  README.md",
        "Dry run: nothing was changed. Run without --dry-run to start the update and resolve them.",
    ]
    fleetwide = kit("update", "--all", "--dry-run", "--format", "json", env=env)
    assert fleetwide.returncode == 3
    assert json.loads(fleetwide.stdout)["counts"] == {"updated": 10, "already current": 0, "conflicted": 1, "failed": 0}
    for s in ("bandung", "bogor"):
        assert snapshot(instances / s) == before[s], f"dry run changed {s}"


def test_dirty_and_missing_instances_fail_with_reasons_others_still_update(kit, fleet):
    repo, regions, instances, slugs, env = fleet
    (instances / "bogor" / "README.md").write_text("unsaved work\n")
    (instances / "kuningan" / "notes.txt").write_text("untracked\n")
    release(repo, "v0.2.0", v2_edits(repo))
    res = kit("update", "bogor", "kuningan", "garut", "nowhere", env={**env, "COLUMNS": "250"})
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    row = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:5]] for line in lines if line.startswith("│")
    }
    assert row["bogor"][0] == "failed"
    assert (
        row["bogor"][2]
        == f"{instances / 'bogor'} has uncommitted changes (README.md); commit or stash them, then update again"
    )
    assert (
        row["kuningan"][2]
        == f"{instances / 'kuningan'} has uncommitted changes (notes.txt); commit or stash them, then update again"
    )
    assert row["garut"][:2] == ["updated", "v0.1.0 -> v0.2.0"]
    assert row["nowhere"][0] == "failed"
    assert "no profile nowhere.yml" in row["nowhere"][2]
    assert lines[-1] == "4 region(s): 1 updated, 0 already current, 0 conflicted, 3 failed"
    assert (instances / "bogor" / "README.md").read_text() == "unsaved work\n"


def test_after_a_kit_update_plain_copier_update_still_works(kit, fleet, tmp_path):
    repo, regions, instances, slugs, env = fleet
    inst = instances / "ciamis"
    commit_edit(inst, CSS_OUT, "}\n", "}\n/* Ciamis local rule */\n")
    release(repo, "v0.2.0", v2_edits(repo))
    assert kit("update", "ciamis", env=env).returncode == 0
    # v0.3.0 upstream; plain copier inside the instance, no kit involved
    readme = (repo / "template/README.md.jinja").read_text() + "\nSee CHANGELOG for upgrade notes.\n"
    release(repo, "v0.3.0", {"template/README.md.jinja": readme})
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "copier"), "update", "--defaults", "--skip-tasks"],
        cwd=inst,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_IDENTITY},
    )
    assert proc.returncode == 0, proc.stderr
    assert answers(inst)["_commit"] == "v0.3.0"
    assert "See CHANGELOG for upgrade notes." in (inst / "README.md").read_text()
    assert "/* Ciamis local rule */" in (inst / CSS_OUT).read_text()
    assert git(inst, "diff", "--name-only", "--diff-filter=U") == ""
    git(inst, "add", "-A")
    git(inst, "commit", "-qm", "copier update to v0.3.0")
    # and the kit takes over again from what plain copier left (its pristine branch is stale)
    release(repo, "v0.4.0", {CSS: (repo / CSS).read_text() + "\n.upstream-v4 { margin: 0; }\n"})
    res = kit("update", "ciamis", env=env)
    assert res.returncode == 0, res.stderr
    css = (inst / CSS_OUT).read_text()
    assert "/* Ciamis local rule */" in css and ".upstream-v4 { margin: 0; }" in css
    assert answers(inst)["_commit"] == "v0.4.0"
    assert git(inst, "diff", "HEAD~1", "HEAD", "--name-only").split() == [".copier-answers.yml", CSS_OUT]


def test_ref_picks_a_version_and_downgrades_are_refused(kit, fleet):
    repo, regions, instances, slugs, env = fleet
    release(repo, "v0.2.0", v2_edits(repo))
    release(repo, "v0.3.0", {"template/babel.cfg": (repo / "template/babel.cfg").read_text() + "\n"})
    res = kit("update", "cirebon", "--ref", "v0.2.0", env=env)
    assert res.returncode == 0, res.stderr
    assert answers(instances / "cirebon")["_commit"] == "v0.2.0"
    back = kit("update", "cirebon", "--ref", "v0.1.0", env=env)
    assert back.returncode == 1
    assert (
        back.stderr.strip() == f"Error: {instances / 'cirebon'} is at v0.2.0, newer than v0.1.0; updates never go back"
    )
    unknown = kit("update", "cirebon", "--ref", "v9", env=env)
    assert unknown.returncode == 1
    assert (
        unknown.stderr.strip()
        == f"Error: template ref 'v9' does not exist in {repo}; known versions: v0.1.0, v0.2.0, v0.3.0"
    )
    newest = kit("update", "cirebon", env=env)
    assert newest.returncode == 0
    assert answers(instances / "cirebon")["_commit"] == "v0.3.0"


def test_update_without_arguments_is_a_usage_error(kit, fleet):
    *_, env = fleet
    res = kit("update", env=env)
    assert res.returncode == 2
    assert res.stderr.strip() == "Error: name the regions to update (kit update tasikmalaya) or pass --all"
