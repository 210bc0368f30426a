"""Importing recipients from CSV and XLSX extracts (DTKS/DTSEN and the like), row by row.

The file is streamed (csv module, or openpyxl in read-only mode): memory stays flat whatever
its size. Rows are checked one by one and written in batches; each batch is one transaction
that also holds the batch's problems and advances the import journal (`bansos_imports`). So
after a crash or a `kill -9` every row is either fully in or not at all, and running the same
import again resumes after the last committed row. Re-importing a finished file writes
nothing (persons are upserted by NIK and unchanged ones are left alone).

The error file lists every problem as row number, column, severity, code and reason. It holds
no personal data at all, not even masked: the row number points into the officer's own copy
of the file, which is where the values are. So the error file can be mailed or printed
without becoming a leak.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import queue
import re
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from hibahbansos.bansos import duplicates, names, recipients
from hibahbansos.bansos.areas import Areas
from hibahbansos.db import transaction
from hibahbansos.errors import HibahBansosError

BATCH_SIZE = 20_000
PREVIEW_ROWS = 20
HEADER_SEARCH_ROWS = 10
CACHE_KIB = 64 * 1024

# Our field -> headers seen in DTKS, DTSEN and Dinas Sosial extracts, compared after folding
# (lower case, letters and digits only): "No. KK", "NO_KK" and "Nomor KK" all match.
HEADERS: dict[str, tuple[str, ...]] = {
    "nik": ("nik", "nikart", "nikpenerima", "noktp", "nomorktp", "noinduk", "nomorindukkependudukan", "nikanggota"),
    "kk": ("kk", "nokk", "nomorkk", "nokartukeluarga", "nomorkartukeluarga", "nikk"),
    "name": ("nama", "namalengkap", "namaart", "namapenerima", "namaanggota", "namasesuaiktp"),
    "birth_date": ("tgllahir", "tanggallahir", "tgllhr", "tanggallhr", "tgllahirart"),
    "sex": ("jeniskelamin", "jnskel", "jk", "kelamin", "jnskelamin", "lp", "sex"),
    "address": ("alamat", "alamatlengkap", "alamatrumah", "alamatdomisili", "jalan"),
    "rt": ("rt", "nort"),
    "rw": ("rw", "norw"),
    "district": ("kecamatan", "kdkec", "kodekecamatan", "namakecamatan", "kec", "idkecamatan", "kodekec"),
    "village": (
        "desa",
        "kelurahan",
        "desakelurahan",
        "kddesa",
        "kodedesa",
        "kodekelurahan",
        "namadesa",
        "kdkel",
        "desakel",
        "kodedesakelurahan",
    ),
    "phone": ("nohp", "nomorhp", "telepon", "notelp", "hp", "nomortelepon", "notelepon", "handphone", "nowa", "telp"),
    "relationship": (
        "hubkeluarga",
        "hubungankeluarga",
        "shdk",
        "hubkel",
        "statushubungan",
        "hubungandengankk",
        "hubkrt",
        "hubungan",
    ),
    "desil": ("desil", "desilkesejahteraan", "peringkatdesil", "desilnasional"),
}
REQUIRED = ("nik", "name")
_ALIAS = {alias: f for f, aliases in HEADERS.items() for alias in aliases}


class BansosImportError(HibahBansosError):
    """The file cannot be imported at all (wrong type, no usable header, busy); nothing was written."""


def header_key(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", names.fold(str(text or "")))


def map_headers(header: list[Any]) -> dict[int, str]:
    """Column index -> our field, for the headers we recognise (first match wins)."""
    mapping: dict[int, str] = {}
    for index, cell in enumerate(header):
        f = _ALIAS.get(header_key(cell))
        if f is not None and f not in mapping.values():
            mapping[index] = f
    return mapping


# -- reading -----------------------------------------------------------------------------


def sniff_format(path: Path) -> str:
    """'xlsx' or 'csv' from the file's first bytes; raises BansosImportError for other files."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise BansosImportError("berkas Excel lama (.xls) tidak didukung; simpan sebagai .xlsx atau .csv")
    if b"\x00" in head or head.startswith(b"%PDF"):
        raise BansosImportError("berkas bukan CSV atau XLSX; ekspor data sebagai .csv atau .xlsx")
    return "csv"


