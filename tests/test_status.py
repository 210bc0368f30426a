"""`kit status` and `kit diff`: versions, profile drift, local customisations, the deployed side."""

from __future__ import annotations

import json
import socket

import pytest

from conftest import git
from fleetlib import commit_edit, edit, fleet_profiles, release, render_instances, versioned_template

CSS = "template/src/hibahbansos/static/css/app.css"


@pytest.fixture
def small_fleet(tmp_path):
    repo = versioned_template(tmp_path / "template")
    regions, instances = tmp_path / "regions", tmp_path / "instances"
    slugs = fleet_profiles(regions, count=3)  # bogor, sukabumi, cianjur
    render_instances(repo, regions, instances, ["bogor", "sukabumi"])  # cianjur is not rendered
    env = {"KIT_TEMPLATE": str(repo), "KIT_REGIONS": str(regions), "KIT_INSTANCES": str(instances)}
    return repo, regions, instances, slugs, env


def test_diff_shows_exactly_the_local_edit(kit, small_fleet):
    repo, regions, instances, slugs, env = small_fleet
    inst = instances / "bogor"
    commit_edit(inst, "README.md", "## Test it\n", "## Test it\n\nDiskominfo Bogor runs these before each release.\n")
    (inst / "overrides" / "static").mkdir(parents=True)
    (inst / "overrides" / "static" / "extra.css").write_text(".bogor { color: #005a9c; }")
    res = kit("diff", "bogor", env=env)
    assert res.returncode == 0, res.stderr
    at = (inst / "README.md").read_text().splitlines().index("## Test it")  # 0-based; the hunk starts a line above
    assert res.stdout == (
        "diff --git a/README.md b/README.md\n"
        "--- a/README.md\n"
        "+++ b/README.md\n"
        f"@@ -{at},6 +{at},8 @@\n"
        " \n"
        " ## Test it\n"
        " \n"
        "+Diskominfo Bogor runs these before each release.\n"
        "+\n"
        " ```sh\n"
        " .venv/bin/pytest\n"
        " ```\n"
        "diff --git a/overrides/static/extra.css b/overrides/static/extra.css\n"
        "new file mode 100644\n"
        "--- /dev/null\n"
        "+++ b/overrides/static/extra.css\n"
        "@@ -0,0 +1 @@\n"
        "+.bogor { color: #005a9c; }\n"
        "\\ No newline at end of file\n"
    )
    clean = kit("diff", "sukabumi", env=env)
    assert clean.returncode == 0
    assert clean.stdout == ""
    assert clean.stderr.strip() == "No local customisations: sukabumi matches the pristine render of template v0.1.0."
    missing = kit("diff", "cianjur", env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"Error: no instance at {instances / 'cianjur'}; render it with `kit new cianjur`"


def test_diff_after_an_update_compares_with_the_new_version(kit, small_fleet):
    repo, regions, instances, slugs, env = small_fleet
    inst = instances / "bogor"
    commit_edit(inst, "src/hibahbansos/static/css/app.css", "}\n", "}\n/* bogor */\n")
    release(repo, "v0.2.0", {CSS: (repo / CSS).read_text() + "\n/* v2 */\n"})
    assert kit("update", "bogor", env=env).returncode == 0
    res = kit("diff", "bogor", env=env)
    assert [line for line in res.stdout.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        "+/* bogor */"
    ]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_status_json_reports_versions_drift_local_files_and_deploys(kit, small_fleet, tmp_path):
    repo, regions, instances, slugs, env = small_fleet
    commit_edit(instances / "bogor", "README.md", "## Test it", "## Test it (Bogor)")
    edit(regions / "bogor.yml", "budget_year: 2027", "budget_year: 2028")
    release(repo, "v0.2.0", {CSS: (repo / CSS).read_text() + "\n/* v2 */\n"})
    # sukabumi has a server that answers nothing: reported unreachable, quickly
    port = _closed_port()
    (regions / "sukabumi.yml").write_text(
        (regions / "sukabumi.yml").read_text() + f"\nserver:\n  host: 127.0.0.1\n  port: {port}\n  user: deploy\n"
    )
    res = kit("status", "--format", "json", env=env)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["newest"] == "v0.2.0"
    rows = {r["slug"]: r for r in report["regions"]}
    assert list(rows) == ["bogor", "cianjur", "sukabumi"]
    bogor = rows["bogor"]
    assert (bogor["rendered"], bogor["behind"], bogor["profile_changed"]) == ("v0.1.0", True, True)
    assert (bogor["local_files"], bogor["changed_files"]) == (1, ["README.md"])
    assert bogor["deployed"] == {
        "state": "no server",
        "template_version": None,
        "app_version": None,
        "deployed_at": None,
        "health": None,
        "detail": "",
        "receipt": None,
    }
    suka = rows["sukabumi"]
    # the new server section is a profile change too (it is part of the rendered region.yml)
    assert (suka["rendered"], suka["behind"], suka["profile_changed"], suka["local_files"]) == ("v0.1.0", True, True, 0)
    assert suka["deployed"]["state"] == "unreachable"
    assert "Connection refused" in suka["deployed"]["detail"]
    assert rows["cianjur"]["note"] == "not rendered"
    assert rows["cianjur"]["rendered"] is None


def test_status_table_after_an_update(kit, small_fleet):
    repo, regions, instances, slugs, env = small_fleet
    release(repo, "v0.2.0", {CSS: (repo / CSS).read_text() + "\n/* v2 */\n"})
    assert kit("update", "sukabumi", env=env).returncode == 0
    res = kit("status", "--local", env=env)
    assert res.returncode == 0, res.stderr
    rows = {
        cells[0]: cells[1:]
        for cells in (
            [c.strip() for c in line.split("│")[1:-1]] for line in res.stdout.splitlines() if line.startswith("│")
        )
    }
    assert rows == {
        "bogor": ["v0.1.0 -> v0.2.0 available", "as rendered", "0 file(s)", "-", "-"],
        "cianjur": ["not rendered", "-", "-", "-", "-"],
        "sukabumi": ["v0.2.0", "as rendered", "0 file(s)", "-", "-"],
    }
    assert "3 region(s); newest template v0.2.0" in res.stdout
    assert git(instances / "sukabumi", "status", "--porcelain") == ""
