"""Demo data, so that a newcomer sees a living system (`hibahbansos seed-demo`).

Demo accounts get random passwords, printed once and kept in DATA/demo-accounts.txt (0600).
"""

from __future__ import annotations

import os
import secrets

import sqlite_utils

from hibahbansos import current_paths, current_region, users
from hibahbansos import roles as R
from hibahbansos.errors import HibahBansosError


def _password() -> str:
    # Meets the strength rule: upper, lower and digits, 16+ characters.
    return "Demo-" + secrets.token_hex(4) + "-" + secrets.token_urlsafe(6).replace("-", "x").replace("_", "y") + "A9"


def demo_accounts(region) -> list[tuple[str, str, dict]]:
    """(username, full name, roles) of one demo account per role, reviewers for two OPD."""
    opd = [o["code"] for o in region.opd]
    accounts = [
        ("admin", "Administrator Demo", {R.ADMIN: None}),
        ("sekretariat", "Petugas Sekretariat Demo", {R.DESK: None}),
        ("pertimbangan", "Tim Pertimbangan Demo", {R.CONSIDERATION: None}),
        ("tapd", "Anggota TAPD Demo", {R.TAPD: None}),
        ("kdh", f"{region.head_title} (Demo)", {R.HEAD: None}),
        ("keuangan", "Petugas BPKAD Demo", {R.FINANCE: None}),
        ("inspektorat", "Auditor Inspektorat Demo", {R.INSPECTOR: None}),
        ("bansos", "Petugas Bansos Demo", {R.BANSOS_OFFICER: None}),
        ("pengesah", "Pengesah Bansos Demo", {R.BANSOS_APPROVER: None}),
        ("pemohon", "Pemohon Demo", {R.APPLICANT: None}),
    ]
    # Reviewers for the first two OPD and for every OPD that evaluates a hibah programme, so
    # that every demo proposal has someone to evaluate it.
    reviewed = dict.fromkeys(opd[:2] + [c for p in region.hibah_programmes for c in p["opd"]])
    for code in reviewed:
        accounts.append(
            (f"opd-{code.lower()}", f"Penilai {region.opd_by_code[code]['short']} Demo", {R.OPD_REVIEWER: code})
        )
    return accounts


def seed(db: sqlite_utils.Database, force: bool = False) -> list[str]:
    """Create the demo accounts (and, through feature areas, demo records); returns report lines."""
    region = current_region()
    existing = db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    if existing and not force:
        raise HibahBansosError("the database already has users; pass --force to add demo data anyway")
    lines = []
    credentials = []
    for username, full_name, roles in demo_accounts(region):
        if db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            continue
        password = _password()
        users.create_user(db, username, password, full_name, f"{username}@demo.invalid", roles)
        credentials.append(f"{username}\t{password}\t{', '.join(roles)}")
    for seeder in seeders():
        lines += seeder(db)
    path = current_paths().data / "demo-accounts.txt"
    if credentials:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write("\n".join(credentials) + "\n")
        lines.append(f"demo accounts ({len(credentials)}), passwords saved in {path}:")
        lines += ["  " + c.replace("\t", "  ") for c in credentials]
    return lines


def seeders() -> list:
    """Feature areas add their demo-data functions here: f(db) -> list of report lines."""
    from hibahbansos.hibah import demo as hibah_demo

    return [hibah_demo.seed]