def _csv_encoding(path: Path) -> str:
    # Exports from Excel on Windows are often cp1252; everything else is UTF-8 (maybe with BOM).
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as fh:
        try:
            decoder.decode(fh.read(1 << 20))
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def _csv_rows(path: Path) -> Iterator[list[Any]]:
    encoding = _csv_encoding(path)
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(64 * 1024)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        yield from csv.reader(fh, dialect)


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise BansosImportError(f"berkas XLSX tidak terbaca ({type(exc).__name__}); simpan ulang dari Excel") from None
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
    finally:
        book.close()


def read_rows(path: Path, fmt: str) -> Iterator[list[Any]]:
    """Every row of the file's first sheet as a list of cell values, streamed."""
    return _xlsx_rows(path) if fmt == "xlsx" else _csv_rows(path)


@dataclass
class Layout:
    """Where the header is and what each column means."""

    header_row: int  # 1-based row number of the header
    header: list[str]
    mapping: dict[int, str]

    @property
    def unused(self) -> list[str]:
        return [h for i, h in enumerate(self.header) if i not in self.mapping and h]

    def column_name(self, f: str) -> str:
        """The file's own header for one of our fields (what the error file shows)."""
        for index, mapped in self.mapping.items():
            if mapped == f:
                return self.header[index]
        return f


def find_layout(rows: Iterator[list[Any]]) -> Layout:
    """Read up to the header row (a title row or two above it is fine); raises BansosImportError."""
    best: Layout | None = None
    for number, row in enumerate(rows, start=1):
        mapping = map_headers(row)
        if all(f in mapping.values() for f in REQUIRED):
            return Layout(number, ["" if c is None else str(c).strip() for c in row], mapping)
        if best is None or len(mapping) > len(best.mapping):
            best = Layout(number, [str(c or "") for c in row], mapping)
        if number >= HEADER_SEARCH_ROWS:
            break
    missing = [f for f in REQUIRED if best is None or f not in best.mapping.values()]
    accepted = "; ".join(f"{f}: {', '.join(HEADERS[f][:4]).upper()}" for f in missing)
    raise BansosImportError(
        f"kolom wajib tidak ditemukan di {HEADER_SEARCH_ROWS} baris pertama ({', '.join(missing)}); "
        f"beri judul kolom, misalnya {accepted}"
    )


def _mapped(row: list[Any], mapping: dict[int, str]) -> dict[str, Any]:
    return {f: row[i] if i < len(row) else None for i, f in mapping.items()}


def _blank(row: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in row)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- preview -----------------------------------------------------------------------------


@dataclass
class PreviewRow:
    row: int
    person: recipients.Person | None
    issues: list[recipients.Issue]
    raw_name: str


@dataclass
class Preview:
    layout: Layout
    rows: list[PreviewRow]
    format: str


def preview(path: Path, areas: Areas, today: dt.date, limit: int = PREVIEW_ROWS) -> Preview:
    """Parse and check the first rows of a file without writing anything; raises BansosImportError."""
    fmt = sniff_format(path)
    rows = read_rows(path, fmt)
    try:
        layout = find_layout(rows)
        out = []
        seen: dict[str, int] = {}
        for number, row in enumerate(rows, start=layout.header_row + 1):
            if _blank(row):
                continue
            raw = _mapped(row, layout.mapping)
            person, issues = recipients.check_row(raw, areas, today)
            if person is not None and person.nik in seen:
                issues.append(
                    recipients.Issue(
                        "nik",
                        "warning",
                        "duplicate_in_file",
                        f"NIK sama dengan baris {seen[person.nik]}; data digabung, baris ini yang berlaku",
                    )
                )
            if person is not None:
                seen[person.nik] = number
            out.append(PreviewRow(number, person, issues, str(raw.get("name") or "").strip()))
            if len(out) >= limit:
                break
    finally:
        rows.close()  # type: ignore[attr-defined]
    return Preview(layout, out, fmt)


# -- the import itself -------------------------------------------------------------------


