"""The hibah area's tables: migration set `hibahbansos.hibah` (applied after core).

A released migration is never edited; a later change is a new function.

The amount trail (`amounts`), the state history (`transitions`) and the disbursement tranches
are append-only: triggers refuse UPDATE and DELETE, so a correction is always a new row. The
`*_amount` columns of `proposals` are a cache of the trail, written in the same transaction as
the trail row, so that lists and the public portal need no aggregation.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

hibah = Migrations("hibahbansos.hibah")


def _append_only(db: sqlite_utils.Database, table: str) -> None:
    for op in ("UPDATE", "DELETE"):
        db.execute(
            f"""
            CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only: add a correcting row instead'); END
            """
        )


@hibah()
def m001_organisations(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE organisations (
            id INTEGER PRIMARY KEY,
            owner_id INTEGER NOT NULL REFERENCES users(id),
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            address TEXT NOT NULL,
            district_code TEXT NOT NULL,
            district_name TEXT NOT NULL,
            legal_number TEXT NOT NULL,
            legal_date TEXT NOT NULL,
            kemenkumham_number TEXT,
            npwp TEXT NOT NULL,
            domiciled INTEGER NOT NULL DEFAULT 0,
            has_secretariat INTEGER NOT NULL DEFAULT 0,
            bank_code TEXT NOT NULL,
            bank_account TEXT NOT NULL,
            bank_holder TEXT NOT NULL,
            phone TEXT,
            email TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX organisations_owner ON organisations (owner_id)")
    db.execute("CREATE UNIQUE INDEX organisations_npwp ON organisations (npwp)")
    db.execute(
        """
        CREATE TABLE organisation_officers (
            organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            position TEXT NOT NULL,
            name TEXT NOT NULL,
            nik TEXT NOT NULL,
            PRIMARY KEY (organisation_id, position)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE organisation_documents (
            id INTEGER PRIMARY KEY,
            organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
            doc_code TEXT NOT NULL,
            file_id INTEGER NOT NULL REFERENCES files(id),
            uploaded_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX organisation_documents_org ON organisation_documents (organisation_id, doc_code)")


@hibah()
def m002_proposals(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE proposals (
            id INTEGER PRIMARY KEY,
            tracking_no TEXT UNIQUE,
            organisation_id INTEGER NOT NULL REFERENCES organisations(id),
            applicant_id INTEGER NOT NULL REFERENCES users(id),
            budget_year INTEGER NOT NULL,
            programme_code TEXT NOT NULL,
            opd_code TEXT NOT NULL,
            title TEXT NOT NULL,
            purpose TEXT NOT NULL,
            state TEXT NOT NULL,
            is_recipient INTEGER NOT NULL DEFAULT 0,
            requested_amount INTEGER NOT NULL DEFAULT 0,
            recommended_amount INTEGER,
            tapd_amount INTEGER,
            approved_amount INTEGER,
            disbursed_amount INTEGER NOT NULL DEFAULT 0,
            accounted_amount INTEGER,
            rab_version INTEGER NOT NULL DEFAULT 1,
            decree_number TEXT,
            decree_date TEXT,
            nphd_number TEXT,
            nphd_token TEXT UNIQUE,
            nphd_signed_date TEXT,
            lpj_due_date TEXT,
            created_at TEXT NOT NULL,
            submitted_at TEXT,
            state_changed_at TEXT NOT NULL
        )
        """
    )
    # Work queues: by state, oldest first; reviewers by OPD.
    db.execute("CREATE INDEX proposals_state ON proposals (state, state_changed_at)")
    db.execute("CREATE INDEX proposals_opd_state ON proposals (opd_code, state, state_changed_at)")
    db.execute("CREATE INDEX proposals_org ON proposals (organisation_id, budget_year, is_recipient)")
    db.execute("CREATE INDEX proposals_applicant ON proposals (applicant_id)")
    # The public recipient list: keyset pagination on id inside a year, with the usual filters.
    db.execute("CREATE INDEX proposals_public ON proposals (budget_year, is_recipient, id)")
    db.execute("CREATE INDEX proposals_public_opd ON proposals (budget_year, is_recipient, opd_code, id)")
    db.execute("CREATE INDEX proposals_public_prog ON proposals (budget_year, is_recipient, programme_code, id)")
    # The ceiling check sums approvals per programme and year.
    db.execute("CREATE INDEX proposals_ceiling ON proposals (programme_code, budget_year, is_recipient)")
    db.execute(
        """
        CREATE TABLE rab_lines (
            id INTEGER PRIMARY KEY,
            proposal_id INTEGER NOT NULL REFERENCES proposals(id),
            version INTEGER NOT NULL,
            line_no INTEGER NOT NULL,
            description TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            unit TEXT NOT NULL,
            unit_price INTEGER NOT NULL,
            total INTEGER NOT NULL,
            author_id INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            UNIQUE (proposal_id, version, line_no)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE proposal_documents (
            id INTEGER PRIMARY KEY,
            proposal_id INTEGER NOT NULL REFERENCES proposals(id),
            doc_code TEXT NOT NULL,
            file_id INTEGER NOT NULL REFERENCES files(id),
            uploaded_by INTEGER REFERENCES users(id),
            uploaded_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX proposal_documents_proposal ON proposal_documents (proposal_id, doc_code)")
    db.execute(
        """
        CREATE TABLE amounts (
            id INTEGER PRIMARY KEY,
            proposal_id INTEGER NOT NULL REFERENCES proposals(id),
            kind TEXT NOT NULL,
            amount INTEGER NOT NULL,
            reason TEXT NOT NULL,
            reference TEXT,
            actor_id INTEGER REFERENCES users(id),
            actor TEXT NOT NULL,
            at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX amounts_proposal ON amounts (proposal_id, id)")
    _append_only(db, "amounts")
    db.execute(
        """
        CREATE TABLE transitions (
            id INTEGER PRIMARY KEY,
            proposal_id INTEGER NOT NULL REFERENCES proposals(id),
            action TEXT NOT NULL,
            from_state TEXT NOT NULL,
            to_state TEXT NOT NULL,
            note TEXT,
            actor_id INTEGER REFERENCES users(id),
            actor TEXT NOT NULL,
            at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX transitions_proposal ON transitions (proposal_id, id)")
    _append_only(db, "transitions")
    db.execute(
        """
        CREATE TABLE disbursements (
            id INTEGER PRIMARY KEY,
            proposal_id INTEGER NOT NULL REFERENCES proposals(id),
            tranche_no INTEGER NOT NULL,
            sp2d_number TEXT NOT NULL UNIQUE,
            sp2d_date TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            actor_id INTEGER REFERENCES users(id),
            at TEXT NOT NULL,
            UNIQUE (proposal_id, tranche_no)
        )
        """
    )
    _append_only(db, "disbursements")
    db.execute(
        """
        CREATE TABLE lpj_reports (
            id INTEGER PRIMARY KEY,
            proposal_id INTEGER NOT NULL REFERENCES proposals(id),
            accounted_amount INTEGER NOT NULL,
            summary TEXT NOT NULL,
            file_id INTEGER NOT NULL REFERENCES files(id),
            submitted_by INTEGER REFERENCES users(id),
            submitted_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX lpj_reports_proposal ON lpj_reports (proposal_id, id)")


@hibah()
def m003_portal_and_admin(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE complaints (
            id INTEGER PRIMARY KEY,
            tracking_no TEXT NOT NULL UNIQUE,
            about_tracking_no TEXT,
            name TEXT,
            contact TEXT,
            subject TEXT NOT NULL,
            message TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'baru',
            response TEXT,
            responded_by INTEGER REFERENCES users(id),
            responded_at TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            to_addr TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )
        """
    )
    db.execute("CREATE INDEX outbox_unsent ON outbox (sent_at, id)")
    db.execute(
        """
        CREATE TABLE app_settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_by INTEGER REFERENCES users(id),
            updated_at TEXT NOT NULL
        )
        """
    )
    # Searching recipients by name: full-text index kept in step by triggers.
    db.execute("CREATE VIRTUAL TABLE organisations_fts USING fts5 (name, content='organisations', content_rowid='id')")
    db.execute(
        """
        CREATE TRIGGER organisations_fts_ai AFTER INSERT ON organisations BEGIN
            INSERT INTO organisations_fts (rowid, name) VALUES (new.id, new.name);
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER organisations_fts_ad AFTER DELETE ON organisations BEGIN
            INSERT INTO organisations_fts (organisations_fts, rowid, name) VALUES ('delete', old.id, old.name);
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER organisations_fts_au AFTER UPDATE OF name ON organisations BEGIN
            INSERT INTO organisations_fts (organisations_fts, rowid, name) VALUES ('delete', old.id, old.name);
            INSERT INTO organisations_fts (rowid, name) VALUES (new.id, new.name);
        END
        """
    )
