"""Demo recipients for `hibahbansos seed-demo`, and the synthetic people tests and benchmarks use.

Every NIK made here is structurally valid (district of the region, real birth date, +40 on
the day for women) but invented: serial numbers start at 9000, which together with the
birth date makes a collision with a real person's NIK very unlikely, and demo data is never
loaded on a production server (`seed-demo` refuses there).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from hibahbansos import current_paths, current_region
from hibahbansos.bansos import areas as areas_mod
from hibahbansos.bansos import importer

MALE = (
    "Asep",
    "Dedi",
    "Ujang",
    "Agus",
    "Budi",
    "Cecep",
    "Dadang",
    "Eko",
    "Hendra",
    "Iwan",
    "Joko",
    "Rizki",
    "Yusuf",
    "Ahmad",
    "Muhammad",
    "Slamet",
    "Wahyu",
    "Andi",
    "Bambang",
    "Dodi",
    "Engkos",
    "Komar",
    "Nana",
)
FEMALE = (
    "Siti",
    "Euis",
    "Nining",
    "Ai",
    "Dewi",
    "Sri",
    "Nur",
    "Rina",
    "Tati",
    "Yuyun",
    "Imas",
    "Lilis",
    "Ani",
    "Wati",
    "Neneng",
    "Cucu",
    "Enok",
    "Iis",
    "Popon",
    "Titin",
    "Yati",
    "Aminah",
    "Fatimah",
)
FAMILY = (
    "Hidayat",
    "Saputra",
    "Rahman",
    "Suryana",
    "Permana",
    "Kurniawan",
    "Setiawan",
    "Nurjanah",
    "Rohmat",
    "Sumarna",
    "Gunawan",
    "Hermawan",
    "Maulana",
    "Solihin",
    "Sopandi",
    "Mulyana",
    "Supriatna",
    "Aisyah",
    "Sulaeman",
    "Hasanah",
    "Firmansyah",
    "Fauzi",
    "Kusnadi",
    "Ramdani",
    "Wijaya",
    "Nugraha",
    "Purnama",
)
STREETS = ("Jl. Raya", "Jl. Mesjid", "Kp. Sukamaju", "Kp. Cibeureum", "Jl. Pasar", "Kp. Babakan", "Dusun Wetan")
HEADER = (
    "NIK",
    "NO_KK",
    "NAMA",
    "TGL_LAHIR",
    "JNS_KEL",
    "ALAMAT",
    "RT",
    "RW",
    "KODE_KECAMATAN",
    "KODE_DESA",
    "NO_HP",
    "HUB_KELUARGA",
    "DESIL",
)


def fake_nik(district_code: str, birth: dt.date, sex: str, serial: int) -> str:
    """A structurally valid NIK for a district (dotted code), birth date, sex and serial."""
    day = birth.day + (40 if sex == "P" else 0)
    return district_code.replace(".", "") + f"{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def fake_kk(district_code: str, serial: int) -> str:
    return district_code.replace(".", "") + f"{serial % 1_000_000:06d}{9000 + serial // 1_000_000:04d}"


def people(region_kode: str, count: int, seed: int = 7, today: dt.date | None = None) -> Iterator[dict]:
    """`count` synthetic people in families of one to five, spread over the region's villages."""
    rng = random.Random(seed)
    areas = areas_mod.for_region(region_kode)
    villages = sorted(areas.villages)
    today = today or dt.date.today()
    made, family_no = 0, 0
    serials: dict[str, int] = {}
    while made < count:
        family_no += 1
        village = rng.choice(villages)
        district = village.rsplit(".", 1)[0]
        kk = fake_kk(district, family_no)
        surname = rng.choice(FAMILY)
        street = f"{rng.choice(STREETS)} No. {rng.randint(1, 200)}"
        rt, rw = f"{rng.randint(1, 12):03d}", f"{rng.randint(1, 9):03d}"
        desil = rng.randint(1, 10)
        size = rng.choice((1, 2, 3, 3, 4, 4, 5))
        head_age = rng.randint(25, 85)
        for member in range(size):
            if made >= count:
                break
            if member == 0:
                sex, age, rel = rng.choice("LLLP"), head_age, "Kepala Keluarga"
            elif member == 1:
                sex, age, rel = "P", max(head_age - rng.randint(0, 8), 18), "Istri"
            else:
                sex, age, rel = rng.choice("LP"), rng.randint(0, max(head_age - 20, 1)), "Anak"
            birth = today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
            key = f"{district}{birth.isoformat()}{sex}"
            serials[key] = serials.get(key, 8999) + 1
            first = rng.choice(MALE if sex == "L" else FEMALE)
            yield {
                "NIK": fake_nik(district, birth, sex, serials[key]),
                "NO_KK": kk,
                "NAMA": f"{first} {surname}",
                "TGL_LAHIR": birth.strftime("%d-%m-%Y"),
                "JNS_KEL": sex,
                "ALAMAT": street,
                "RT": rt,
                "RW": rw,
                "KODE_KECAMATAN": district.replace(".", ""),
                "KODE_DESA": village.replace(".", ""),
                "NO_HP": f"08{rng.randint(11, 59)}{rng.randint(10_000_000, 99_999_999)}" if rng.random() < 0.6 else "",
                "HUB_KELUARGA": rel,
                "DESIL": str(desil),
            }
            made += 1


