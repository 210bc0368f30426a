"""Importing the recipient registry: planted errors, duplicates, re-import, XLSX, the CLI."""

from __future__ import annotations

import datetime as dt

from bansos_helpers import people, planted, read_issue_file, run_import, snapshot, write_csv
from openpyxl import Workbook

from hibahbansos.bansos import importer
from hibahbansos.cli import main

pytest_plugins = ["bansos_fixtures"]


def test_planted_errors_are_each_reported_with_row_column_and_reason(app, conn, region, tmp_path):
    rows, expected = planted(region)
    path = write_csv(tmp_path / "dtks.csv", rows)
    report = run_import(app, conn, path)

    assert read_issue_file(report.issues_file) == expected
    assert (report.rows_read, report.inserted, report.updated, report.unchanged) == (13, 5, 1, 0)
    assert (report.errors, report.warnings, report.error_rows) == (8, 3, 7)
    # The good rows are all in, the bad ones are not.
    stored = {nik for (nik,) in conn.execute("SELECT nik FROM bansos_persons")}
    assert stored == {rows[i]["NIK"] for i in (0, 6, 7, 9, 11)}
    # The later of two rows with one NIK wins (exact duplicates are merged).
    assert (
        conn.execute("SELECT address FROM bansos_persons WHERE nik = ?", [rows[0]["NIK"]]).fetchone()[0]
        == rows[8]["ALAMAT"]
    )
    # A NIK issued elsewhere is kept and marked; a bad phone number is dropped, the person kept.
    outside, district = conn.execute(
        "SELECT outside_region, district_code FROM bansos_persons WHERE nik = ?", [rows[6]["NIK"]]
    ).fetchone()
    assert (outside, district) == (1, None)
    assert conn.execute("SELECT phone FROM bansos_persons WHERE nik = ?", [rows[7]["NIK"]]).fetchone()[0] is None
    # The journal agrees with the report.
    journal = importer.get(conn, report.import_id)
    assert (journal["status"], journal["phase"], journal["inserted"], journal["errors"]) == ("done", "done", 5, 8)


def test_error_file_holds_no_personal_data(app, conn, region, tmp_path):
    rows, _ = planted(region)
    report = run_import(app, conn, write_csv(tmp_path / "dtks.csv", rows))
    text = report.issues_file.read_text(encoding="utf-8-sig")
    for row in rows:
        for column in ("NIK", "NO_KK", "NAMA", "ALAMAT", "NO_HP", "TGL_LAHIR"):
            value = row[column].strip()
            if len(value) >= 5:
                assert value not in text, f"{column} of a row leaked into the error file"


def test_reimporting_the_same_file_changes_nothing(app, conn, region, tmp_path):
    rows, _ = planted(region)
    path = write_csv(tmp_path / "dtks.csv", rows + people(region, 200, seed=9))
    first = run_import(app, conn, path)
    persons, flags = snapshot(conn, "bansos_persons"), snapshot(conn, "bansos_flags")

    second = run_import(app, conn, path)

    assert second.import_id != first.import_id
    assert (second.inserted, second.updated) == (0, 0)
    assert second.unchanged == first.inserted + first.updated
    assert snapshot(conn, "bansos_persons") == persons
    assert snapshot(conn, "bansos_flags") == flags
    assert read_issue_file(second.issues_file) == read_issue_file(first.issues_file)


def test_changed_rows_are_updated_by_nik(app, conn, region, tmp_path):
    rows = people(region, 30)
    run_import(app, conn, write_csv(tmp_path / "a.csv", rows))
    rows[4] = {**rows[4], "ALAMAT": "Jl. Baru No. 9", "DESIL": "2"}
    report = run_import(app, conn, write_csv(tmp_path / "b.csv", rows))
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 29)
    assert conn.execute("SELECT address, desil FROM bansos_persons WHERE nik = ?", [rows[4]["NIK"]]).fetchone() == (
        "Jl. Baru No. 9",
        2,
    )
    assert conn.execute("SELECT COUNT(*) FROM bansos_persons").fetchone()[0] == 30


