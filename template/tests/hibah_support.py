"""Fixtures of the hibah tests: staff of every role, applicants, organisations, proposals in any state.

Everything is made through the app's own functions (users.create_user, organisations.save,
proposals.perform), against this instance's region.yml: the first hibah programme, its first
OPD, and another OPD for the scoping checks. Identity numbers are generated valid for the
region's own district codes.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools

import pytest
from stdnum import luhn
from werkzeug.security import generate_password_hash

from hibahbansos import roles as R
from hibahbansos import uploads, users
from hibahbansos.db import transaction
from hibahbansos.hibah import organisations, proposals
from hibahbansos.hibah.demo import HAPPY
from hibahbansos.hibah.workflow import for_region

PASSWORD = "Sandi-Rahasia-123"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# The happy path through the default workflow, in order (the demo data walks it too).
STAFF = {
    "desk": {R.DESK: None},
    "consideration": {R.CONSIDERATION: None},
    "tapd": {R.TAPD: None},
    "head": {R.HEAD: None},
    "finance": {R.FINANCE: None},
    "inspector": {R.INSPECTOR: None},
    "admin": {R.ADMIN: None},
}
_serial = itertools.count(1)
_HASH = generate_password_hash(PASSWORD)


class World:
    """A small region population for tests; see the module docstring."""

    def __init__(self, app, conn):
        self.app, self.conn = app, conn
        self.region = app.extensions["hibahbansos.region"]
        self.wf = for_region(self.region)
        self.programme = self.region.hibah_programmes[0]
        self.opd = self.programme["opd"][0]
        self.other_opd = next(o["code"] for o in self.region.opd if o["code"] != self.opd)
        self.district = organisations.districts(self.region.kode)[0][0]
        self.users: dict[str, users.User] = {}
        with app.app_context():
            for name, roles in STAFF.items():
                self._user(name, roles)
            self._user("reviewer", {R.OPD_REVIEWER: self.opd})
            self._user("reviewer_other", {R.OPD_REVIEWER: self.other_opd})
            self._user("applicant", {R.APPLICANT: None})
            self._user("applicant2", {R.APPLICANT: None})
            self.pdf_id = uploads.store(
                conn, io.BytesIO(PDF), "berkas.pdf", app.extensions["hibahbansos.paths"].uploads, 10 * 1024 * 1024
            ).id

    def _user(self, name: str, roles: dict) -> None:
        # One scrypt hash shared by every test user: creating a dozen users per test stays cheap.
        with transaction(self.conn):
            uid = self.conn.execute(
                "INSERT INTO users (username, full_name, email, password_hash, is_active, created_at)"
                " VALUES (?, ?, ?, ?, 1, '2026-01-01T00:00:00+00:00')",
                [name, name.title(), f"{name}@contoh.invalid", _HASH],
            ).lastrowid
            users.set_roles(self.conn, uid, roles)
        self.users[name] = users.get_user(self.conn, uid)

    def nik(self) -> str:
        digits = self.district.replace(".", "")
        prefix = (digits + "0101")[:6]
        return f"{prefix}170845{next(_serial) % 10000:04d}"

    @staticmethod
    def npwp() -> str:
        head = f"{10 + next(_serial) % 89:02d}{next(_serial) % 1000000:06d}"
        return (head + luhn.calc_check_digit(head) + "428000").zfill(16)

    def organisation(self, owner: str = "applicant", legal_years: int = 10, **fields) -> organisations.Organisation:
        legal = self.region.today() - dt.timedelta(days=int(legal_years * 365.25) + 2)
        data = {
            "name": fields.pop("name", f"Masjid Al-Ikhlas {next(_serial)}"),
            "kind": "rumah_ibadah",
            "address": "Jl. Raya No. 1",
            "district_code": self.district,
            "legal_number": "12/2010",
            "legal_date": legal.isoformat(),
            "kemenkumham_number": "AHU-0001",
            "npwp": self.npwp(),
            "domiciled": True,
            "has_secretariat": True,
            "bank_code": "110",
            "bank_account": "0012345678",
            "bank_holder": "Masjid Al-Ikhlas",
            "phone": "+6281234567890",
            "email": None,
            **fields,
        }
        officers = {pos: {"name": f"Pengurus {pos}", "nik": self.nik()} for pos in organisations.POSITIONS}
        with self.app.app_context():
            org_id = organisations.save(self.conn, self.users[owner].id, data, officers, self.region.kode)
            for code in organisations.LEGAL_DOCUMENTS:
                organisations.attach_document(self.conn, org_id, code, self.pdf_id)
            return organisations.get(self.conn, org_id)

    def draft(
        self,
        owner: str = "applicant",
        org_id: int | None = None,
        amount: int = 50_000_000,
        programme: dict | None = None,
        opd: str | None = None,
        documents: bool = True,
    ) -> proposals.Proposal:
        programme = programme or self.programme
        user = self.users[owner]
        with self.app.app_context():
            if org_id is None:
                org_id = self.organisation(owner).id
            pid = proposals.create_draft(
                self.conn,
                self.region,
                user,
                org_id,
                {
                    "programme_code": programme["code"],
                    "opd_code": opd or programme["opd"][0],
                    "title": "Rehabilitasi masjid",
                    "purpose": "Mengganti atap yang bocor.",
                },
            )
            if amount:
                proposals.save_rab(
                    self.conn,
                    user,
                    pid,
                    [
                        {"description": "Genteng beton", "quantity": 1, "unit": "paket", "unit_price": amount},
                    ],
                )
            if documents:
                for doc in self.region.documents["hibah"]:
                    if doc["code"] not in organisations.LEGAL_DOCUMENTS:
                        proposals.attach_document(self.conn, self.region, user, pid, doc["code"], self.pdf_id)
            return proposals.get(self.conn, pid)

    def actor(self, action: str, p: proposals.Proposal, owner: str = "applicant") -> users.User:
        t = self.wf.get(action)
        if t.owner:
            return next(u for u in self.users.values() if u.id == p.applicant_id)
        for user in self.users.values():
            if proposals.refusal(user, p, t) is None:
                return user
        raise AssertionError(f"no test user may take {action}")

    def data_for(self, action: str, p: proposals.Proposal) -> dict:
        today = self.region.today().isoformat()
        return {
            "recommend": {"amount": p.requested_amount},
            "tapd_agree": {"amount": p.recommended_amount},
            "approve": {"decree_number": "900/Kep.123-BPKAD/2027", "decree_date": today, "amount": p.tapd_amount},
            "sign_nphd": {"signed_date": today, "file_id": self.pdf_id},
            "disburse": {
                "amount": (p.approved_amount or 0) - p.disbursed_amount,
                "sp2d_number": f"SP2D-{p.id}-{next(_serial)}",
                "sp2d_date": today,
            },
            "submit_lpj": {"accounted_amount": p.disbursed_amount, "summary": "Sesuai RAB.", "file_id": self.pdf_id},
        }.get(action, {"note": "Catatan uji."})

    def act(self, p: proposals.Proposal, action: str, user: users.User | None = None, **data) -> proposals.Proposal:
        with self.app.app_context():
            p = proposals.get(self.conn, p.id)
            payload = {**self.data_for(action, p), **data}
            return proposals.perform(self.conn, self.region, user or self.actor(action, p), p.id, action, payload)

    def advance(self, p: proposals.Proposal, target: str) -> proposals.Proposal:
        """Take the happy path until the proposal is in `target`."""
        plan = [a for a in HAPPY if self.wf.get(a) is not None]
        while p.state != target:
            action = next(
                (
                    a
                    for a in plan
                    if p.state in self.wf.get(a).sources and not (a == "disburse" and p.state == "disbursed")
                ),
                None,
            )
            assert action is not None, f"no way from {p.state} to {target}"
            p = self.act(p, action)
        return p

    def proposal(self, state: str, **kwargs) -> proposals.Proposal:
        p = self.draft(**kwargs)
        return self.advance(p, state) if state != "draft" else p


@pytest.fixture
def world(app, conn) -> World:
    return World(app, conn)
