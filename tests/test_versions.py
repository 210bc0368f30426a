"""Template versions: PEP 440 tags, a CHANGELOG section with upgrade notes for each."""

from __future__ import annotations

import re

from packaging.version import Version

from conftest import ROOT, git
from kit.versions import parse


def sections() -> dict[str, str]:
    text = (ROOT / "CHANGELOG.md").read_text()
    parts = re.split(r"(?m)^## ", text)[1:]
    return {p.split("\n", 1)[0].strip(): p for p in parts}


def test_changelog_sections_are_pep440_versions_with_upgrade_notes():
    found = sections()
    assert found, "CHANGELOG.md has no version section"
    for heading, body in found.items():
        assert re.fullmatch(r"v\d+\.\d+\.\d+", heading), heading
        assert "Upgrade notes:" in body, f"{heading} has no upgrade notes"
    order = [Version(h) for h in found]
    assert order == sorted(order, reverse=True), "newest version first"


def test_every_release_tag_has_a_changelog_section():
    tags = [
        t for t in git(ROOT, "tag", "--list").split() if parse(t) is not None and re.fullmatch(r"v\d+\.\d+\.\d+", t)
    ]
    missing = [t for t in tags if t not in sections()]
    assert missing == []


def test_recorded_versions_compare_as_copier_compares_them():
    assert parse("v0.2.0") == Version("0.2.0")
    assert parse("v0.2.0-3-g1a2b3c4") > parse("v0.2.0")
    assert parse("v0.2.0-3-g1a2b3c4") < parse("v0.3.0")
    assert parse("1a2b3c4") is None