def test_likely_duplicate_under_another_nik_is_flagged_not_merged(app, conn, region, tmp_path):
    rows, _ = planted(region)
    run_import(app, conn, write_csv(tmp_path / "dtks.csv", rows))
    flag = conn.execute(
        "SELECT a.nik, b.nik, f.reasons, f.status FROM bansos_flags f JOIN bansos_persons a ON a.id = f.person_a"
        " JOIN bansos_persons b ON b.id = f.person_b WHERE f.kind = 'likely_duplicate'"
    ).fetchall()
    assert flag == [
        (rows[0]["NIK"], rows[9]["NIK"], '["same_name","same_birth_date","same_village","same_kk"]', "open")
    ]


def test_dry_run_writes_nothing_and_reports_the_same_problems(app, conn, region, tmp_path):
    rows, expected = planted(region)
    report = run_import(app, conn, write_csv(tmp_path / "dtks.csv", rows), dry_run=True)
    assert report.import_id is None
    assert conn.execute("SELECT COUNT(*) FROM bansos_persons").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM bansos_imports").fetchone()[0] == 0
    assert [
        (r, c, {"error": "kesalahan", "warning": "peringatan"}[i.severity], i.code, i.message)
        for r, c, i in report.dry_issues
    ] == expected


def test_xlsx_with_a_title_row_dates_and_numbers(app, conn, region, tmp_path):
    rows = people(region, 25)
    book = Workbook()
    sheet = book.active
    sheet.append([f"Ekstrak DTKS {region.name}"])
    sheet.append(
        [
            "No",
            "NIK",
            "Nomor KK",
            "Nama Lengkap",
            "Tanggal Lahir",
            "Jenis Kelamin",
            "Alamat",
            "RT",
            "RW",
            "Kode Desa",
            "No HP",
            "SHDK",
            "Desil",
        ]
    )
    for n, p in enumerate(rows, start=1):
        born = dt.datetime.strptime(p["TGL_LAHIR"], "%d-%m-%Y")
        sheet.append(
            [
                n,
                p["NIK"],
                p["NO_KK"],
                p["NAMA"],
                born,
                "Laki-laki" if p["JNS_KEL"] == "L" else "Perempuan",
                p["ALAMAT"],
                int(p["RT"]),
                int(p["RW"]),
                int(p["KODE_DESA"]),
                p["NO_HP"],
                p["HUB_KELUARGA"],
                int(p["DESIL"]),
            ]
        )
    path = tmp_path / "dtks.xlsx"
    book.save(path)

    report = run_import(app, conn, path)

    assert (report.inserted, report.errors) == (25, 0), read_issue_file(report.issues_file)
    journal = importer.get(conn, report.import_id)
    assert journal["format"] == "xlsx"
    first = conn.execute(
        "SELECT village_code, district_code, rt, desil, sex FROM bansos_persons WHERE nik = ?", [rows[0]["NIK"]]
    ).fetchone()
    village = rows[0]["KODE_DESA"]
    assert first[0] == f"{village[:2]}.{village[2:4]}.{village[4:6]}.{village[6:]}"
    assert first[1] == first[0].rsplit(".", 1)[0]
    assert (first[2], first[3], first[4]) == (str(int(rows[0]["RT"])), int(rows[0]["DESIL"]), rows[0]["JNS_KEL"])


def test_semicolon_csv_with_district_and_village_names(app, conn, region, tmp_path):
    from hibahbansos.bansos.areas import for_region

    areas = for_region(region.kode)
    rows = people(region, 10)
    named = [
        {
            **p,
            "KODE_KECAMATAN": areas.district_name(
                f"{p['KODE_DESA'][:2]}.{p['KODE_DESA'][2:4]}.{p['KODE_DESA'][4:6]}"
            ).upper(),
            "KODE_DESA": areas.village_name(
                f"{p['KODE_DESA'][:2]}.{p['KODE_DESA'][2:4]}.{p['KODE_DESA'][4:6]}.{p['KODE_DESA'][6:]}"
            ),
        }
        for p in rows
    ]
    header = tuple(
        "KECAMATAN" if h == "KODE_KECAMATAN" else "DESA/KELURAHAN" if h == "KODE_DESA" else h for h in named[0]
    )
    data = [{header[i]: v for i, v in enumerate(p.values())} for p in named]
    report = run_import(app, conn, write_csv(tmp_path / "dinsos.csv", data, header=header, delimiter=";"))
    # Village names repeat in a region; the district column tells them apart.
    assert (report.inserted, report.errors) == (10, 0), read_issue_file(report.issues_file)


