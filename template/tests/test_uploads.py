"""Uploads are typed by content, size-limited, stored under random names with a checksum."""

from __future__ import annotations

import hashlib
import io

import pytest

from hibahbansos import uploads

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_pdf_is_stored_with_checksum_outside_any_static_folder(app, conn, tmp_path):
    folder = tmp_path / "up"
    stored = uploads.store(conn, io.BytesIO(PDF), "../../Proposal Masjid.pdf", folder, 1024)
    assert stored.media_type == "application/pdf"
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored.original_name == "Proposal Masjid.pdf"
    path = uploads.path_of(folder, stored)
    assert path.read_bytes() == PDF
    assert "Proposal" not in path.name and path.suffix == ".pdf"
    assert uploads.verify_checksum(folder, stored)
    assert uploads.get(conn, stored.id) == stored


@pytest.mark.parametrize(
    "content,name,message",
    [
        (b"MZ\x90\x00 not a pdf", "proposal.pdf", "hanya berkas PDF, JPEG atau PNG yang diterima"),
        (b"<html><script>", "foto.png", "hanya berkas PDF, JPEG atau PNG yang diterima"),
        (b"", "kosong.pdf", "berkas kosong"),
        (PNG * 40, "besar.png", "berkas lebih besar dari 0 MB"),
    ],
)
def test_rejected_uploads_leave_nothing(app, conn, tmp_path, content, name, message):
    folder = tmp_path / "up"
    with pytest.raises(uploads.UploadRejected) as exc:
        uploads.store(conn, io.BytesIO(content), name, folder, 1024)
    assert str(exc.value) == message
    assert [p for p in folder.rglob("*") if p.is_file()] == []
    assert conn.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 0


def test_changed_file_fails_its_checksum(app, conn, tmp_path):
    folder = tmp_path / "up"
    stored = uploads.store(conn, io.BytesIO(PNG), "foto.png", folder, 1024)
    uploads.path_of(folder, stored).write_bytes(PNG + b"x")
    assert not uploads.verify_checksum(folder, stored)
