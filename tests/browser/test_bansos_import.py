"""The bansos import preview in real headless Chromium: upload, checked preview, import, result.

Runs against a rendered, seeded instance served by gunicorn (the `served` fixture); the
officer logs in with the demo account seed-demo created. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect, sync_playwright

from conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, submit
from kit import wilayah

ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.slow


def _nik(district: str, born: dt.date, female: bool, serial: int) -> str:
    day = born.day + (40 if female else 0)
    return district.replace(".", "") + f"{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def _csv(instance: Path, path: Path) -> list[str]:
    """Four good rows and two bad ones for this region; returns the good NIKs."""
    kode = yaml.safe_load((instance / "region.yml").read_text())["kode"]
    district = wilayah.districts(kode)[0][0]
    born = dt.date(1961, 8, 17)
    good = [_nik(district, born, i % 2 == 1, 9100 + i) for i in range(4)]
    lines = ["NIK;NO_KK;NAMA;TGL_LAHIR;JNS_KEL;ALAMAT"]
    kk = district.replace(".", "") + "0000019100"
    for i, nik in enumerate(good):
        lines.append(f"{nik};{kk};Warga Uji {i};17-08-1961;{'P' if i % 2 else 'L'};Kp. Uji No. {i}")
    lines.append(f"{good[0][:15]};{kk};Baris Rusak;17-08-1961;L;Kp. Uji")  # NIK of 15 digits
    lines.append(
        f"{_nik(district, born, False, 9200)};{kk};Tanggal Salah;18-08-1961;L;Kp. Uji"
    )  # date contradicts the NIK
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return good


def _password(data: Path, username: str) -> str:
    for line in (data / "demo-accounts.txt").read_text().splitlines():
        name, password, _ = line.split("\t")
        if name == username:
            return password
    raise AssertionError(f"no demo account {username}")


def test_import_preview_in_chromium(served, tmp_path):
    server = served("tasikmalaya", seed=True)
    upload = tmp_path / "dtks-uji.csv"
    good = _csv(server.instance, upload)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url + "/masuk")
            page.fill("#username", "bansos")
            page.fill("#password", _password(server.data, "bansos"))
            submit(page, "form.form button[type=submit]")
            page.goto(server.url + "/bansos/impor")
            page.set_input_files("#file", str(upload))
            submit(page, "#import-form button[type=submit]")

            expect(page.locator("h1")).to_have_text("Pratinjau impor: dtks-uji.csv")
            rows = page.locator("table.preview tbody tr")
            expect(rows).to_have_count(6)
            expect(page.locator("tr[data-row='2'] .badge")).to_have_text("siap")
            expect(page.locator("tr[data-row='6'] .badge")).to_have_text("ditolak")
            expect(page.locator("tr[data-row='6'] ul.issues")).to_have_text("NIK: NIK harus 16 digit angka")
            expect(page.locator("tr[data-row='7'] ul.issues")).to_have_text(
                "TGL_LAHIR: tanggal lahir tidak sama dengan yang tercantum pada NIK"
            )
            body = page.inner_text("main")
            for nik in good:
                assert nik not in body
            assert good[0][:6] + "******" + good[0][-4:] in body
            page.screenshot(path=str(ARTIFACTS / "bansos-import-preview.png"), full_page=True)

            submit(page, "#confirm-import")
            # The status page refreshes itself every 2 s until the background import is done.
            expect(page.locator("#import-state")).to_have_attribute("data-state", "done", timeout=60_000)
            expect(page.locator("#import-state")).to_have_text("selesai")
            expect(page.locator("#inserted")).to_have_text("4")
            expect(page.locator("#errors")).to_have_text("2")
            expect(page.locator("table.issues-table tbody tr")).to_have_count(2)
            page.screenshot(path=str(ARTIFACTS / "bansos-import-done.png"), full_page=True)
        finally:
            browser.close()
