"""The home page shows this region's identity, from region.yml, in Bahasa Indonesia."""

from __future__ import annotations

import yaml
from bs4 import BeautifulSoup
from conftest import HOME

REGION = yaml.safe_load((HOME / "region.yml").read_text())


def test_home_shows_region_name_head_title_and_colours(client):
    page = client.get("/")
    assert page.status_code == 200
    soup = BeautifulSoup(page.data, "html.parser")
    assert soup.html["lang"] == REGION["locale"]
    assert REGION["name"] in soup.select_one(".region-name").get_text()
    assert f"--primary: {REGION['branding']['primary_color']}" in soup.style.get_text()
    assert f"--secondary: {REGION['branding']['secondary_color']}" in soup.style.get_text()
    hero = soup.select_one(".hero").get_text(" ", strip=True)
    assert REGION["head_title"] in hero
    assert f"Tahun anggaran {REGION['budget_year']}" in hero or REGION["locale"] != "id"


def test_logo_is_served_from_branding(client):
    page = BeautifulSoup(client.get("/").data, "html.parser")
    src = page.select_one(".brand img")["src"]
    assert src == f"/branding/{REGION['branding']['logo']}"
    with client.get(src) as logo:
        assert logo.status_code == 200
        assert logo.data == (HOME / "branding" / REGION["branding"]["logo"]).read_bytes()


def test_every_programme_and_opd_is_listed_with_its_ceiling(client):
    text = BeautifulSoup(client.get("/").data, "html.parser").get_text(" ", strip=True)
    for prog in REGION["programmes"]["hibah"] + REGION["programmes"]["bansos"]:
        assert prog["name"] in text
        assert "Rp" + f"{prog['ceiling']:,}".replace(",", ".") in text
    for opd in REGION["opd"]:
        assert opd["name"] in text


def test_english_is_available(client, app):
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/bahasa/en", data={"next": "/"})
    text = BeautifulSoup(client.get("/").data, "html.parser").get_text(" ", strip=True)
    assert f"Budget year {REGION['budget_year']}" in text
    assert "Beranda" not in text


def test_unknown_page_is_404_in_indonesian(client):
    page = client.get("/tidak-ada")
    assert page.status_code == 404
    assert "Halaman tidak ditemukan" in page.get_data(as_text=True)
