"""Uploaded files: PDF, JPEG and PNG only, checked by their content, stored outside the web root.

A file is streamed to disk while its SHA-256 is computed and its size checked, then renamed to a
random name (`ab/cd/<token>.<ext>` under DATA/uploads). The original file name is kept only as
metadata. Serving a file is always a view's decision: the view checks who may see it, records
the download in the audit chain and calls `path_of()`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlite_utils

from hibahbansos.db import transaction
from hibahbansos.errors import HibahBansosError

# Magic numbers: the first bytes decide the type, never the name or the browser's claim.
_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
CHUNK = 64 * 1024


class UploadRejected(HibahBansosError):
    """The file is of a type we do not accept, empty, or too large."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: int
    token: str
    relpath: str
    sha256: str
    size: int
    media_type: str
    original_name: str


def sniff(head: bytes) -> tuple[str, str] | None:
    """(media type, extension) from the first bytes of a file, or None if not accepted."""
    for magic, media_type, ext in _SIGNATURES:
        if head.startswith(magic):
            return media_type, ext
    return None


def _safe_name(name: str | None) -> str:
    base = os.path.basename((name or "").replace("\\", "/"))
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    return base[:120] or "berkas"


def store(
    db: sqlite_utils.Database,
    stream: BinaryIO,
    original_name: str | None,
    folder: Path,
    max_bytes: int,
    uploaded_by: int | None = None,
) -> StoredFile:
    """Save an upload and record it in `files`; raises UploadRejected (nothing is kept then)."""
    token = secrets.token_urlsafe(24)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{token}.partial"
    digest = hashlib.sha256()
    size = 0
    detected = None
    try:
        with open(partial, "xb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                if size == 0:
                    detected = sniff(chunk[:16])
                    if detected is None:
                        raise UploadRejected("hanya berkas PDF, JPEG atau PNG yang diterima")
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRejected(f"berkas lebih besar dari {max_bytes // (1024 * 1024)} MB")
                digest.update(chunk)
                out.write(chunk)
        if size == 0 or detected is None:
            raise UploadRejected("berkas kosong")
        media_type, ext = detected
        relpath = f"{token[:2]}/{token[2:4]}/{token}{ext}"
        final = folder / relpath
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(partial, 0o640)
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    meta = {
        "token": token,
        "relpath": relpath,
        "sha256": digest.hexdigest(),
        "size": size,
        "media_type": media_type,
        "original_name": _safe_name(original_name),
        "uploaded_by": uploaded_by,
        "uploaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    try:
        with transaction(db):
            cur = db.execute(
                "INSERT INTO files (token, relpath, sha256, size, media_type, original_name, uploaded_by, uploaded_at)"
                " VALUES (:token, :relpath, :sha256, :size, :media_type, :original_name, :uploaded_by, :uploaded_at)",
                meta,
            )
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    return StoredFile(cur.lastrowid, token, relpath, meta["sha256"], size, media_type, meta["original_name"])


def get(db: sqlite_utils.Database, file_id: int) -> StoredFile | None:
    row = db.execute(
        "SELECT id, token, relpath, sha256, size, media_type, original_name FROM files WHERE id = ?", [file_id]
    ).fetchone()
    return StoredFile(*row) if row else None


def path_of(folder: Path, stored: StoredFile) -> Path:
    """Absolute path of a stored file; raises UploadRejected if it escapes the folder or is gone."""
    path = (folder / stored.relpath).resolve()
    if folder.resolve() not in path.parents or not path.is_file():
        raise UploadRejected("berkas tidak ditemukan")
    return path


def verify_checksum(folder: Path, stored: StoredFile) -> bool:
    """True when the file on disk still has the SHA-256 recorded at upload."""
    digest = hashlib.sha256()
    with open(path_of(folder, stored), "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest() == stored.sha256
