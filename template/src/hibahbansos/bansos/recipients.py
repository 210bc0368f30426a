"""The recipient registry: individuals by NIK, families by No. KK, and groups.

`check_row()` turns one row of an extract (already mapped to our field names) into a `Person`
or a list of problems, each naming its field; `upsert()` writes a batch keyed by NIK and
writes nothing for a person whose data did not change. Search is by NIK (exact, on the
unique index) or by name (full text on the normalised name).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from hibahbansos import identifiers
from hibahbansos.bansos import names
from hibahbansos.bansos.areas import Areas
from hibahbansos.db import transaction
from hibahbansos.errors import HibahBansosError

# The fields of a person that an import may set, in the order of the table's columns.
DATA_FIELDS = (
    "kk",
    "name",
    "name_key",
    "birth_date",
    "sex",
    "address",
    "rt",
    "rw",
    "district_code",
    "village_code",
    "phone",
    "relationship",
    "desil",
    "outside_region",
    "dedup_key",
)
PERSON_COLUMNS = ("id", "nik", *DATA_FIELDS, "source_sha", "source_row", "import_id", "created_at", "updated_at")

_SEX = {
    "l": "L",
    "lk": "L",
    "laki": "L",
    "laki laki": "L",
    "lakilaki": "L",
    "pria": "L",
    "m": "L",
    "male": "L",
    "1": "L",
    "p": "P",
    "pr": "P",
    "perempuan": "P",
    "wanita": "P",
    "w": "P",
    "f": "P",
    "female": "P",
    "2": "P",
}
_RT_RW = re.compile(r"^[0-9]{1,3}$")


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in one field of one row; `message` never holds the value itself."""

    field: str
    severity: str  # "error" rejects the row; "warning" keeps it
    code: str
    message: str


@dataclass(slots=True)
class Person:
    """A checked person, ready to be written."""

    nik: str
    kk: str | None
    name: str
    name_key: str
    birth_date: str
    sex: str
    address: str | None
    rt: str | None
    rw: str | None
    district_code: str | None
    village_code: str | None
    phone: str | None
    relationship: str | None
    desil: int | None
    outside_region: int
    dedup_key: str

    def data(self) -> tuple:
        return (
            self.kk,
            self.name,
            self.name_key,
            self.birth_date,
            self.sex,
            self.address,
            self.rt,
            self.rw,
            self.district_code,
            self.village_code,
            self.phone,
            self.relationship,
            self.desil,
            self.outside_region,
            self.dedup_key,
        )


class RegistryError(HibahBansosError):
    """A registry action cannot be done as asked (the message says why, without personal data)."""


_ISO_DATE = re.compile(r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})$")
_DMY_DATE = re.compile(r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{2}|[0-9]{4})$")
_SPACES = re.compile(r"\s+")