@dataclass
class Report:
    """What an import did; the same figures are kept in its journal row."""

    import_id: int | None
    dry_run: bool
    resumed: bool
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0
    warnings: int = 0
    error_rows: int = 0
    issues_file: Path | None = None
    flags: int = 0
    dry_issues: list[tuple[int, str, recipients.Issue]] = field(default_factory=list)


@contextlib.contextmanager
def _lock(folder: Path, sha: str) -> Iterator[None]:
    """Hold an OS lock for this file's content; the kernel drops it when the process dies."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{sha}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BansosImportError("berkas ini sedang diimpor oleh proses lain; tunggu sampai selesai") from None
        yield
    finally:
        os.close(fd)


def is_active(folder: Path, sha: str) -> bool:
    """Whether a process is importing this file right now (it holds the file's lock)."""
    path = folder / f"{sha}.lock"
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _journal_row(db: sqlite_utils.Database, import_id: int) -> dict:
    cursor = db.execute("SELECT * FROM bansos_imports WHERE id = ?", [import_id])
    cols = [c[0] for c in cursor.description]
    return dict(zip(cols, cursor.fetchone()))


def get(db: sqlite_utils.Database, import_id: int) -> dict | None:
    if db.execute("SELECT 1 FROM bansos_imports WHERE id = ?", [import_id]).fetchone() is None:
        return None
    return _journal_row(db, import_id)


def recent(db: sqlite_utils.Database, limit: int = 20) -> list[dict]:
    cursor = db.execute("SELECT * FROM bansos_imports ORDER BY id DESC LIMIT ?", [limit])
    cols = [c[0] for c in cursor.description]
    return [dict(zip(cols, v)) for v in cursor]


def run(
    db: sqlite_utils.Database,
    path: Path,
    *,
    areas: Areas,
    today: dt.date,
    work_dir: Path,
    programme_code: str | None = None,
    dry_run: bool = False,
    started_by: int | None = None,
    file_name: str | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[Report], None] | None = None,
    audit: Callable[[str, int, dict], None] | None = None,
) -> Report:
    """Import a CSV or XLSX file into the registry, resuming an interrupted import of the same file.

    `work_dir` holds the locks and the error files. Raises BansosImportError when the file as
    a whole cannot be imported (nothing is written then); bad rows never raise.
    """
    path = Path(path)
    if not path.is_file():
        raise BansosImportError(f"{path}: berkas tidak ada")
    fmt = sniff_format(path)
    sha = file_sha256(path)
    # A larger page cache keeps the NIK and duplicate-key indexes' hot pages in memory while
    # a large file streams in (64 MiB, well inside the import's memory budget).
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    with _lock(work_dir, sha):
        rows = read_rows(path, fmt)
        try:
            layout = find_layout(rows)
            journal = None
            if not dry_run:
                journal = open_journal(db, path, sha, fmt, layout, programme_code, started_by, file_name)
            report = Report(journal["id"] if journal else None, dry_run, bool(journal and journal["last_row"]))
            if journal:
                for key in ("rows_read", "inserted", "updated", "unchanged", "errors", "warnings"):
                    setattr(report, key, journal[key])
            if audit and journal and not report.resumed:
                audit("bansos.import.start", journal["id"], {"format": fmt, "programme": programme_code, "sha256": sha})
            last_row = journal["last_row"] if journal else 0
            if journal is None or journal["phase"] == "rows":
                _import_rows(
                    db, rows, layout, report, areas, today, sha, programme_code, last_row, batch_size, on_batch
                )
        finally:
            rows.close()  # type: ignore[attr-defined]
        if journal is not None:
            with transaction(db):
                db.execute("UPDATE bansos_imports SET phase = 'duplicates' WHERE id = ?", [journal["id"]])
            # Idempotent (flags are keyed), so a crash here is also finished by a rerun.
            report.flags = duplicates.flag_likely_duplicates(db)
            with transaction(db):
                db.execute(
                    "UPDATE bansos_imports SET phase = 'done', status = 'done', finished_at = ? WHERE id = ?",
                    [_now(), journal["id"]],
                )
                if audit:
                    audit(
                        "bansos.import.finish",
                        journal["id"],
                        {
                            k: getattr(report, k)
                            for k in ("rows_read", "inserted", "updated", "unchanged", "errors", "warnings")
                        },
                    )
            report.error_rows = db.execute(
                "SELECT COUNT(DISTINCT row) FROM bansos_import_issues WHERE import_id = ? AND severity = 'error'",
                [journal["id"]],
            ).fetchone()[0]
            report.issues_file = write_issues_file(db, journal["id"], work_dir / f"import-{journal['id']}-masalah.csv")
        else:
            report.error_rows = len({r for r, _, i in report.dry_issues if i.severity == "error"})
    return report


