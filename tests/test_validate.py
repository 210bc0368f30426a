"""`kit validate`: every kind of bad profile gets one exact line naming file, line, field and fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REGIONS, SLUGS

BASE = "tasikmalaya"


@pytest.fixture
def regions(tmp_path) -> Path:
    """A regions folder holding only a copy of the tasikmalaya profile and its assets."""
    target = tmp_path / "regions"
    (target / "assets").mkdir(parents=True)
    shutil.copy(REGIONS / f"{BASE}.yml", target / f"{BASE}.yml")
    shutil.copytree(REGIONS / "assets" / BASE, target / "assets" / BASE)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture text {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in {path}")


def validate(kit, regions: Path, *args: str):
    return kit("validate", *args, env={"KIT_REGIONS": str(regions)}, cwd=regions.parent)


def test_the_real_profiles_are_valid(kit):
    res = kit("validate")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"{len(SLUGS)} profile(s) checked, {len(SLUGS)} valid"
    assert len(SLUGS) >= 6


CASES = [
    # (id, old text, new text, the line to point at (text found after the edit), expected message after "<file>:<line>: ")
    (
        "wrong type",
        "budget_year: 2027",
        "budget_year: tahun depan",
        "budget_year:",
        "budget_year: expected a whole number, got 'tahun depan'",
    ),
    (
        "malformed kode",
        'kode: "32.06"',
        'kode: "3206"',
        "kode:",
        """kode: '3206' is not a kode wilayah; write "PP.KK" (e.g. "32.06") or "PP" for a province""",
    ),
    (
        "kode as a number",
        'kode: "32.06"',
        "kode: 32.06",
        "kode:",
        'kode: kode must be quoted text such as "32.06"; YAML reads 32.06 as a number',
    ),
    (
        "kode of another region",
        'kode: "32.06"',
        'kode: "32.78"',
        "kode:",
        "kode: kode 32.78 is Kota Tasikmalaya, not Kabupaten Tasikmalaya; Kabupaten Tasikmalaya is 32.06",
    ),
    (
        "kode that does not exist",
        'kode: "32.06"',
        'kode: "32.99"',
        "kode:",
        "kode: kode 32.99 is not in the Kemendagri list; Kabupaten Tasikmalaya is 32.06",
    ),
    (
        "kind does not fit the kode",
        "kind: kabupaten",
        "kind: kota",
        "kode:",
        "kode: kode 32.06 is a kabupaten (kabupaten 01-69, kota 71-99, provinsi 2 digits), but kind is kota; set kind: kabupaten",
    ),
    (
        "province does not fit the kode",
        "province: Jawa Barat",
        "province: Jawa Tengah",
        "province:",
        "province: kode 32.06 lies in Jawa Barat, not Jawa Tengah; set province: Jawa Barat",
    ),
    (
        "timezone outside Indonesia",
        "timezone: Asia/Jakarta",
        "timezone: Asia/Singapore",
        "timezone:",
        "timezone: 'Asia/Singapore' is not allowed; use one of 'Asia/Jakarta', 'Asia/Makassar' or 'Asia/Jayapura'",
    ),
    (
        "timezone wrong for the province",
        "timezone: Asia/Jakarta",
        "timezone: Asia/Makassar",
        "timezone:",
        "timezone: Jawa Barat uses Asia/Jakarta, not Asia/Makassar; set timezone: Asia/Jakarta",
    ),
    (
        "duplicate OPD code",
        "code: DISDIK,",
        "code: DINSOS,",
        "name: Dinas Pendidikan",
        "opd.1.code: duplicate OPD code DINSOS (first used at index 0); each OPD code must be unique",
    ),
    (
        "missing logo file",
        "logo: logo.svg",
        "logo: lambang.svg",
        "logo:",
        "branding.logo: file regions/assets/tasikmalaya/lambang.svg does not exist; add it or fix the name",
    ),
    (
        "slug differs from file name",
        "slug: tasikmalaya",
        "slug: tasik",
        "slug:",
        "slug: slug 'tasik' differs from the file name tasikmalaya.yml; rename one so they match",
    ),
    (
        "unknown OPD in a programme",
        "opd: [KESBANGPOL]",
        "opd: [KESBANGPOLL]",
        "opd: [KESBANGPOLL]",
        "programmes.hibah.2.opd.0: OPD KESBANGPOLL is not in the opd list; add it there or fix the code",
    ),
    (
        "bad colour",
        'primary_color: "#1b5e20"',
        'primary_color: "green"',
        "primary_color:",
        "branding.primary_color: 'green' has the wrong form; expected Main colour, #rrggbb",
    ),
    (
        "ACME directory not over https",
        "  domain: hibahbansos.tasikmalayakab.go.id",
        "  domain: hibahbansos.tasikmalayakab.go.id\n  acme_directory: http://acme.example/dir",
        "acme_directory:",
        "site.acme_directory: 'http://acme.example/dir' has the wrong form; expected ACME directory URL (https); "
        "default Let's Encrypt. Try https://acme-staging-v02.api.letsencrypt.org/directory first, or another ACME CA",
    ),
    (
        "money bansos for a group",
        "recipients: [family]",
        "recipients: [group]",
        "recipients: [group]",
        "programmes.bansos.0.recipients: bansos in money goes to individuals or families only, not group; use form: goods",
    ),
]


@pytest.mark.parametrize("old,new,anchor,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_bad_input_gets_one_exact_line(kit, regions, old, new, anchor, message):
    profile = regions / f"{BASE}.yml"
    edit(profile, old, new)
    res = validate(kit, regions)
    assert res.returncode == 1
    line = line_of(profile, anchor)
    assert res.stderr.splitlines() == [
        f"Error: regions/{BASE}.yml:{line}: {message}",
        "1 profile(s) checked, 0 valid, 1 problem(s) in 1 file(s)",
    ]


def test_yaml_syntax_error_names_line_and_column(kit, regions):
    profile = regions / f"{BASE}.yml"
    edit(profile, "seat: Singaparna", "seat: Singaparna: pusat")
    res = validate(kit, regions)
    assert res.returncode == 1
    line = line_of(profile, "seat:")
    assert res.stderr.splitlines()[0] == (
        f"Error: regions/{BASE}.yml:{line}:17: syntax: mapping values are not allowed in this context; "
        "check the indentation, or quote a value that contains ': '"
    )


def test_unknown_key_suggests_the_right_one_and_missing_field_is_named(kit, regions):
    profile = regions / f"{BASE}.yml"
    edit(profile, "seat: Singaparna", "saet: Singaparna")
    res = validate(kit, regions)
    assert res.returncode == 1
    assert res.stderr.splitlines()[:2] == [
        f"Error: regions/{BASE}.yml:{line_of(profile, 'slug:')}: seat: required field is missing; "
        "add seat: (Seat of government (ibu kota), e.g. Singaparna)",
        f"Error: regions/{BASE}.yml:{line_of(profile, 'saet:')}: saet: unknown key 'saet'; did you mean 'seat'?",
    ]


def test_unknown_nested_key_lists_the_allowed_ones(kit, regions):
    profile = regions / f"{BASE}.yml"
    edit(profile, "  max_mb: 10", "  max_mb: 10\n  antivirus: true")
    res = validate(kit, regions)
    assert res.stderr.splitlines()[0] == (
        f"Error: regions/{BASE}.yml:{line_of(profile, 'antivirus')}: uploads.antivirus: unknown key 'antivirus'; allowed keys here: max_mb"
    )


def test_duplicate_yaml_key_is_an_error(kit, regions):
    profile = regions / f"{BASE}.yml"
    edit(profile, "locale: id", "locale: id\nlocale: en")
    res = validate(kit, regions)
    assert res.returncode == 1
    assert res.stderr.splitlines()[0] == (
        f"Error: regions/{BASE}.yml:{line_of(profile, 'locale: en')}: locale: key 'locale' appears twice "
        f"(first at line {line_of(profile, 'locale: id')}); keep one"
    )


def test_every_problem_in_every_file_in_one_run(kit, regions):
    other = regions / "tasik2.yml"
    shutil.copy(regions / f"{BASE}.yml", other)
    shutil.copytree(regions / "assets" / BASE, regions / "assets" / "tasik2")
    edit(other, "slug: tasikmalaya", "slug: tasik2")
    edit(other, "domain: hibahbansos.tasikmalayakab.go.id", "domain: hibah2.tasikmalayakab.go.id")
    edit(other, "budget_year: 2027", "budget_year: x")
    edit(regions / f"{BASE}.yml", "timezone: Asia/Jakarta", "timezone: Asia/Jayapura")
    res = validate(kit, regions)
    assert res.returncode == 1
    lines = res.stderr.splitlines()
    kode_line = line_of(other, "kode:")
    assert set(lines[:-1]) == {
        f"Error: regions/tasik2.yml:{line_of(other, 'budget_year')}: budget_year: expected a whole number, got 'x'",
        f"Error: regions/tasik2.yml:{kode_line}: kode: 32.06 is also used by regions/tasikmalaya.yml; each region needs its own kode",
        f"Error: regions/{BASE}.yml:{kode_line}: kode: 32.06 is also used by regions/tasik2.yml; each region needs its own kode",
        f"Error: regions/{BASE}.yml:{line_of(other, 'timezone')}: timezone: Jawa Barat uses Asia/Jakarta, not Asia/Jayapura; set timezone: Asia/Jakarta",
    }
    assert lines[-1] == "2 profile(s) checked, 0 valid, 4 problem(s) in 2 file(s)"


def test_duplicate_slug_and_domain_across_profiles(kit, regions):
    other = regions / "tasik2.yml"
    shutil.copy(regions / f"{BASE}.yml", other)
    shutil.copytree(regions / "assets" / BASE, regions / "assets" / "tasik2")
    edit(other, 'kode: "32.06"', 'kode: "32.78"')
    edit(other, "name: Kabupaten Tasikmalaya", "name: Kota Tasikmalaya")
    edit(other, "kind: kabupaten", "kind: kota")
    res = validate(kit, regions, "tasik2")
    assert res.returncode == 1
    slug_line, domain_line = line_of(other, "slug:"), line_of(other, "domain:")
    assert res.stderr.splitlines() == [
        f"Error: regions/tasik2.yml:{slug_line}: slug: slug 'tasikmalaya' differs from the file name tasik2.yml; rename one so they match",
        f"Error: regions/tasik2.yml:{slug_line}: slug: tasikmalaya is also used by regions/tasikmalaya.yml; each region needs its own slug",
        f"Error: regions/tasik2.yml:{domain_line}: site.domain: hibahbansos.tasikmalayakab.go.id is also used by regions/tasikmalaya.yml; "
        "each region needs its own site.domain",
        "1 profile(s) checked, 0 valid, 3 problem(s) in 1 file(s)",
    ]


def test_json_format_for_ci(kit, regions):
    edit(regions / f"{BASE}.yml", "budget_year: 2027", "budget_year: 1990")
    res = validate(kit, regions, "--format", "json")
    assert res.returncode == 1
    body = json.loads(res.stdout)
    assert body == {
        "checked": 1,
        "valid": 0,
        "problems": [
            {
                "file": f"regions/{BASE}.yml",
                "line": line_of(regions / f"{BASE}.yml", "budget_year"),
                "field": "budget_year",
                "message": "Input should be greater than or equal to 2017",
                "column": None,
            }
        ],
    }


def test_unknown_slug_is_reported(kit, regions):
    res = validate(kit, regions, "atlantis")
    assert res.returncode == 1
    assert res.stderr.splitlines()[0] == (
        "Error: regions/atlantis.yml: file: no profile atlantis.yml; create it with `kit profile init` or check the slug"
    )


def test_schema_json_is_current(kit):
    res = kit("schema", "--check")
    assert res.returncode == 0, res.stderr
