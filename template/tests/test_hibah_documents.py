"""Documents out: the NPHD PDF (text extracted), DNC-PBH XLSX and CSV, open data; uploads checked by content."""

from __future__ import annotations

import csv
import io
import json
import re

import pypdfium2 as pdfium
import pytest
import zxingcpp
from openpyxl import load_workbook
from pypdf import PdfReader

from hibahbansos.hibah import nphd


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (1, "Satu Rupiah"),
        (11, "Sebelas Rupiah"),
        (100, "Seratus Rupiah"),
        (1_000, "Seribu Rupiah"),
        (1_500_000, "Satu Juta Lima Ratus Ribu Rupiah"),
        (25_750_000, "Dua Puluh Lima Juta Tujuh Ratus Lima Puluh Ribu Rupiah"),
        (111_111_000, "Seratus Sebelas Juta Seratus Sebelas Ribu Rupiah"),
        (1_001_000_000, "Satu Miliar Satu Juta Rupiah"),
        (12_000_000_000, "Dua Belas Miliar Rupiah"),
    ],
)
def test_terbilang(amount, words):
    assert nphd.terbilang(amount) == words


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_nphd_pdf_has_title_parties_decree_amount_in_words_and_due_date(world, client, login):
    p = world.proposal("approved", amount=25_750_000)
    login("applicant")
    res = client.get(f"/usulan/{p.id}/nphd.pdf")
    assert res.status_code == 200
    assert res.mimetype == "application/pdf"
    text = _text(res.data)
    org_name = world.conn.execute("SELECT name FROM organisations WHERE id = ?", [p.organisation_id]).fetchone()[0]
    assert "NASKAH PERJANJIAN HIBAH DAERAH" in text
    assert f"Nomor: {p.nphd_number}" in text
    assert world.region.head_of_region in text
    assert org_name in text
    assert f"Nomor {p.decree_number}" in text
    assert "Rp25.750.000 (Dua Puluh Lima Juta Tujuh Ratus Lima Puluh Ribu Rupiah)" in text
    assert nphd.tanggal_id(p.lpj_due_date) in text
    # The URL may wrap across lines in the PDF.
    assert f"https://{world.region.site['domain']}/verifikasi-nphd/{p.nphd_token}" in text.replace(" ", "")


def test_nphd_qr_code_scans_to_the_public_verification_page(world, client, login):
    """The printed QR code, rasterised and decoded as a phone would, opens this agreement's page."""
    p = world.proposal("nphd_signed", amount=25_750_000)
    login("applicant")
    pdf = pdfium.PdfDocument(client.get(f"/usulan/{p.id}/nphd.pdf").data)
    found = []
    for page in pdf:
        image = page.render(scale=3).to_pil()
        found += [c.text for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode]
    url = f"https://{world.region.site['domain']}/verifikasi-nphd/{p.nphd_token}"
    assert found == [url]
    page = client.get(url.split(world.region.site["domain"], 1)[1]).get_data(as_text=True)
    assert p.nphd_number in page and p.decree_number in page


def test_nphd_is_not_there_before_approval(world, client, login):
    p = world.proposal("tapd_agreed")
    login("desk")
    assert client.get(f"/usulan/{p.id}/nphd.pdf").status_code == 404


def test_public_verification_page_confirms_the_agreement(world, client):
    p = world.proposal("nphd_signed")
    page = client.get(f"/verifikasi-nphd/{p.nphd_token}").get_data(as_text=True)
    assert p.nphd_number in page and p.decree_number in page
    assert client.get("/verifikasi-nphd/palsu").status_code == 404


def test_dnc_pbh_xlsx_and_csv(world, client, login):
    evaluated = world.proposal("tapd_agreed", amount=40_000_000)
    waiting = world.proposal("opd_evaluation", amount=9_000_000)  # not evaluated yet: not in the recap
    login("desk")
    res = client.get(f"/rekap/dnc-pbh.xlsx?opd={world.opd}")
    assert res.status_code == 200
    ws = load_workbook(io.BytesIO(res.data), read_only=True).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == f"DAFTAR NOMINATIF CALON PENERIMA BELANJA HIBAH TAHUN ANGGARAN {world.region.budget_year}"
    header = rows[3]
    assert header[:9] == [
        "No",
        "Nama Lembaga",
        "Alamat",
        "Kecamatan",
        "Program",
        "Tujuan Penggunaan",
        "Usulan (Rp)",
        "Hasil Evaluasi OPD (Rp)",
        "Pertimbangan TAPD (Rp)",
    ]
    data = [r for r in rows[4:] if r[0] is not None]
    assert [(r[6], r[7], r[8], r[9]) for r in data] == [(40_000_000, 40_000_000, 40_000_000, evaluated.tracking_no)]
    assert rows[-1][5:9] == ["Jumlah", 40_000_000, 40_000_000, 40_000_000]
    assert waiting.tracking_no not in str(rows)
    res = client.get(f"/rekap/dnc-pbh.csv?opd={world.opd}")
    records = list(csv.DictReader(io.StringIO(res.data.decode("utf-8-sig"))))
    assert [(r["Nomor Pelacakan"], r["Usulan (Rp)"], r["Pertimbangan TAPD (Rp)"]) for r in records] == [
        (evaluated.tracking_no, "40000000", "40000000")
    ]
    audit = world.conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'hibah.recap.export'").fetchone()[0]
    assert audit == 2


def test_open_data_lists_recipients_without_personal_data(world, client):
    p = world.proposal("disbursed", amount=12_000_000)
    world.proposal("tapd")  # not a recipient
    niks = [n for (n,) in world.conn.execute("SELECT nik FROM organisation_officers")]
    year = world.region.budget_year
    res = client.get(f"/data-terbuka/penerima-{year}.csv")
    body = res.get_data(as_text=True)
    records = list(csv.DictReader(io.StringIO(body)))
    assert [(r["nomor"], r["ditetapkan"], r["dicairkan"]) for r in records] == [(p.tracking_no, "12000000", "12000000")]
    data = json.loads(client.get(f"/data-terbuka/penerima-{year}.json").data)
    assert data["count"] == 1 and data["records"][0]["nomor"] == p.tracking_no
    assert set(data["records"][0]) == set(data["fields"])
    for text in (body, json.dumps(data)):
        assert not any(nik in text for nik in niks)
        assert "+62" not in text
        assert "0012345678" not in text  # the bank account


def test_uploads_accept_pdf_jpeg_png_by_content_only(world, client, login):
    p = world.draft()
    login("applicant")
    code = world.region.documents["hibah"][0]["code"]
    fake = client.post(
        f"/proposal/{p.id}/dokumen",
        data={"doc_code": code, "file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "proposal.pdf")},
        content_type="multipart/form-data",
    )
    assert fake.status_code == 400
    assert "hanya berkas PDF, JPEG atau PNG yang diterima" in fake.get_data(as_text=True)
    png = client.post(
        f"/proposal/{p.id}/dokumen",
        data={"doc_code": code, "file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), "foto.png")},
        content_type="multipart/form-data",
    )
    assert png.status_code == 302
    stored = world.conn.execute(
        "SELECT f.media_type, f.relpath FROM proposal_documents d JOIN files f ON f.id = d.file_id"
        " WHERE d.proposal_id = ? AND d.doc_code = ? ORDER BY d.id DESC",
        [p.id, code],
    ).fetchone()
    assert stored[0] == "image/png"
    assert re.fullmatch(r"[\w-]{2}/[\w-]{2}/[\w-]{32}\.png", stored[1])