def open_journal(
    db: sqlite_utils.Database,
    path: Path,
    sha: str,
    fmt: str,
    layout: Layout,
    programme_code: str | None,
    started_by: int | None,
    file_name: str | None,
) -> dict:
    """The unfinished journal of this file (to resume), or a new one (the web opens it before starting the run)."""
    mapping = json.dumps({layout.header[i]: f for i, f in layout.mapping.items()}, ensure_ascii=False)
    with transaction(db):
        found = db.execute(
            "SELECT id FROM bansos_imports WHERE sha256 = ? AND status = 'running' AND programme_code IS ?"
            " ORDER BY id DESC LIMIT 1",
            [sha, programme_code],
        ).fetchone()
        if found:
            return _journal_row(db, found[0])
        cur = db.execute(
            "INSERT INTO bansos_imports (file_name, path, sha256, size, format, programme_code, status, phase, mapping,"
            " started_by, started_at) VALUES (?, ?, ?, ?, ?, ?, 'running', 'rows', ?, ?, ?)",
            [
                file_name or path.name,
                str(path),
                sha,
                path.stat().st_size,
                fmt,
                programme_code,
                mapping,
                started_by,
                _now(),
            ],
        )
        return _journal_row(db, cur.lastrowid)


def _import_rows(
    db: sqlite_utils.Database,
    rows: Iterator[list[Any]],
    layout: Layout,
    report: Report,
    areas: Areas,
    today: dt.date,
    sha: str,
    programme_code: str | None,
    last_row: int,
    batch_size: int,
    on_batch: Callable[[Report], None] | None,
) -> None:
    """Check rows here and write batches in a second thread, so parsing and SQLite overlap.

    SQLite releases the GIL while it works, so the writer's inserts run while this thread
    checks the next batch. Batches are still written one after another, in file order, each
    in its own transaction; the writer alone touches the database meanwhile.
    """
    pending: queue.Queue = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def writer() -> None:
        while True:
            job = pending.get()
            if job is None:
                return
            if failure:
                continue  # drain: an earlier batch failed, write nothing after it
            try:
                _commit_batch(db, *job, report=report, layout=layout, sha=sha, programme_code=programme_code)
                if on_batch:
                    on_batch(report)
            except BaseException as exc:  # noqa: BLE001 - handed to the reading thread, which re-raises it
                failure.append(exc)

    thread = threading.Thread(target=writer, name="bansos-import-writer", daemon=True)
    thread.start()
    batch: list[tuple[int, recipients.Person]] = []
    issues: list[tuple[int, str, recipients.Issue]] = []
    number = layout.header_row
    read = 0
    try:
        for number, row in enumerate(rows, start=layout.header_row + 1):
            if number <= last_row:
                continue  # committed by the run that was interrupted
            if _blank(row):
                continue
            read += 1
            person, row_issues = recipients.check_row(_mapped(row, layout.mapping), areas, today)
            for issue in row_issues:
                issues.append((number, layout.column_name(issue.field), issue))
            if person is not None:
                batch.append((number, person))
            if read >= batch_size:
                pending.put((batch, issues, number, read))
                if failure:
                    break
                batch, issues, read = [], [], 0
        else:
            if read or number > last_row:
                pending.put((batch, issues, number, read))
    finally:
        pending.put(None)
        thread.join()
    if failure:
        raise failure[0]