def parse_date(value: object) -> dt.date | None:
    """A date from an extract cell: a date object, ISO or Indonesian day-first text; else None.

    A two-digit year is read as the most recent such year that is not in the future.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip().split(" ")[0].split("T")[0]
    found = _ISO_DATE.match(text)
    if found:
        year, month, day = (int(x) for x in found.groups())
    else:
        found = _DMY_DATE.match(text)
        if not found:
            return None
        day, month, year = (int(x) for x in found.groups())
        if year < 100:
            this_year = dt.date.today().year
            year += 2000 if 2000 + year <= this_year else 1900
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets store codes as numbers
    return str(value).strip()


def in_region(nik: identifiers.Nik, region_kode: str) -> bool:
    """Whether a NIK was issued in the region (its kabupaten/kota, or its province)."""
    return nik.region_kode == region_kode if "." in region_kode else nik.province_kode == region_kode


def check_row(raw: dict[str, Any], areas: Areas, today: dt.date) -> tuple[Person | None, list[Issue]]:
    """Check one mapped row; returns the person (None when an error rejects the row) and every issue.

    A NIK from outside the region is a warning (people move), so is an unusable phone number
    or welfare decile; a NIK that does not parse, a birth date or sex that contradicts the
    NIK, a missing name or an unknown district or village is an error.
    """
    issues: list[Issue] = []
    get = raw.get

    nik = None
    nik_text = _text(get("nik"))
    if not nik_text:
        issues.append(Issue("nik", "error", "missing", "NIK kosong"))
    else:
        try:
            nik = identifiers.parse_nik(nik_text, today=today)
        except identifiers.InvalidIdentifier as exc:
            issues.append(Issue("nik", "error", "invalid", str(exc)))

    kk = None
    kk_text = _text(get("kk"))
    if kk_text:
        try:
            kk = identifiers.parse_kk(kk_text)
        except identifiers.InvalidIdentifier as exc:
            issues.append(Issue("kk", "error", "invalid", str(exc)))

    name = _SPACES.sub(" ", _text(get("name")))
    key = names.name_key(name) if name else ""
    if not name:
        issues.append(Issue("name", "error", "missing", "nama kosong"))
    elif not key:
        issues.append(Issue("name", "error", "invalid", "nama hanya berisi gelar atau tanda baca"))
    elif len(name) > 150:
        issues.append(Issue("name", "error", "too_long", "nama lebih dari 150 karakter"))

    raw_birth = get("birth_date")
    if raw_birth is not None and (isinstance(raw_birth, dt.date) or _text(raw_birth)):
        birth = parse_date(raw_birth)
        if birth is None:
            issues.append(
                Issue("birth_date", "error", "invalid", "tanggal lahir tidak terbaca; tulis HH-BB-TTTT atau TTTT-BB-HH")
            )
        elif nik is not None and birth != nik.birth_date:
            issues.append(
                Issue("birth_date", "error", "nik_mismatch", "tanggal lahir tidak sama dengan yang tercantum pada NIK")
            )

    sex_text = _text(get("sex"))
    if sex_text:
        sex = _SEX.get(sex_text.lower()) or _SEX.get(names.fold(sex_text))
        if sex is None:
            issues.append(Issue("sex", "error", "invalid", "jenis kelamin harus L atau P"))
        elif nik is not None and sex != nik.sex:
            issues.append(
                Issue("sex", "error", "nik_mismatch", "jenis kelamin tidak sama dengan yang tercantum pada NIK")
            )

    district = None
    district_text = _text(get("district"))
    if district_text:
        district = areas.district_code(district_text)
        if district is None:
            issues.append(Issue("district", "error", "unknown", f"kecamatan tidak dikenal di {areas.region_kode}"))
    village = None
    village_text = _text(get("village"))
    if village_text:
        village = areas.village_code(village_text, district)
        if village is None and not district_text:
            issues.append(
                Issue("village", "error", "unknown", "desa/kelurahan tidak dikenal; isi juga kolom kecamatan")
            )
        elif village is None:
            issues.append(Issue("village", "error", "unknown", "desa/kelurahan tidak dikenal di kecamatan itu"))
        elif district is None:
            district = village.rsplit(".", 1)[0]
        elif not village.startswith(district + "."):
            issues.append(Issue("village", "error", "other_district", "desa/kelurahan tidak berada di kecamatan itu"))

    rt, rw = _text(get("rt")) or None, _text(get("rw")) or None
    for field, value in (("rt", rt), ("rw", rw)):
        if value is not None and not _RT_RW.match(value):
            issues.append(Issue(field, "error", "invalid", f"{field.upper()} harus angka 1 sampai 3 digit"))

    phone = None
    phone_text = _text(get("phone"))
    if phone_text:
        try:
            phone = identifiers.parse_phone(phone_text)
        except identifiers.InvalidIdentifier as exc:
            issues.append(Issue("phone", "warning", "invalid", f"{exc}; nomor telepon tidak disimpan"))

    desil = None
    desil_text = _text(get("desil"))
    if desil_text:
        if desil_text.isdigit() and 1 <= int(desil_text) <= 10:
            desil = int(desil_text)
        else:
            issues.append(Issue("desil", "warning", "invalid", "desil harus angka 1 sampai 10; desil tidak disimpan"))

    outside = 0
    if nik is not None and not in_region(nik, areas.region_kode):
        outside = 1
        issues.append(
            Issue(
                "nik",
                "warning",
                "outside_region",
                "NIK diterbitkan di luar wilayah ini (penduduk pindahan?); data tetap disimpan",
            )
        )
    if nik is not None and district is None and not outside and nik.district_kode in areas.districts:
        district = nik.district_kode  # no address district given: the NIK's district is the best we know

    if nik is None or any(i.severity == "error" for i in issues):
        return None, issues
    address = _SPACES.sub(" ", _text(get("address"))) or None
    birth_iso = nik.birth_date.isoformat()
    place = village or (names.fold(address) if address else "")
    relationship = _text(get("relationship"))
    relationship = _SPACES.sub(" ", relationship).title() if relationship else None
    person = Person(
        nik=nik.number,
        kk=kk,
        name=name,
        name_key=key,
        birth_date=birth_iso,
        sex=nik.sex,
        address=address,
        rt=rt,
        rw=rw,
        district_code=district,
        village_code=village,
        phone=phone,
        relationship=relationship,
        desil=desil,
        outside_region=outside,
        dedup_key=f"{key}|{birth_iso}|{place}",
    )
    return person, issues


@dataclass
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    issues: list[tuple[int, Issue]] | None = None


def upsert(
    db: sqlite_utils.Database,
    rows: list[tuple[int, Person]],
    source_sha: str,
    import_id: int | None,
    now: str,
    write: bool = True,
) -> UpsertResult:
    """Write a batch of (row number, person) keyed by NIK, inside the caller's transaction.

    A person whose data is unchanged is not written, unless to note the file that now carries
    them. A NIK seen twice in one file keeps the later row (exact duplicates are merged) and
    the earlier row gets a warning; rerunning the same file (or resuming it) writes nothing.
    With `write=False` (a dry run) it only counts what it would do.
    """
    result = UpsertResult(issues=[])
    if not rows:
        return result
    niks = list({p.nik for _, p in rows})
    known: dict[str, dict] = {}
    cols = ", ".join(("nik", *DATA_FIELDS, "source_sha", "source_row"))
    for start in range(0, len(niks), 500):
        chunk = niks[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for values in db.execute(f"SELECT {cols} FROM bansos_persons WHERE nik IN ({marks})", chunk):
            known[values[0]] = {"data": tuple(values[1:-2]), "sha": values[-2], "row": values[-1]}

    inserts: dict[str, tuple[int, Person]] = {}
    updates: dict[str, tuple[int, Person]] = {}
    touches: dict[str, int] = {}
    for row, person in rows:
        nik = person.nik
        if nik in inserts:
            first = inserts[nik][0]
            result.issues.append(
                (
                    first,
                    Issue(
                        "nik",
                        "warning",
                        "duplicate_in_file",
                        f"NIK sama dengan baris {row}; data digabung, baris {row} yang berlaku",
                    ),
                )
            )
            inserts[nik] = (row, person)
            result.updated += 1
            continue
        state = known.get(nik)
        if state is None:
            inserts[nik] = (row, person)
            known[nik] = {"data": person.data(), "sha": source_sha, "row": row}
            result.inserted += 1
            continue
        if state["sha"] == source_sha and state["row"] is not None and state["row"] != row:
            if state["row"] > row:
                # A later row of this same file already wrote this NIK: this file was imported
                # before (or the import is resuming). The later row wins, as it did then.
                result.issues.append(
                    (
                        row,
                        Issue(
                            "nik",
                            "warning",
                            "duplicate_in_file",
                            f"NIK sama dengan baris {state['row']}; data digabung, baris {state['row']} yang berlaku",
                        ),
                    )
                )
                result.unchanged += 1
                continue
            result.issues.append(
                (
                    state["row"],
                    Issue(
                        "nik",
                        "warning",
                        "duplicate_in_file",
                        f"NIK sama dengan baris {row}; data digabung, baris {row} yang berlaku",
                    ),
                )
            )
        if state["data"] == person.data():
            if state["sha"] != source_sha or state["row"] != row:
                touches[nik] = row
            result.unchanged += 1
        else:
            updates[nik] = (row, person)
            touches.pop(nik, None)
            result.updated += 1
        known[nik] = {"data": person.data(), "sha": source_sha, "row": row}

    if not write:
        return result
    if inserts:
        db.conn.executemany(
            f"INSERT INTO bansos_persons (nik, {', '.join(DATA_FIELDS)}, source_sha, source_row, import_id, created_at, updated_at)"
            f" VALUES (?, {', '.join('?' * len(DATA_FIELDS))}, ?, ?, ?, ?, ?)",
            [(p.nik, *p.data(), source_sha, row, import_id, now, now) for row, p in inserts.values()],
        )
    if updates:
        db.conn.executemany(
            f"UPDATE bansos_persons SET {', '.join(f'{f} = ?' for f in DATA_FIELDS)},"
            " source_sha = ?, source_row = ?, import_id = ?, updated_at = ? WHERE nik = ?",
            [(*p.data(), source_sha, row, import_id, now, p.nik) for row, p in updates.values()],
        )
    if touches:
        db.conn.executemany(
            "UPDATE bansos_persons SET source_sha = ?, source_row = ?, import_id = ? WHERE nik = ?",
            [(source_sha, row, import_id, nik) for nik, row in touches.items()],
        )
    return result


def add_candidates(db: sqlite_utils.Database, programme_code: str, niks: list[str], import_id: int | None) -> None:
    """Mark people (by NIK) as candidates for a programme; already marked ones stay as they are."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO bansos_candidates (programme_code, person_id, import_id)"
        " SELECT ?, id, ? FROM bansos_persons WHERE nik = ?",
        [(programme_code, import_id, nik) for nik in niks],
    )


