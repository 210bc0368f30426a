"""`kit profile init`: any region of the official list; ambiguous names; (fill in) until validate passes."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time

import yaml

from conftest import KIT, REGIONS


def init(kit, regions, *args):
    return kit("profile", "init", *args, env={"KIT_REGIONS": str(regions)}, cwd=regions.parent)


def test_unambiguous_name_fills_in_what_the_official_list_knows(kit, tmp_path):
    regions = tmp_path / "regions"
    res = init(kit, regions, "Garut")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "Wrote regions/garut.yml for Kabupaten Garut (32.05, Jawa Barat)."
    data = yaml.safe_load((regions / "garut.yml").read_text())
    assert {k: data[k] for k in ("slug", "name", "kind", "kode", "province", "head_title", "timezone", "seat")} == {
        "slug": "garut",
        "name": "Kabupaten Garut",
        "kind": "kabupaten",
        "kode": "32.05",
        "province": "Jawa Barat",
        "head_title": "Bupati",
        "timezone": "Asia/Jakarta",
        "seat": "(fill in)",
    }


def test_other_time_zones_and_kota(kit, tmp_path):
    regions = tmp_path / "regions"
    assert init(kit, regions, "Kota Makassar").returncode == 0
    assert init(kit, regions, "Kabupaten Jayapura").returncode == 0
    makassar = yaml.safe_load((regions / "makassar.yml").read_text())
    assert (makassar["kind"], makassar["head_title"], makassar["timezone"]) == ("kota", "Wali Kota", "Asia/Makassar")
    jayapura = yaml.safe_load((regions / "jayapura.yml").read_text())
    assert (jayapura["kode"], jayapura["timezone"]) == ("91.03", "Asia/Jayapura")


def test_province(kit, tmp_path):
    regions = tmp_path / "regions"
    res = init(kit, regions, "Provinsi Jawa Barat")
    assert res.returncode == 0, res.stderr
    data = yaml.safe_load((regions / "jawa-barat.yml").read_text())
    assert (data["name"], data["kind"], data["kode"], data["head_title"]) == (
        "Jawa Barat",
        "provinsi",
        "32",
        "Gubernur",
    )


def test_ambiguous_name_without_a_terminal_lists_the_choices(kit, tmp_path):
    regions = tmp_path / "regions"
    res = init(kit, regions, "Bandung")
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        "Error: 'Bandung' matches 2 regions; choose one with --kode:",
        "  --kode 32.04  Kabupaten Bandung (Jawa Barat)",
        "  --kode 32.73  Kota Bandung (Jawa Barat)",
    ]
    assert not regions.exists() or not list(regions.glob("*.yml"))
    picked = init(kit, regions, "Bandung", "--kode", "32.73")
    assert picked.returncode == 0, picked.stderr
    assert yaml.safe_load((regions / "kota-bandung.yml").read_text())["name"] == "Kota Bandung"
    # a name shared by a province, a kabupaten and a kota
    three = init(kit, regions, "Gorontalo")
    assert three.stderr.splitlines() == [
        "Error: 'Gorontalo' matches 3 regions; choose one with --kode:",
        "  --kode 75     Provinsi Gorontalo",
        "  --kode 75.01  Kabupaten Gorontalo (Gorontalo)",
        "  --kode 75.71  Kota Gorontalo (Gorontalo)",
    ]
    assert init(kit, regions, "Xyzzy").stderr.strip() == (
        "Error: no province, kabupaten or kota named 'Xyzzy' in the Kemendagri list; check the spelling"
    )


def test_ambiguous_name_at_a_terminal_asks_which_one(kit_env, tmp_path):
    regions = tmp_path / "regions"
    regions.mkdir()
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [KIT, "profile", "init", "Tasikmalaya"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**kit_env, "KIT_REGIONS": str(regions)},
        cwd=tmp_path,
        close_fds=True,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    answered = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"Which one? [1-2]:" in seen:
            os.write(master, b"2\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    proc.wait(timeout=10)
    os.close(master)
    text = re.sub(r"\x1b\[[0-9;]*m", "", seen.decode()).replace("\r", "")
    assert proc.returncode == 0, text
    assert (
        "'Tasikmalaya' matches 2 regions:\n  1. Kabupaten Tasikmalaya (32.06, Jawa Barat)\n  2. Kota Tasikmalaya (32.78, Jawa Barat)\n"
        in text
    )
    assert "Wrote regions/kota-tasikmalaya.yml for Kota Tasikmalaya (32.78, Jawa Barat)." in text
    assert yaml.safe_load((regions / "kota-tasikmalaya.yml").read_text())["kode"] == "32.78"


# What the region fills in, field by field (the values a technician would type)
FILLED = {
    "seat": "Tarogong Kidul",
    "branding.primary_color": '"#0b5394"',
    "branding.secondary_color": '"#f1c232"',
    "contact.office": "Bagian Kesejahteraan Rakyat Sekretariat Daerah",
    "contact.address": "Jl. Pembangunan No. 181, Tarogong Kidul, Garut 44151",
    "contact.phone": '"(0262) 233700"',
    "contact.email": "kesra@garutkab.go.id",
    "site.domain": "hibahbansos.garutkab.go.id",
    "opd.0.name": "Dinas Sosial",
    "opd.1.name": "Bagian Kesejahteraan Rakyat Sekretariat Daerah",
    "opd.2.name": "Badan Pengelolaan Keuangan dan Aset Daerah",
    "programmes.hibah.0.budget_line": "5.1.05.05.01.0001",
    "programmes.hibah.0.ceiling": "5000000000",
    "programmes.bansos.0.budget_line": "5.1.06.03.01.0001",
    "programmes.bansos.0.ceiling": "2000000000",
    "programmes.bansos.0.amount_per_recipient": "15000000",
}


def test_validate_names_each_field_to_fill_in_and_passes_once_filled(kit, tmp_path):
    regions = tmp_path / "regions"
    assert init(kit, regions, "Garut").returncode == 0
    path = regions / "garut.yml"
    text = path.read_text()
    res = kit("validate", "garut", env={"KIT_REGIONS": str(regions)}, cwd=tmp_path)
    assert res.returncode == 1
    lines = text.splitlines()

    def line_of(needle: str, after: int = 0) -> int:
        return next(i for i, line in enumerate(lines, 1) if i > after and needle in line)

    expected = [
        f"Error: regions/garut.yml:{line_of('seat:')}: seat: not filled in yet: Seat of government (ibu kota), e.g. Singaparna",
        f"Error: regions/garut.yml:{line_of('primary_color:')}: branding.primary_color: not filled in yet: Main colour, #rrggbb",
        f"Error: regions/garut.yml:{line_of('secondary_color:')}: branding.secondary_color: not filled in yet: Accent colour, #rrggbb",
        f"Error: regions/garut.yml:{line_of('logo:')}: branding.logo: file regions/assets/garut/logo.svg does not exist; add it or fix the name",
        f"Error: regions/garut.yml:{line_of('office:')}: contact.office: not filled in yet: Office name, e.g. Bagian Kesejahteraan Rakyat Setda",
        f"Error: regions/garut.yml:{line_of('address:')}: contact.address: not filled in yet",
        f"Error: regions/garut.yml:{line_of('phone:')}: contact.phone: not filled in yet",
        f"Error: regions/garut.yml:{line_of('email:')}: contact.email: not filled in yet",
    ]
    assert res.stderr.splitlines()[: len(expected)] == expected
    assert res.stderr.splitlines()[-1] == "1 profile(s) checked, 0 valid, 17 problem(s) in 1 file(s)"

    # fill every (fill in) in file order, as the technician would, and add the logo
    values = iter(FILLED.values())
    filled = re.sub(r": \(fill in\)", lambda m: ": " + next(values), text)
    assert ": (fill in)" not in filled and next(values, None) is None
    path.write_text(filled)
    (regions / "assets" / "garut").mkdir(parents=True)
    (regions / "assets" / "garut" / "logo.svg").write_bytes(
        (REGIONS / "assets" / "tasikmalaya" / "logo.svg").read_bytes()
    )
    ok = kit("validate", "garut", env={"KIT_REGIONS": str(regions)}, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "1 profile(s) checked, 1 valid"


def test_never_overwrites_and_never_duplicates_a_kode(kit, tmp_path):
    regions = tmp_path / "regions"
    assert init(kit, regions, "Garut").returncode == 0
    again = init(kit, regions, "Garut")
    assert again.returncode == 1
    assert (
        again.stderr.strip()
        == f"Error: {regions / 'garut.yml'} exists already; edit it, or pass --slug to write another file"
    )
    other = init(kit, regions, "Garut", "--slug", "garut-2")
    assert other.returncode == 1
    assert other.stderr.strip() == f"Error: Kabupaten Garut (32.05) already has a profile: {regions / 'garut.yml'}"
