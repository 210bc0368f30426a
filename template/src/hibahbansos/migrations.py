"""Schema changes, only through sqlite-utils Migrations: one function per change.

A released migration is never edited: a later change is a new function. Each feature area
owns one migration set (core here; hibah and bansos in their packages), applied in the order
of `SETS`, each migration in its own transaction with the record of it having run.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

core = Migrations("hibahbansos.core")


@core()
def m001_users_and_roles(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            full_name TEXT NOT NULL,
            email TEXT,
            password_hash TEXT NOT NULL,
            is_active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            last_login_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE user_roles (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            opd_code TEXT,
            PRIMARY KEY (user_id, role)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE login_attempts (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL,
            ip TEXT,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX login_attempts_username_at ON login_attempts (username, at)")
    db.execute("CREATE INDEX login_attempts_ip_at ON login_attempts (ip, at)")


@core()
def m002_audit_chain(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor_id INTEGER,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject_type TEXT,
            subject_id TEXT,
            detail TEXT NOT NULL,
            ip TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id)")
    db.execute(
        """
        CREATE TABLE audit_head (
            singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
            last_id INTEGER NOT NULL,
            last_hash TEXT NOT NULL,
            mac TEXT NOT NULL
        )
        """
    )


@core()
def m003_files(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            token TEXT NOT NULL UNIQUE,
            relpath TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            media_type TEXT NOT NULL,
            original_name TEXT NOT NULL,
            uploaded_by INTEGER REFERENCES users(id),
            uploaded_at TEXT NOT NULL
        )
        """
    )


def migration_sets() -> list[Migrations]:
    """Every migration set, in the order they apply. Feature areas add theirs here."""
    from hibahbansos.hibah.migrations import hibah

    return [core, hibah]


def apply_all(db: sqlite_utils.Database) -> list[str]:
    """Apply every pending migration; returns the names applied, in order."""
    applied = []
    for mset in migration_sets():
        names = [f"{mset.name}:{m.name}" for m in mset.pending(db)]
        mset.apply(db)
        applied += names
    return applied


def pending_migrations(db: sqlite_utils.Database) -> list[str]:
    """Names of migrations not yet applied (read-only)."""
    return [f"{mset.name}:{m.name}" for mset in migration_sets() for m in mset.pending(db)]