def _rows(db: sqlite_utils.Database, sql: str, params: list | tuple = ()) -> list[dict]:
    cursor = db.execute(sql, params)
    cols = [c[0] for c in cursor.description]
    return [dict(zip(cols, values)) for values in cursor]


_SELECT = f"SELECT {', '.join(PERSON_COLUMNS)} FROM bansos_persons"


def get(db: sqlite_utils.Database, person_id: int) -> dict | None:
    found = _rows(db, _SELECT + " WHERE id = ?", [person_id])
    return found[0] if found else None


def find_by_nik(db: sqlite_utils.Database, value: str) -> dict | None:
    """The person with this NIK (separators ignored), or None; exact match on the unique index."""
    number = re.sub(r"[\s.\-]", "", value or "")
    if not re.fullmatch(r"[0-9]{16}", number):
        return None
    found = _rows(db, _SELECT + " WHERE nik = ?", [number])
    return found[0] if found else None


def search(db: sqlite_utils.Database, query: str, limit: int = 50) -> list[dict]:
    """People whose normalised name holds every word of the query (as a prefix), by name.

    A query that is a 16-digit number is looked up as a NIK instead.
    """
    person = find_by_nik(db, query)
    if person is not None:
        return [person]
    terms = names.search_terms(query)
    if not terms:
        return []
    # Terms are a-z only (names.fold), so quoting them makes a safe FTS5 expression.
    match = " AND ".join(f'name_key : "{t}"*' for t in terms)
    found = _rows(
        db,
        _SELECT + " WHERE id IN (SELECT rowid FROM bansos_persons_fts WHERE bansos_persons_fts MATCH ? LIMIT ?)",
        [match, limit],
    )
    return sorted(found, key=lambda p: (p["name_key"], p["id"]))