def test_file_without_the_required_columns_is_refused_whole(app, conn, region, tmp_path):
    path = tmp_path / "lain.csv"
    path.write_text("nomor,keterangan\n1,apa saja\n", encoding="utf-8")
    try:
        run_import(app, conn, path)
    except importer.BansosImportError as exc:
        assert "kolom wajib tidak ditemukan di 10 baris pertama (nik, name)" in str(exc)
    else:
        raise AssertionError("a file without NIK and name columns was accepted")
    assert conn.execute("SELECT COUNT(*) FROM bansos_imports").fetchone()[0] == 0


def test_old_excel_files_are_refused_with_the_fix(app, conn, region, tmp_path):
    path = tmp_path / "lama.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    try:
        run_import(app, conn, path)
    except importer.BansosImportError as exc:
        assert str(exc) == "berkas Excel lama (.xls) tidak didukung; simpan sebagai .xlsx atau .csv"
    else:
        raise AssertionError("an .xls file was accepted")


def test_cli_import_reports_counts_and_the_error_file(app, conn, region, tmp_path, cli_env):
    rows, expected = planted(region)
    path = write_csv(tmp_path / "dtks.csv", rows)
    result = cli_env.invoke(main, ["bansos", "import", str(path), "--errors", str(tmp_path / "masalah.csv")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "import #1: dtks.csv: 13 rows read"
    assert lines[1] == "  inserted 5, updated 1, unchanged 0"
    assert lines[2] == "  errors 8 in 7 rows (those rows skipped), warnings 3"
    assert lines[3] == "  likely duplicates newly flagged for review: 1"
    assert lines[4] == f"error file: {tmp_path / 'masalah.csv'}"
    assert read_issue_file(tmp_path / "masalah.csv") == expected
    for row in rows:
        assert row["NIK"] not in result.output
    audit = conn.execute("SELECT action, actor, subject_id FROM audit_log ORDER BY id").fetchall()
    assert audit == [("bansos.import.start", "cli", "1"), ("bansos.import.finish", "cli", "1")]


def test_cli_programme_option_marks_candidates(app, conn, region, tmp_path, cli_env):
    code = region.bansos_programmes[0]["code"]
    path = write_csv(tmp_path / "calon.csv", people(region, 15))
    result = cli_env.invoke(main, ["bansos", "import", str(path), "--programme", code])
    assert result.exit_code == 0, result.output
    assert conn.execute("SELECT COUNT(*) FROM bansos_candidates WHERE programme_code = ?", [code]).fetchone()[0] == 15
    bad = cli_env.invoke(main, ["bansos", "import", str(path), "--programme", "TIDAK-ADA"])
    assert bad.exit_code == 1
    assert "Error: programme TIDAK-ADA is not in region.yml; known codes:" in bad.output


def test_cli_dry_run(app, conn, region, tmp_path, cli_env):
    rows, expected = planted(region)
    path = write_csv(tmp_path / "dtks.csv", rows)
    result = cli_env.invoke(main, ["bansos", "import", str(path), "--dry-run", "--errors", str(tmp_path / "cek.csv")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "dry run (nothing written): dtks.csv: 13 rows read"
    assert read_issue_file(tmp_path / "cek.csv") == expected
    assert conn.execute("SELECT COUNT(*) FROM bansos_persons").fetchone()[0] == 0


def test_cli_missing_file(cli_env, app, tmp_path):
    result = cli_env.invoke(main, ["bansos", "import", str(tmp_path / "tidak-ada.csv")])
    assert result.exit_code == 1
    assert f"Error: {tmp_path / 'tidak-ada.csv'}: berkas tidak ada" in result.output
