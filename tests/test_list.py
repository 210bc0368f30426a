"""`kit list`: the regions at a glance, from their validated profiles."""

from __future__ import annotations

import json

import yaml

from conftest import REGIONS, SLUGS


def test_list_json_has_one_row_per_region_with_server(kit):
    res = kit("list", "--format", "json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [r["slug"] for r in rows] == SLUGS
    for row in rows:
        profile = yaml.safe_load((REGIONS / f"{row['slug']}.yml").read_text())
        server = profile["server"]
        assert row == {
            "slug": profile["slug"],
            "name": profile["name"],
            "kind": profile["kind"],
            "kode": profile["kode"],
            "timezone": profile["timezone"],
            "domain": profile["site"]["domain"],
            "server": f"{server.get('user', 'deploy')}@{server['host']}:{server.get('port', 22)}",
        }


def test_list_table_shows_every_region(kit):
    res = kit("list")
    assert res.returncode == 0, res.stderr
    for slug in SLUGS:
        profile = yaml.safe_load((REGIONS / f"{slug}.yml").read_text())
        line = next(line for line in res.stdout.splitlines() if f" {slug} " in line)
        assert profile["name"] in line and profile["kode"] in line and profile["timezone"] in line
    assert f"{len(SLUGS)} region(s)" in res.stdout
