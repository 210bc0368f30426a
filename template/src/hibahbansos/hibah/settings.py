"""Settings the administrator changes in the app (not in the profile): intake, notices, regulations.

What differs between regions by design lives in region.yml; these are day-to-day switches of
the office that runs the app. Every change is audited.
"""

from __future__ import annotations

import datetime as dt

import sqlite_utils

from hibahbansos.db import transaction

DEFAULT_REGULATIONS = """\
Undang-Undang Nomor 14 Tahun 2008 tentang Keterbukaan Informasi Publik
Undang-Undang Nomor 27 Tahun 2022 tentang Pelindungan Data Pribadi
Peraturan Pemerintah Nomor 12 Tahun 2019 tentang Pengelolaan Keuangan Daerah
Peraturan Menteri Dalam Negeri Nomor 32 Tahun 2011 tentang Pedoman Pemberian Hibah dan Bantuan Sosial \
yang Bersumber dari APBD, beserta perubahannya
Peraturan Menteri Dalam Negeri Nomor 77 Tahun 2020 tentang Pedoman Teknis Pengelolaan Keuangan Daerah"""
DEFAULTS: dict[str, str] = {
    "intake_open": "1",
    "announcement": "",
    "regulations": DEFAULT_REGULATIONS,
}


def get(db: sqlite_utils.Database, key: str) -> str:
    """A setting's value, or its default; raises KeyError for an unknown key."""
    default = DEFAULTS[key]
    row = db.execute("SELECT value FROM app_settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def get_bool(db: sqlite_utils.Database, key: str) -> bool:
    return get(db, key) == "1"


def set_many(db: sqlite_utils.Database, values: dict[str, str], user_id: int | None) -> list[str]:
    """Store settings that changed; returns their keys. Raises KeyError for an unknown key."""
    from hibahbansos import audit

    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    changed = []
    with transaction(db):
        for key, value in values.items():
            if get(db, key) == value:
                continue
            db.execute(
                "INSERT INTO app_settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,"
                " updated_at = excluded.updated_at",
                [key, value, user_id, now],
            )
            changed.append(key)
        if changed:
            audit.record(db, "admin.settings", subject_type="settings", detail={"changed": changed})
    return changed