def page(db: sqlite_utils.Database, after_id: int = 0, limit: int = 50, district_code: str | None = None) -> list[dict]:
    """One page of the registry in id order, optionally in one district."""
    if district_code:
        return _rows(
            db, _SELECT + " WHERE district_code = ? AND id > ? ORDER BY id LIMIT ?", [district_code, after_id, limit]
        )
    return _rows(db, _SELECT + " WHERE id > ? ORDER BY id LIMIT ?", [after_id, limit])


def count(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT COUNT(*) FROM bansos_persons").fetchone()[0]


def family(db: sqlite_utils.Database, kk: str | None) -> list[dict]:
    """Everyone on one family card (No. KK), oldest first."""
    if not kk:
        return []
    return _rows(db, _SELECT + " WHERE kk = ? ORDER BY birth_date, id", [kk])


def age(person: dict, on: dt.date) -> int | None:
    """Age in whole years on a date."""
    if not person.get("birth_date"):
        return None
    born = dt.date.fromisoformat(person["birth_date"])
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# Groups (kelompok masyarakat): recipients of bansos in goods, e.g. after a disaster.
GROUP_KINDS = ("kelompok", "lembaga")


def create_group(
    db: sqlite_utils.Database,
    name: str,
    kind: str,
    areas: Areas,
    village: str,
    leader_nik: str | None,
    created_by: int,
) -> int:
    """Create a group in a village of the region; raises RegistryError for an unknown village or leader."""
    name = re.sub(r"\s+", " ", name or "").strip()
    if len(name) < 3:
        raise RegistryError("nama kelompok minimal 3 huruf")
    if kind not in GROUP_KINDS:
        raise RegistryError("jenis kelompok harus kelompok atau lembaga")
    village_code = areas.village_code(village, None)
    if village_code is None:
        raise RegistryError("desa/kelurahan tidak dikenal; pilih dari daftar")
    leader = None
    if leader_nik:
        leader = find_by_nik(db, leader_nik)
        if leader is None:
            raise RegistryError("ketua kelompok tidak ada di daftar penerima; impor datanya dulu")
    with transaction(db):
        cur = db.execute(
            "INSERT INTO bansos_groups (name, kind, district_code, village_code, leader_id, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                name,
                kind,
                village_code.rsplit(".", 1)[0],
                village_code,
                leader["id"] if leader else None,
                created_by,
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            ],
        )
        if leader:
            db.execute(
                "INSERT OR IGNORE INTO bansos_group_members (group_id, person_id) VALUES (?, ?)",
                [cur.lastrowid, leader["id"]],
            )
    return cur.lastrowid


