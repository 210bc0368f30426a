"""Database backups through SQLite's online backup API: consistent while the app writes."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

from hibahbansos.errors import HibahBansosError


def backup_database(database: Path, target: Path | None, folder: Path) -> Path:
    """Copy `database` to `target` (or a time-stamped file in `folder`); returns the file.

    The copy is written beside its final name and renamed when complete, so a crash never
    leaves a half-written backup under the final name. Raises HibahBansosError when the
    database does not exist.
    """
    if not database.is_file():
        raise HibahBansosError(f"no database at {database}; run `hibahbansos migrate` first")
    if target is None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = folder / f"hibahbansos-{stamp}.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    src = sqlite3.connect(str(database))
    try:
        dst = sqlite3.connect(str(partial))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    os.chmod(partial, 0o600)
    os.replace(partial, target)
    return target
