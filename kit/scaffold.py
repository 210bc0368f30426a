"""`kit profile init`: a new region profile for any province or kabupaten/kota of the official list.

What the official list knows (name, kind, kode, province) and what follows from it (head title,
time zone) is filled in; everything only the region knows is written as `(fill in)` with a hint,
and `kit validate` names each such field until it is completed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from kit import wilayah
from kit.errors import KitError, UsageError
from kit.regions import FILL_IN

_SLUG_WORDS = re.compile(r"[^a-z0-9]+")


def slug_for(region: wilayah.Region) -> str:
    """The default file name: the bare name, with the kind in front only where the bare name is shared.

    Kabupaten Tasikmalaya is `tasikmalaya`, Kota Tasikmalaya `kota-tasikmalaya`, Kota Surabaya
    `surabaya`; a province shares its name with a kabupaten or kota in a few cases
    (`provinsi-gorontalo`).
    """
    base = _SLUG_WORDS.sub("-", region.short_name.lower()).strip("-")[:40].strip("-")
    if region.kind == "kabupaten":
        return base
    others = [
        r
        for r in wilayah.regions().values()
        if r.kode != region.kode and r.short_name.lower() == region.short_name.lower()
    ]
    shared_with_kabupaten = any(r.kind == "kabupaten" for r in others)
    if region.kind == "kota" and not shared_with_kabupaten:
        return base
    if region.kind == "provinsi" and not others:
        return base
    return f"{region.kind}-{base}"[:40].strip("-")


def choose(name: str | None, kode: str | None) -> tuple[wilayah.Region | None, list[wilayah.Region]]:
    """The region meant, or None with the candidates to choose from. Raises KitError when none fits."""
    if kode:
        region = wilayah.lookup(kode.strip())
        if region is None:
            raise KitError(
                f"kode {kode} is not in the Kemendagri list; write it as PP.KK (e.g. 32.73) or PP for a province"
            )
        if name and region not in wilayah.candidates(name):
            raise KitError(f"kode {region.kode} is {region.name}, not {name}; drop the name or fix the kode")
        return region, [region]
    if not name:
        raise UsageError("name the region (kit profile init 'Kota Bandung') or give its --kode")
    found = wilayah.candidates(name)
    if not found:
        raise KitError(f"no province, kabupaten or kota named {name!r} in the Kemendagri list; check the spelling")
    if len(found) == 1:
        return found[0], found
    return None, found


def choices_text(name: str, found: list[wilayah.Region], limit: int = 12) -> str:
    """The lines that list what an ambiguous name may mean, with the option that picks each."""
    lines = [f"{name!r} matches {len(found)} regions; choose one with --kode:"]
    lines += [
        f"  --kode {r.kode:<6} {r.name} ({r.province})"
        if r.kind != "provinsi"
        else f"  --kode {r.kode:<6} Provinsi {r.name}"
        for r in found[:limit]
    ]
    if len(found) > limit:
        lines.append(f"  ... and {len(found) - limit} more: write more of the name")
    return "\n".join(lines)


def existing_owner(regions_dir: Path, kode: str) -> Path | None:
    """The profile that already uses `kode`, if any."""
    pattern = re.compile(rf"""^kode:\s*["']?{re.escape(kode)}["']?\s*(#.*)?$""", re.MULTILINE)
    for path in sorted(regions_dir.glob("*.yml")):
        if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
            return path
    return None


def profile_text(region: wilayah.Region, slug: str, budget_year: int | None = None) -> str:
    """The YAML of a new profile: official facts filled in, the rest marked `(fill in)` with hints."""
    year = budget_year or dt.date.today().year + 1
    title = region.name if region.kind != "provinsi" else f"Provinsi {region.name}"
    where = f"{title}, {region.province}" if region.kind != "provinsi" else title
    domain_hint = {"kabupaten": f"{slug}kab.go.id", "kota": f"{slug}kota.go.id", "provinsi": f"{slug}prov.go.id"}[
        region.kind
    ]
    F = FILL_IN
    return f"""\
# yaml-language-server: $schema=schema.json
# {where}: made by `kit profile init` from the Kemendagri list. Replace each {F}
# (and check the example OPD and programmes), then run `kit validate {slug}`: it names every
# field still to complete. Render with `kit new {slug}`.
slug: {slug}
name: {region.name}
kind: {region.kind}
kode: "{region.kode}"
province: {region.province}
head_title: {region.head_title}
seat: {F}  # seat of government (ibu kota)
timezone: {region.timezone}
locale: id
budget_year: {year}

branding:
  app_name: Sistem Informasi Hibah dan Bansos {title}
  primary_color: {F}  # main colour as "#rrggbb", quoted
  secondary_color: {F}  # accent colour as "#rrggbb", quoted
  logo: logo.svg  # put the region's logo (SVG or PNG) in regions/assets/{slug}/

contact:
  office: {F}  # e.g. Bagian Kesejahteraan Rakyat Sekretariat Daerah
  address: {F}  # the office's street address
  phone: {F}  # quoted, e.g. "(0265) 541150"
  email: {F}  # the office's public address

site:
  domain: {F}  # e.g. hibahbansos.{domain_hint}

opd:  # the agencies (OPD) that take part; add the others, codes in upper case
  - code: DINSOS
    name: {F}  # official name of the social affairs office, e.g. Dinas Sosial
    short: Dinsos
  - code: KESRA
    name: {F}  # e.g. Bagian Kesejahteraan Rakyat Sekretariat Daerah
    short: Bag. Kesra
  - code: BPKAD
    name: {F}  # the finance office, e.g. Badan Pengelolaan Keuangan dan Aset Daerah
    short: BPKAD

programmes:
  hibah:  # grant categories; one example, add the region's own
    - code: HIBAH-IBADAH
      name: Hibah Sarana Rumah Ibadah
      budget_line: {F}  # kode rekening, e.g. 5.1.05.05.01.0001
      ceiling: {F}  # yearly ceiling (pagu) in whole Rupiah
      opd: [KESRA]
  bansos:  # social assistance types; one example, add the region's own
    - code: BANSOS-RTLH
      name: Bantuan Rehabilitasi Rumah Tidak Layak Huni
      budget_line: {F}  # kode rekening, e.g. 5.1.06.03.01.0001
      ceiling: {F}  # yearly ceiling (pagu) in whole Rupiah
      planned: true
      form: money
      amount_per_recipient: {F}  # Rupiah per family
      recipients: [family]
      opd: DINSOS

# server:  # where `kit deploy` installs the app; uncomment and complete when there is one
#   host: hibahbansos.{domain_hint}
#   port: 22
#   user: deploy
"""


def write_profile(regions_dir: Path, region: wilayah.Region, slug: str | None = None) -> Path:
    """Write regions/<slug>.yml for `region`; raises KitError rather than overwrite anything."""
    slug = slug or slug_for(region)
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,39}", slug):
        raise UsageError(
            f"--slug {slug!r} is not a slug: lower-case letters, digits and dashes, starting with a letter"
        )
    target = regions_dir / f"{slug}.yml"
    if target.exists():
        raise KitError(f"{target} exists already; edit it, or pass --slug to write another file")
    owner = existing_owner(regions_dir, region.kode)
    if owner is not None:
        raise KitError(f"{region.name} ({region.kode}) already has a profile: {owner}")
    regions_dir.mkdir(parents=True, exist_ok=True)
    target.write_text(profile_text(region, slug), encoding="utf-8")
    return target
