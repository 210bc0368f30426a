"""The SQLite database: one connection per request, WAL mode, migrations.

Every query is parameterised (sqlite-utils or `?` placeholders); user input is never pasted
into SQL. Writes that read before they write (ceilings, the audit chain) go through
`transaction()`, which takes SQLite's write lock up front so two approvals cannot both pass
a check that only one of them should.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g

BUSY_TIMEOUT_MS = 10_000


def connect(path: Path | str) -> sqlite_utils.Database:
    """Open the database with the pragmas every connection needs."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
    return db


def get_db() -> sqlite_utils.Database:
    """The request's connection, opened on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that holds SQLite's write lock from its start (BEGIN IMMEDIATE).

    Nested calls become savepoints. Raises whatever the body raises, after rolling back.
    """
    conn = db.conn
    if conn.in_transaction:
        name = f"sp_{secrets.token_hex(8)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    conn.commit()


def status(path: Path | str) -> dict:
    """Database health for /healthz: reachable, migrations applied, none pending."""
    from hibahbansos.migrations import pending_migrations

    try:
        db = connect(path)
        try:
            db.execute("SELECT 1").fetchone()
            pending = pending_migrations(db)
        finally:
            db.close()
    except sqlite3.Error as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": not pending, "pending_migrations": pending}


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
