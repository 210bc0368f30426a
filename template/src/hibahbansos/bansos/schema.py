"""The bansos tables: migration set `hibahbansos.bansos`, applied after core.

A released migration is never edited; a later change is a new function here.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("hibahbansos.bansos")


@migrations()
def m001_registry(db: sqlite_utils.Database) -> None:
    # One row per person, keyed by NIK. `name_key` is the normalised name (see names.py) and
    # `dedup_key` joins it with the birth date and the village, so likely duplicates under
    # different NIKs are one index lookup apart. `source_sha`/`source_row` say which file and
    # row last carried the person: that is what makes a re-import or a resumed import a no-op.
    db.execute(
        """
        CREATE TABLE bansos_persons (
            id INTEGER PRIMARY KEY,
            nik TEXT NOT NULL UNIQUE,
            kk TEXT,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL,
            birth_date TEXT,
            sex TEXT NOT NULL CHECK (sex IN ('L', 'P')),
            address TEXT,
            rt TEXT,
            rw TEXT,
            district_code TEXT,
            village_code TEXT,
            phone TEXT,
            relationship TEXT,
            desil INTEGER,
            outside_region INTEGER NOT NULL DEFAULT 0,
            dedup_key TEXT NOT NULL,
            source_sha TEXT,
            source_row INTEGER,
            import_id INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX bansos_persons_kk ON bansos_persons (kk)")
    db.execute("CREATE INDEX bansos_persons_dedup ON bansos_persons (dedup_key)")
    db.execute("CREATE INDEX bansos_persons_area ON bansos_persons (district_code, village_code)")
    # Full-text search on the normalised name, so "Muhamad" finds "Muhammad" (external content:
    # the FTS table holds only the index; triggers keep it in step with every write).
    db["bansos_persons"].enable_fts(["name_key"], fts_version="FTS5", create_triggers=True)

    db.execute(
        """
        CREATE TABLE bansos_groups (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            district_code TEXT,
            village_code TEXT,
            address TEXT,
            leader_id INTEGER REFERENCES bansos_persons(id),
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE bansos_group_members (
            group_id INTEGER NOT NULL REFERENCES bansos_groups(id) ON DELETE CASCADE,
            person_id INTEGER NOT NULL REFERENCES bansos_persons(id),
            PRIMARY KEY (group_id, person_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX bansos_group_members_person ON bansos_group_members (person_id)")


@migrations()
def m002_imports(db: sqlite_utils.Database) -> None:
    # The import journal: one row per import, advanced in the same transaction as each batch
    # of rows, so after a crash `last_row` says exactly where to resume.
    db.execute(
        """
        CREATE TABLE bansos_imports (
            id INTEGER PRIMARY KEY,
            file_name TEXT NOT NULL,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            format TEXT NOT NULL CHECK (format IN ('csv', 'xlsx')),
            programme_code TEXT,
            status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
            phase TEXT NOT NULL CHECK (phase IN ('rows', 'duplicates', 'done')),
            mapping TEXT NOT NULL,
            last_row INTEGER NOT NULL DEFAULT 0,
            rows_read INTEGER NOT NULL DEFAULT 0,
            inserted INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            unchanged INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            warnings INTEGER NOT NULL DEFAULT 0,
            failure TEXT,
            started_by INTEGER REFERENCES users(id),
            started_at TEXT NOT NULL,
            finished_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX bansos_imports_sha ON bansos_imports (sha256, status)")
    db.execute(
        """
        CREATE TABLE bansos_import_issues (
            id INTEGER PRIMARY KEY,
            import_id INTEGER NOT NULL REFERENCES bansos_imports(id) ON DELETE CASCADE,
            row INTEGER NOT NULL,
            column_name TEXT NOT NULL,
            severity TEXT NOT NULL CHECK (severity IN ('error', 'warning')),
            code TEXT NOT NULL,
            message TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX bansos_import_issues_import ON bansos_import_issues (import_id, row)")
    # People an import named as candidates for a programme (`import --programme CODE`).
    db.execute(
        """
        CREATE TABLE bansos_candidates (
            programme_code TEXT NOT NULL,
            person_id INTEGER NOT NULL REFERENCES bansos_persons(id),
            import_id INTEGER REFERENCES bansos_imports(id),
            PRIMARY KEY (programme_code, person_id)
        ) WITHOUT ROWID
        """
    )


@migrations()
def m003_distributions(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE bansos_cycles (
            id INTEGER PRIMARY KEY,
            programme_code TEXT NOT NULL,
            budget_year INTEGER NOT NULL,
            title TEXT NOT NULL,
            recipient_type TEXT NOT NULL CHECK (recipient_type IN ('individual', 'family', 'group')),
            criteria TEXT NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            form TEXT NOT NULL CHECK (form IN ('money', 'goods')),
            amount_per_recipient INTEGER NOT NULL,
            goods TEXT,
            recipients INTEGER NOT NULL,
            total_amount INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('prepared', 'approved', 'closed', 'cancelled')),
            prepared_by INTEGER NOT NULL REFERENCES users(id),
            prepared_at TEXT NOT NULL,
            approved_by INTEGER REFERENCES users(id),
            approved_at TEXT,
            closed_by INTEGER REFERENCES users(id),
            closed_at TEXT,
            CHECK (approved_by IS NULL OR approved_by != prepared_by)
        )
        """
    )
    db.execute("CREATE INDEX bansos_cycles_programme ON bansos_cycles (programme_code, budget_year, status)")
    db.execute(
        """
        CREATE TABLE bansos_cycle_items (
            id INTEGER PRIMARY KEY,
            cycle_id INTEGER NOT NULL REFERENCES bansos_cycles(id),
            person_id INTEGER REFERENCES bansos_persons(id),
            group_id INTEGER REFERENCES bansos_groups(id),
            kk TEXT,
            district_code TEXT,
            village_code TEXT,
            amount INTEGER NOT NULL,
            received_on TEXT,
            received_amount INTEGER,
            received_goods TEXT,
            evidence_file_id INTEGER REFERENCES files(id),
            recorded_by INTEGER REFERENCES users(id),
            recorded_at TEXT,
            CHECK ((person_id IS NULL) != (group_id IS NULL)),
            CHECK (received_amount IS NULL OR received_amount <= amount)
        )
        """
    )
    db.execute("CREATE UNIQUE INDEX bansos_cycle_items_person ON bansos_cycle_items (cycle_id, person_id)")
    db.execute("CREATE UNIQUE INDEX bansos_cycle_items_group ON bansos_cycle_items (cycle_id, group_id)")
    db.execute("CREATE INDEX bansos_cycle_items_by_person ON bansos_cycle_items (person_id)")
    db.execute("CREATE INDEX bansos_cycle_items_by_kk ON bansos_cycle_items (kk)")


@migrations()
def m004_flags(db: sqlite_utils.Database) -> None:
    # Flags for a person to review; never acted on automatically. `key` makes recomputing
    # them idempotent (INSERT OR IGNORE), so a decision once taken is never reset.
    db.execute(
        """
        CREATE TABLE bansos_flags (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('likely_duplicate', 'multi_programme')),
            key TEXT NOT NULL UNIQUE,
            person_a INTEGER REFERENCES bansos_persons(id),
            person_b INTEGER REFERENCES bansos_persons(id),
            kk TEXT,
            cycle_a INTEGER REFERENCES bansos_cycles(id),
            cycle_b INTEGER REFERENCES bansos_cycles(id),
            reasons TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'dismissed')),
            decided_by INTEGER REFERENCES users(id),
            decided_at TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX bansos_flags_status ON bansos_flags (status, kind)")
