"""`hibahbansos bansos ...`: importing the recipient registry from the command line.

    hibahbansos bansos import PATH [--programme CODE] [--dry-run] [--errors FILE]

Row problems never stop the import: they go to the error file, whose path is printed. The
command exits 1 only when the file as a whole cannot be imported. Run the same command again
after an interruption: it resumes where the last committed batch ended.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def _boundary(fn: Callable) -> Callable:
    """The app CLI's error boundary, looked up when called (the app CLI imports this module)."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        from hibahbansos.cli import _boundary as core

        return core(fn)(*args, **kwargs)

    return wrapped


@click.group()
def bansos() -> None:
    """Bansos: the recipient registry and its imports."""


@bansos.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--programme",
    "programme_code",
    default=None,
    help="Mark the imported people as candidates of this programme (its code).",
)
@click.option("--dry-run", is_flag=True, help="Check every row and report, but write nothing.")
@click.option(
    "--errors",
    "errors_to",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also copy the error file here.",
)
@click.option(
    "--batch-size", default=20_000, show_default=True, type=click.IntRange(1, 100_000), help="Rows per transaction."
)
@click.option("--started-by", type=int, default=None, hidden=True)
@click.option("--file-name", default=None, hidden=True)
@click.option("--remove-when-done", is_flag=True, hidden=True)
@_boundary
def import_(
    path: Path,
    programme_code: str | None,
    dry_run: bool,
    errors_to: Path | None,
    batch_size: int,
    started_by: int | None,
    file_name: str | None,
    remove_when_done: bool,
) -> None:
    """Import recipients from a CSV or XLSX file (DTKS/DTSEN extract); resumes an interrupted import."""
    import shutil

    from hibahbansos import audit, current_paths, current_region, db, migrations, users
    from hibahbansos.bansos import areas as areas_mod
    from hibahbansos.bansos import importer, programmes
    from hibahbansos.cli import _app
    from hibahbansos.errors import HibahBansosError

    app = _app()
    conn = db.connect(app.config["DATABASE"])
    try:
        with app.app_context():
            if migrations.pending_migrations(conn):
                raise HibahBansosError("the database has pending migrations; run `hibahbansos migrate` first")
            region = current_region()
            if programme_code:
                programmes.get(region, programme_code)
            actor = "cli"
            if started_by is not None:
                user = users.get_user(conn, started_by)
                actor = user.username if user else actor

            def record(action: str, import_id: int, detail: dict) -> None:
                audit.record(
                    conn,
                    action,
                    subject_type="bansos_import",
                    subject_id=import_id,
                    detail=detail,
                    actor_id=started_by,
                    actor=actor,
                )

            shown = [0]

            def progress(report: importer.Report) -> None:
                # A line every 50,000 rows, so a long import shows it is alive.
                if report.rows_read // 50_000 > shown[0]:
                    shown[0] = report.rows_read // 50_000
                    click.echo(f"  ... {report.rows_read} rows", err=True)

            work = current_paths().data / "imports"
            report = importer.run(
                conn,
                path,
                areas=areas_mod.for_region(region.kode),
                today=region.today(),
                work_dir=work,
                programme_code=programme_code,
                dry_run=dry_run,
                started_by=started_by,
                file_name=file_name,
                batch_size=batch_size,
                on_batch=progress,
                audit=None if dry_run else record,
            )
            if remove_when_done and not dry_run:
                # A file uploaded through the web holds personal data: gone once imported.
                path.unlink(missing_ok=True)
            if dry_run:
                report.issues_file = importer.write_dry_issues(
                    report, errors_to or work / f"dry-run-{path.stem}-masalah.csv"
                )
    finally:
        conn.close()
    what = (
        "dry run (nothing written)"
        if dry_run
        else f"import #{report.import_id}" + (" (resumed)" if report.resumed else "")
    )
    click.echo(f"{what}: {path.name}: {report.rows_read} rows read")
    click.echo(f"  inserted {report.inserted}, updated {report.updated}, unchanged {report.unchanged}")
    click.echo(f"  errors {report.errors} in {report.error_rows} rows (those rows skipped), warnings {report.warnings}")
    if not dry_run:
        click.echo(f"  likely duplicates newly flagged for review: {report.flags}")
    if report.issues_file is not None:
        if errors_to and not dry_run:
            shutil.copyfile(report.issues_file, errors_to)
            report.issues_file = errors_to
        click.echo(f"error file: {report.issues_file}")
    sys.stdout.flush()