def write_csv(path: Path, rows: Iterator[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def tiny_png() -> bytes:
    """A valid 1x1 PNG (a stand-in for a hand-over photo in demo data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = zlib.compress(b"\x00\x1b\x5e\x20")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


def seed(db: sqlite_utils.Database) -> list[str]:
    """Demo registry (300 people, one planted duplicate), a group, and an approved cycle with receipts."""
    from hibahbansos.bansos import distributions, programmes, recipients

    region = current_region()
    if recipients.count(db):
        return ["bansos: registry already has people; demo recipients not added"]
    work = current_paths().data / "imports"
    work.mkdir(parents=True, exist_ok=True)
    rows = list(people(region.kode, 300, today=region.today()))
    twin = dict(rows[10])  # the same person registered again under another NIK: a likely duplicate
    twin["NIK"] = twin["NIK"][:-4] + "8999"
    honorific = "H. " if twin["JNS_KEL"] == "L" else "Hj. "  # Haji / Hajjah
    twin["NAMA"] = honorific + twin["NAMA"].replace("Muhammad", "Moh.") + ", S.Pd."
    rows.append(twin)
    path = write_csv(work / "demo-dtks.csv", iter(rows))
    report = importer.run(db, path, areas=areas_mod.for_region(region.kode), today=region.today(), work_dir=work)
    lines = [f"bansos: {report.inserted} demo recipients imported, {report.flags} likely duplicate(s) flagged"]

    officer = db.execute("SELECT id FROM users WHERE username = 'bansos'").fetchone()
    approver = db.execute("SELECT id FROM users WHERE username = 'pengesah'").fetchone()
    individual = [p for p in programmes.all_programmes(region) if "individual" in p.recipients]
    if officer and approver and individual:
        programme = individual[0]
        year = int(region.budget_year)
        fit = max(min(programme.ceiling // programme.amount_per_recipient, 12), 1)
        cycle_id = distributions.prepare(
            db,
            region,
            programme.code,
            distributions.Criteria(limit=fit),
            title=f"{programme.name} tahap 1 (demo)",
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 12, 31),
            user_id=officer[0],
            today=region.today(),
        )
        distributions.approve(db, region, cycle_id, approver[0])
        received_on = min(region.today(), dt.date(year, 12, 31))
        if received_on.year == year:
            for item in distributions.items(db, cycle_id)[:3]:
                distributions.record_receipt(
                    db,
                    cycle_id,
                    item["id"],
                    received_on=received_on,
                    amount=item["amount"] if programme.form == "money" else None,
                    goods=programme.goods,
                    evidence=io.BytesIO(tiny_png()),
                    evidence_name="serah-terima.png",
                    uploads_folder=current_paths().uploads,
                    max_bytes=region.uploads["max_mb"] * 1024 * 1024,
                    user_id=officer[0],
                    today=region.today(),
                )
        lines.append(f"bansos: demo cycle #{cycle_id} of {programme.code} prepared and approved ({fit} recipients)")
    return lines
