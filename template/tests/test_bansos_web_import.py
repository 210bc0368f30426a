"""The import from the web: upload, preview of the first rows (checked, masked), then the real import
in a background process, its progress page and the downloadable error file."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from bansos_helpers import people, planted, read_issue_file, write_csv
from bs4 import BeautifulSoup
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

pytest_plugins = ["bansos_fixtures"]


def _upload(client, path, programme: str = ""):
    with open(path, "rb") as fh:
        return client.post(
            "/bansos/impor", data={"file": (fh, path.name), "programme": programme}, content_type="multipart/form-data"
        )


def test_preview_then_import_then_error_file(app, conn, region, client, login_as, tmp_path):
    rows, expected = planted(region)
    path = write_csv(tmp_path / "dtks.csv", rows)
    login_as("petugas")

    res = _upload(client, path)
    assert res.status_code == 302 and "/bansos/impor/pratinjau/" in res.headers["Location"]
    preview = BeautifulSoup(client.get(res.headers["Location"]).data, "html.parser")
    mapping = {
        tr.find_all("td")[0].get_text(strip=True): tr.find_all("td")[1].get_text(strip=True)
        for tr in preview.select("table.mapping tbody tr")
    }
    assert mapping["NIK"] == "nik" and mapping["NO_KK"] == "kk" and mapping["KODE_DESA"] == "village"
    table = {int(tr["data-row"]): tr for tr in preview.select("table.preview tbody tr")}
    assert sorted(table) == list(range(2, 15))
    assert table[2]["class"] == ["row-ok"]
    assert table[10]["class"] == ["row-warn"]
    assert "NIK sama dengan baris 2" in table[10].get_text(" ", strip=True)
    assert table[8]["class"] == ["row-warn"]
    assert table[3]["class"] == ["row-error"]
    assert "NIK: NIK harus 16 digit angka" == table[3].select_one("ul.issues").get_text(strip=True)
    assert "TGL_LAHIR: tanggal lahir tidak sama dengan yang tercantum pada NIK" == table[4].select_one(
        "ul.issues"
    ).get_text(strip=True)
    assert table[13]["class"] == ["row-ok"]
    assert (
        rows[11]["NIK"] not in table[13].get_text()
        and rows[11]["NIK"][:6] + "******" + rows[11]["NIK"][-4:] in table[13].get_text()
    )
    # Nothing is written by the preview.
    assert conn.execute("SELECT COUNT(*) FROM bansos_persons").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM bansos_imports").fetchone()[0] == 0

    started = client.post(res.headers["Location"])
    assert started.status_code == 302
    status_url = started.headers["Location"]
    import_id = int(status_url.rstrip("/").rsplit("/", 1)[1])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = conn.execute("SELECT status FROM bansos_imports WHERE id = ?", [import_id]).fetchone()[0]
        if state == "done":
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the background import did not finish in 60 s")

    page = BeautifulSoup(client.get(status_url).data, "html.parser")
    assert page.select_one("#import-state")["data-state"] == "done"
    assert page.select_one("#import-state").get_text(strip=True) == "selesai"
    counts = {
        k: page.select_one(f"#{k}").get_text(strip=True)
        for k in ("rows-read", "inserted", "updated", "errors", "warnings")
    }
    assert counts == {"rows-read": "13", "inserted": "5", "updated": "1", "errors": "8", "warnings": "3"}
    shown = [
        (int(tr.find_all("td")[0].get_text()), tr.find_all("td")[1].get_text())
        for tr in page.select("table.issues-table tbody tr")
    ]
    assert shown == [(r, c) for r, c, *_ in expected]

    download = client.get(f"/bansos/impor/{import_id}/masalah.csv")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == f'attachment; filename="impor-{import_id}-masalah.csv"'
    saved = tmp_path / "unduhan.csv"
    saved.write_bytes(download.data)
    assert read_issue_file(saved) == expected
    # The import ran as the officer who started it, and the chain says so.
    actors = conn.execute(
        "SELECT action, actor FROM audit_log WHERE subject_type = 'bansos_import' ORDER BY id"
    ).fetchall()
    assert actors == [("bansos.import.start", "petugas"), ("bansos.import.finish", "petugas")]
    stored, name = conn.execute("SELECT path, file_name FROM bansos_imports WHERE id = ?", [import_id]).fetchone()
    assert name == "dtks.csv"
    # The uploaded copy (personal data) is deleted once the import is done.
    deadline = time.monotonic() + 10
    while Path(stored).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(stored).exists()


def test_a_whole_kabupaten_extract_is_not_too_large_to_upload(app, client, login_as, tmp_path, region):
    limit = app.config["MAX_CONTENT_LENGTH"]
    rows = people(region, 20)
    path = write_csv(tmp_path / "besar.csv", rows)
    line = path.read_text(encoding="utf-8").splitlines()[1] + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line * (limit // len(line) + 1000))  # above the document upload limit
    assert path.stat().st_size > limit
    login_as("petugas")
    # The body is built in memory: the test client's own spooled copy of a large file is never closed.
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(path.read_bytes()), filename="besar.csv"), "programme": ""}
    )
    res = client.post("/bansos/impor", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert res.status_code == 302 and "/bansos/impor/pratinjau/" in res.headers["Location"]
    # Everywhere else the document limit still holds.
    other = client.post("/bansos/kelompok", data={"name": "x" * (limit + 10)})
    assert other.status_code == 413


def test_preview_refuses_a_file_without_usable_columns(client, login_as, tmp_path, region):
    path = tmp_path / "acak.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    login_as("petugas")
    res = _upload(client, path)
    page = client.get(res.headers["Location"], follow_redirects=True)
    text = BeautifulSoup(page.data, "html.parser").get_text(" ", strip=True)
    assert "kolom wajib tidak ditemukan di 10 baris pertama (nik, name)" in text


def test_only_the_officer_imports(client, login_as, tmp_path, region):
    login_as("pengesah")
    assert client.get("/bansos/impor").status_code == 403
    out = io.StringIO()
    csv.writer(out).writerow(["NIK", "NAMA"])
    res = client.post(
        "/bansos/impor",
        data={"file": (io.BytesIO(out.getvalue().encode()), "x.csv")},
        content_type="multipart/form-data",
    )
    assert res.status_code == 403
