"""`hibahbansos`: the app's command line, which the deploy, the tests and officials call.

Every command works on the instance found like the app finds it (HIBAHBANSOS_HOME, else the
current folder). Domain errors become one `Error: ...` line on stderr and exit 1; no traceback
is printed, because tracebacks may carry personal data.
"""

from __future__ import annotations

import functools
import importlib
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hibahbansos import __version__
from hibahbansos.errors import HibahBansosError


def _boundary(fn: Callable) -> Callable:
    """Turn domain errors into `Error: ...` and exit 1."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HibahBansosError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(1)
        except sqlite3.Error as exc:
            click.secho(f"Error: database: {type(exc).__name__}: {exc}", fg="red", err=True)
            sys.exit(1)

    return wrapped


def _app():
    from hibahbansos import create_app

    return create_app()


@click.group()
@click.version_option(__version__, prog_name="hibahbansos")
def main() -> None:
    """Hibah & Bansos: manage this region's instance."""


@main.command()
@click.option("--pending", is_flag=True, help="Only list the pending migrations, one per line; apply nothing.")
@_boundary
def migrate(pending: bool) -> None:
    """Apply pending database migrations (safe to run again)."""
    from hibahbansos import db, migrations

    app = _app()
    if pending:
        # The deploy asks before migrating, to back the database up only when it will change.
        if not Path(app.config["DATABASE"]).is_file():
            click.echo("database does not exist yet")
            return
        conn = db.connect(app.config["DATABASE"])
        try:
            for name in migrations.pending_migrations(conn):
                click.echo(f"pending {name}")
        finally:
            conn.close()
        return
    conn = db.connect(app.config["DATABASE"])
    try:
        applied = migrations.apply_all(conn)
    finally:
        conn.close()
    if applied:
        for name in applied:
            click.echo(f"applied {name}")
    else:
        click.echo("database is up to date")


@main.command("seed-demo")
@click.option("--force", is_flag=True, help="Seed even if the database already has users.")
@_boundary
def seed_demo(force: bool) -> None:
    """Fill the database with realistic demo data (never on a production server)."""
    from hibahbansos import db, demo, migrations

    if os.environ.get("HIBAHBANSOS_ENV") == "production":
        raise HibahBansosError("seed-demo refuses to run with HIBAHBANSOS_ENV=production")
    app = _app()
    conn = db.connect(app.config["DATABASE"])
    try:
        if migrations.pending_migrations(conn):
            raise HibahBansosError("the database has pending migrations; run `hibahbansos migrate` first")
        with app.app_context():
            report = demo.seed(conn, force=force)
    finally:
        conn.close()
    for line in report:
        click.echo(line)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@_boundary
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn (Ctrl+C stops it)."""
    from gunicorn.app.base import BaseApplication

    from hibahbansos import db, migrations

    app = _app()
    conn = db.connect(app.config["DATABASE"])
    try:
        pending = migrations.pending_migrations(conn)
    finally:
        conn.close()
    if pending:
        raise HibahBansosError(f"{len(pending)} migration(s) pending; run `hibahbansos migrate` first")

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s %(b)s %(M)sms')

        def load(self):
            return app

    click.echo(f"Serving {app.extensions['hibahbansos.region'].name} at http://{host}:{port}/")
    _Gunicorn().run()


@main.command("create-admin")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="The administrator's full name.")
@click.option("--email", default=None)
@click.option(
    "--password-file",
    type=click.File("r"),
    default=None,
    help="Read the password from this file ('-' for stdin) instead of prompting.",
)
@_boundary
def create_admin(username: str, full_name: str, email: str | None, password_file) -> None:
    """Create an administrator; there is never a default password."""
    from hibahbansos import audit, db, roles, users

    if password_file is not None:
        password = password_file.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = _app()
    conn = db.connect(app.config["DATABASE"])
    try:
        with app.app_context():
            user_id = users.create_user(conn, username, password, full_name, email, {roles.ADMIN: None})
            audit.record(conn, "user.create_admin", subject_type="user", subject_id=user_id, actor="cli")
    finally:
        conn.close()
    click.echo(f"administrator {username.lower()} created")


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@_boundary
def audit_verify() -> None:
    """Check every row of the audit chain; exit 1 when anything was edited, inserted or deleted."""
    from hibahbansos import audit as audit_log
    from hibahbansos import db

    app = _app()
    conn = db.connect(app.config["DATABASE"])
    try:
        count, problems = audit_log.verify(conn, app.config["AUDIT_KEY"])
    finally:
        conn.close()
    if problems:
        for p in problems:
            click.secho(f"broken: {p}", fg="red", err=True)
        raise HibahBansosError(f"audit chain broken: {len(problems)} problem(s) in {count} row(s)")
    click.echo(f"audit chain intact: {count} row(s)")


@main.group()
def outbox() -> None:
    """Outgoing email (the hibah area's outbox)."""


@outbox.command("send")
@_boundary
def outbox_send() -> None:
    """Send unsent messages through the profile's SMTP server (exit 1 if any fails)."""
    from hibahbansos import db
    from hibahbansos.hibah import outbox as mail

    app = _app()
    region = app.extensions["hibahbansos.region"]
    if not mail.smtp_configured(region):
        raise HibahBansosError("no SMTP server in the profile (email.smtp_host); messages stay in the outbox")
    conn = db.connect(app.config["DATABASE"])
    try:
        sent, failed = mail.deliver_pending(conn, region, limit=1000)
    finally:
        conn.close()
    click.echo(f"sent {sent} message(s), {failed} failed")
    if failed:
        raise HibahBansosError(f"{failed} message(s) could not be sent; see the outbox page for the reason")


@main.command()
@click.option(
    "--to",
    "target",
    type=click.Path(path_type=Path),
    default=None,
    help="Backup file (default: DATA/backups/hibahbansos-<time>.db).",
)
@_boundary
def backup(target: Path | None) -> None:
    """Copy the database with SQLite's online backup API (safe while the app runs)."""
    from hibahbansos import backups

    app = _app()
    path = backups.backup_database(Path(app.config["DATABASE"]), target, app.extensions["hibahbansos.paths"].backups)
    click.echo(str(path))


main.add_command(importlib.import_module("hibahbansos.bansos.cli").bansos)

if __name__ == "__main__":
    main()