def _commit_batch(
    db: sqlite_utils.Database,
    batch: list[tuple[int, recipients.Person]],
    issues: list[tuple[int, str, recipients.Issue]],
    last_row: int,
    read: int,
    *,
    report: Report,
    layout: Layout,
    sha: str,
    programme_code: str | None,
) -> None:
    """Write one batch, its problems and the journal's progress, all or nothing."""
    import_id = report.import_id
    if import_id is None:  # dry run: same checks and comparisons, nothing written
        result = recipients.upsert(db, batch, sha, None, _now(), write=False)
        report.dry_issues.extend(_count(report, result, issues, layout, read))
        return
    with transaction(db):
        result = recipients.upsert(db, batch, sha, import_id, _now())
        all_issues = _count(report, result, issues, layout, read)
        if all_issues:
            db.conn.executemany(
                "INSERT INTO bansos_import_issues (import_id, row, column_name, severity, code, message) VALUES (?, ?, ?, ?, ?, ?)",
                [(import_id, row, column, i.severity, i.code, i.message) for row, column, i in all_issues],
            )
        if programme_code and batch:
            recipients.add_candidates(db, programme_code, [p.nik for _, p in batch], import_id)
        db.execute(
            "UPDATE bansos_imports SET last_row = ?, rows_read = ?, inserted = ?, updated = ?, unchanged = ?,"
            " errors = ?, warnings = ? WHERE id = ?",
            [
                last_row,
                report.rows_read,
                report.inserted,
                report.updated,
                report.unchanged,
                report.errors,
                report.warnings,
                import_id,
            ],
        )


def _count(
    report: Report,
    result: recipients.UpsertResult,
    issues: list[tuple[int, str, recipients.Issue]],
    layout: Layout,
    read: int,
) -> list[tuple[int, str, recipients.Issue]]:
    merged = [(row, layout.column_name(i.field), i) for row, i in result.issues or []]
    all_issues = sorted(issues + merged, key=lambda t: t[0])
    report.rows_read += read
    report.inserted += result.inserted
    report.updated += result.updated
    report.unchanged += result.unchanged
    report.errors += sum(1 for _, _, i in all_issues if i.severity == "error")
    report.warnings += sum(1 for _, _, i in all_issues if i.severity == "warning")
    return all_issues


# -- the error file ----------------------------------------------------------------------

ISSUE_HEADER = ("baris", "kolom", "tingkat", "kode", "keterangan")
_SEVERITY = {"error": "kesalahan", "warning": "peringatan"}


def issues(db: sqlite_utils.Database, import_id: int, limit: int | None = None) -> Iterator[tuple]:
    """(row, column, severity, code, message) of an import, in row order."""
    sql = "SELECT row, column_name, severity, code, message FROM bansos_import_issues WHERE import_id = ? ORDER BY row, id"
    params: list[Any] = [import_id]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    yield from db.execute(sql, params)


def write_issues(out: io.TextIOBase, rows: Iterator[tuple]) -> int:
    """Write the error file (CSV, ';' as Indonesian Excel expects) to a text stream; returns its rows."""
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(ISSUE_HEADER)
    count = 0
    for row, column, severity, code, message in rows:
        writer.writerow((row, column, _SEVERITY.get(severity, severity), code, message))
        count += 1
    return count


def issues_csv_chunks(db: sqlite_utils.Database, import_id: int, rows_per_chunk: int = 1000) -> Iterator[str]:
    """The error file as text chunks, for streaming a download of any size."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(ISSUE_HEADER)
    for n, (row, column, severity, code, message) in enumerate(issues(db, import_id), start=1):
        writer.writerow((row, column, _SEVERITY.get(severity, severity), code, message))
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_issues_file(db: sqlite_utils.Database, import_id: int, target: Path) -> Path:
    """Write the error file of an import next to its final name, then rename (never half-written)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with open(partial, "w", encoding="utf-8-sig", newline="") as out:
        write_issues(out, issues(db, import_id))
    os.replace(partial, target)
    return target


def write_dry_issues(report: Report, target: Path) -> Path:
    """The error file of a dry run (its problems were never written to the database)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8-sig", newline="") as out:
        write_issues(out, ((r, c, i.severity, i.code, i.message) for r, c, i in report.dry_issues))
    return target