def add_member(db: sqlite_utils.Database, group_id: int, nik: str) -> int:
    """Add the person with this NIK to a group; returns their id. Raises RegistryError."""
    person = find_by_nik(db, nik)
    if person is None:
        raise RegistryError("NIK tidak ada di daftar penerima; impor datanya dulu")
    with transaction(db):
        db.execute(
            "INSERT OR IGNORE INTO bansos_group_members (group_id, person_id) VALUES (?, ?)", [group_id, person["id"]]
        )
    return person["id"]


def groups(db: sqlite_utils.Database) -> list[dict]:
    return _rows(
        db,
        "SELECT g.id, g.name, g.kind, g.district_code, g.village_code,"
        " (SELECT COUNT(*) FROM bansos_group_members m WHERE m.group_id = g.id) AS members"
        " FROM bansos_groups g ORDER BY g.name",
    )


def get_group(db: sqlite_utils.Database, group_id: int) -> dict | None:
    found = _rows(db, "SELECT * FROM bansos_groups WHERE id = ?", [group_id])
    return found[0] if found else None


def group_members(db: sqlite_utils.Database, group_id: int) -> list[dict]:
    return _rows(
        db,
        _SELECT.replace(
            "FROM bansos_persons", "FROM bansos_persons JOIN bansos_group_members m ON m.person_id = bansos_persons.id"
        )
        + " WHERE m.group_id = ? ORDER BY name",
        [group_id],
    )
