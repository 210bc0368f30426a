"""Hibah proposals: drafts, RAB lines, documents, who may see them, and every state change.

`perform()` is the only way a proposal changes state. Inside one BEGIN IMMEDIATE transaction it
re-reads the proposal, checks the step exists from its state, the user's role and OPD scope
(fail closed: a reviewer acts only on proposals routed to their own OPD), the input, and the
rules the workflow names; then it writes the amount trail, the state history, the audit chain
and the applicant's notification. Nothing of it is written when any check refuses.

The RAB (Rencana Anggaran Biaya, budget breakdown) is versioned: every save adds a version,
old lines stay. The requested amount is the sum of the applicant's latest lines.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, fields
from typing import Any

import sqlite_utils
from flask_babel import force_locale
from flask_babel import gettext as _

from hibahbansos import audit
from hibahbansos import roles as R
from hibahbansos.db import transaction
from hibahbansos.errors import InvalidInput, NotAllowed
from hibahbansos.hibah import amounts, organisations, outbox, rules
from hibahbansos.hibah.workflow import STATES, Transition, Workflow, for_region

# Crockford's base32 without I, L, O, U: easy to read aloud and type, hard to guess
# (10 symbols = 50 bits per tracking number).
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_RAB_LINES = 60
# Roles that see every proposal (read); reviewers see their OPD's; applicants their own.
SEE_ALL = frozenset({R.DESK, R.CONSIDERATION, R.TAPD, R.HEAD, R.FINANCE, R.INSPECTOR})


@dataclass
class Proposal:
    id: int
    tracking_no: str | None
    organisation_id: int
    applicant_id: int
    budget_year: int
    programme_code: str
    opd_code: str
    title: str
    purpose: str
    state: str
    is_recipient: int
    requested_amount: int
    recommended_amount: int | None
    tapd_amount: int | None
    approved_amount: int | None
    disbursed_amount: int
    accounted_amount: int | None
    rab_version: int
    decree_number: str | None
    decree_date: str | None
    nphd_number: str | None
    nphd_token: str | None
    nphd_signed_date: str | None
    lpj_due_date: str | None
    created_at: str
    submitted_at: str | None
    state_changed_at: str

    @property
    def state_label(self) -> Any:
        return STATES[self.state].label

    def lpj_overdue(self, today: dt.date) -> bool:
        return self.state == "disbursed" and bool(self.lpj_due_date) and self.lpj_due_date < today.isoformat()


_COLUMNS = ", ".join(f.name for f in fields(Proposal))


def new_tracking_number(prefix: str, year: int) -> str:
    """HB-2027-7K3MQ-9XD2A: a prefix, the year and 50 random bits."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{prefix}-{year}-{body[:5]}-{body[5:]}"


def normalise_tracking_number(value: str) -> str:
    """Accept lower case, spaces and look-alike letters (O for 0, I/L for 1) as typed by people."""
    text = "".join(str(value or "").upper().split())
    return text.replace("O", "0").replace("I", "1").replace("L", "1").replace("U", "V")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def get(db: sqlite_utils.Database, proposal_id: int) -> Proposal | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM proposals WHERE id = ?", [proposal_id]).fetchone()
    return Proposal(*row) if row else None


def by_tracking_number(db: sqlite_utils.Database, tracking_no: str) -> Proposal | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM proposals WHERE tracking_no = ?", [tracking_no]).fetchone()
    return Proposal(*row) if row else None


def by_nphd_token(db: sqlite_utils.Database, token: str) -> Proposal | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM proposals WHERE nphd_token = ?", [token]).fetchone()
    return Proposal(*row) if row else None


# --- who may see and do what -------------------------------------------------------------


def can_view(user, p: Proposal) -> bool:
    """Read access: owner, roles that see all, or a reviewer of the proposal's OPD (fail closed)."""
    if user is None:
        return False
    if p.applicant_id == user.id and user.has(R.APPLICANT):
        return True
    if user.has(*SEE_ALL):
        return True
    opd = user.roles.get(R.OPD_REVIEWER)
    return bool(opd) and opd == p.opd_code


def scope_sql(user, alias: str = "p") -> tuple[str, list]:
    """A WHERE clause limiting proposals to those `user` may see (same logic as can_view)."""
    if user is None:
        return "0", []
    if user.has(*SEE_ALL):
        return "1", []
    parts, params = [], []
    opd = user.roles.get(R.OPD_REVIEWER)
    if opd:
        parts.append(f"{alias}.opd_code = ?")
        params.append(opd)
    if user.has(R.APPLICANT):
        parts.append(f"{alias}.applicant_id = ?")
        params.append(user.id)
    return ("(" + " OR ".join(parts) + ")") if parts else "0", params


def refusal(user, p: Proposal, t: Transition) -> str | None:
    """Why `user` may not take step `t` on `p` (role or OPD scope), or None when allowed."""
    if user is None:
        return _("Silakan masuk terlebih dahulu.")
    if t.owner:
        if user.has(R.APPLICANT) and p.applicant_id == user.id:
            return None
        return _("Hanya pemohon pemilik proposal yang dapat melakukan langkah ini.")
    held = [r for r in t.roles if r in user.roles]
    if not held:
        names = ", ".join(str(R.ROLES[r].label) for r in t.roles if r in R.ROLES)
        return _("Langkah ini hanya untuk peran: %(roles)s.", roles=names)
    for role in held:
        if not R.ROLES[role].needs_opd:
            return None
        if user.roles[role] and user.roles[role] == p.opd_code:
            return None
    return _("Proposal ini ditujukan ke OPD lain; Anda hanya menilai proposal OPD Anda sendiri.")


def available(user, p: Proposal, wf: Workflow) -> list[Transition]:
    """The steps `user` may take now on `p` (rules are checked when taken)."""
    return [t for t in wf.from_state(p.state) if refusal(user, p, t) is None]


# --- drafts, RAB, documents ----------------------------------------------------------------


def _programme(region, code: str) -> dict:
    programme = next((p for p in region.hibah_programmes if p["code"] == code), None)
    if programme is None:
        raise InvalidInput("programme_code", _("Pilih program dari daftar."))
    return programme


def _check_draft_fields(region, data: dict[str, Any]) -> None:
    programme = _programme(region, data["programme_code"])
    if data["opd_code"] not in programme["opd"]:
        raise InvalidInput("opd_code", _("OPD tujuan harus salah satu OPD penilai program ini."))
    if not (data.get("title") or "").strip():
        raise InvalidInput("title", _("Judul kegiatan wajib diisi."))
    if not (data.get("purpose") or "").strip():
        raise InvalidInput("purpose", _("Tujuan penggunaan wajib diisi."))


def create_draft(db: sqlite_utils.Database, region, user, organisation_id: int, data: dict[str, Any]) -> int:
    """A new draft for one of the user's organisations; raises InvalidInput or NotAllowed."""
    org = organisations.get(db, organisation_id)
    if org is None or org.owner_id != user.id:
        raise NotAllowed(_("Lembaga ini bukan milik akun Anda."))
    _check_draft_fields(region, data)
    now = _now()
    with transaction(db):
        cur = db.execute(
            "INSERT INTO proposals (organisation_id, applicant_id, budget_year, programme_code, opd_code, title,"
            " purpose, state, created_at, state_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?)",
            [
                organisation_id,
                user.id,
                region.budget_year,
                data["programme_code"],
                data["opd_code"],
                data["title"].strip(),
                data["purpose"].strip(),
                now,
                now,
            ],
        )
        audit.record(db, "hibah.proposal.create", subject_type="proposal", subject_id=cur.lastrowid)
    return cur.lastrowid


def _editable(user, p: Proposal) -> None:
    if p.applicant_id != user.id:
        raise NotAllowed(_("Hanya pemohon pemilik proposal yang dapat mengubahnya."))
    if p.state not in ("draft", "revision"):
        raise NotAllowed(_("Proposal hanya dapat diubah saat berstatus konsep atau perlu perbaikan."))


def update_draft(db: sqlite_utils.Database, region, user, proposal_id: int, data: dict[str, Any]) -> None:
    """Change a draft's programme, OPD, title or purpose; raises InvalidInput or NotAllowed."""
    _check_draft_fields(region, data)
    with transaction(db):
        p = get(db, proposal_id)
        if p is None:
            raise NotAllowed(_("Proposal tidak ditemukan."))
        _editable(user, p)
        db.execute(
            "UPDATE proposals SET programme_code = ?, opd_code = ?, title = ?, purpose = ? WHERE id = ?",
            [data["programme_code"], data["opd_code"], data["title"].strip(), data["purpose"].strip(), p.id],
        )
        audit.record(db, "hibah.proposal.update", subject_type="proposal", subject_id=p.id)


def clean_rab(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop empty rows, check the others; raises InvalidInput naming the row (`rab-<n>-<field>`)."""
    out = []
    for i, line in enumerate(lines):
        desc = (line.get("description") or "").strip()
        unit = (line.get("unit") or "").strip()
        qty, price = line.get("quantity"), line.get("unit_price")
        if not desc and not unit and qty in (None, "", 0) and price in (None, "", 0):
            continue
        if not desc:
            raise InvalidInput(f"rab-{i}-description", _("Baris %(n)d: uraian wajib diisi.", n=i + 1))
        if not unit:
            raise InvalidInput(f"rab-{i}-unit", _("Baris %(n)d: satuan wajib diisi.", n=i + 1))
        try:
            qty_i = int(str(qty).replace(".", "").strip())
            price_i = int(str(price).replace(".", "").replace("Rp", "").strip())
        except ValueError:
            raise InvalidInput(
                f"rab-{i}-quantity", _("Baris %(n)d: volume dan harga satuan berupa angka.", n=i + 1)
            ) from None
        if qty_i < 1 or price_i < 1:
            raise InvalidInput(
                f"rab-{i}-quantity", _("Baris %(n)d: volume dan harga satuan harus lebih dari nol.", n=i + 1)
            )
        if qty_i * price_i > 10**13:
            raise InvalidInput(f"rab-{i}-unit_price", _("Baris %(n)d: jumlah terlalu besar.", n=i + 1))
        out.append(
            {
                "description": desc[:300],
                "quantity": qty_i,
                "unit": unit[:30],
                "unit_price": price_i,
                "total": qty_i * price_i,
            }
        )
    if len(out) > MAX_RAB_LINES:
        raise InvalidInput("rab", _("RAB paling banyak %(n)d baris.", n=MAX_RAB_LINES))
    return out


def _write_rab(
    db: sqlite_utils.Database, p: Proposal, lines: list[dict[str, Any]], author_id: int | None, at: str
) -> int:
    version = (db.execute("SELECT MAX(version) FROM rab_lines WHERE proposal_id = ?", [p.id]).fetchone()[0] or 0) + 1
    for n, line in enumerate(lines, start=1):
        db.execute(
            "INSERT INTO rab_lines (proposal_id, version, line_no, description, quantity, unit, unit_price, total,"
            " author_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                p.id,
                version,
                n,
                line["description"],
                line["quantity"],
                line["unit"],
                line["unit_price"],
                line["total"],
                author_id,
                at,
            ],
        )
    db.execute("UPDATE proposals SET rab_version = ? WHERE id = ?", [version, p.id])
    return version


def save_rab(
    db: sqlite_utils.Database, user, proposal_id: int, lines: list[dict[str, Any]], at: str | None = None
) -> int:
    """Store the applicant's RAB as a new version; the requested amount becomes its sum.

    Returns the requested amount. Raises InvalidInput or NotAllowed.
    """
    clean = clean_rab(lines)
    at = at or _now()
    with transaction(db):
        p = get(db, proposal_id)
        if p is None:
            raise NotAllowed(_("Proposal tidak ditemukan."))
        _editable(user, p)
        version = _write_rab(db, p, clean, user.id, at)
        total = sum(line["total"] for line in clean)
        if total != p.requested_amount:
            amounts.add(db, p.id, "requested", total, _("RAB versi %(v)d", v=version), user.id, user.username, at=at)
        audit.record(
            db,
            "hibah.proposal.rab",
            subject_type="proposal",
            subject_id=p.id,
            detail={"version": version, "lines": len(clean), "total": total},
        )
    return total


def rab(db: sqlite_utils.Database, proposal_id: int, version: int | None = None) -> list[dict[str, Any]]:
    """The RAB lines of a version (default: the latest)."""
    if version is None:
        version = db.execute("SELECT MAX(version) FROM rab_lines WHERE proposal_id = ?", [proposal_id]).fetchone()[0]
    cols = ("line_no", "description", "quantity", "unit", "unit_price", "total", "author_id", "created_at")
    return [
        dict(zip(cols, r))
        for r in db.execute(
            f"SELECT {', '.join(cols)} FROM rab_lines WHERE proposal_id = ? AND version = ? ORDER BY line_no",
            [proposal_id, version],
        )
    ]


def rab_versions(db: sqlite_utils.Database, proposal_id: int) -> list[dict[str, Any]]:
    """Each RAB version with its author, time and total, oldest first."""
    rows = db.execute(
        "SELECT r.version, MIN(r.created_at), SUM(r.total), COALESCE(u.username, '-') FROM rab_lines r"
        " LEFT JOIN users u ON u.id = r.author_id WHERE r.proposal_id = ? GROUP BY r.version ORDER BY r.version",
        [proposal_id],
    )
    return [{"version": v, "at": at, "total": total, "author": who} for v, at, total, who in rows]


def documents(db: sqlite_utils.Database, proposal_id: int) -> dict[str, dict]:
    """The latest file per document code: code -> {file_id, name, uploaded_at, sha256, size}."""
    out: dict[str, dict] = {}
    for code, file_id, at, name, sha, size in db.execute(
        "SELECT d.doc_code, d.file_id, d.uploaded_at, f.original_name, f.sha256, f.size FROM proposal_documents d"
        " JOIN files f ON f.id = d.file_id WHERE d.proposal_id = ? ORDER BY d.id",
        [proposal_id],
    ):
        out[code] = {"file_id": file_id, "uploaded_at": at, "name": name, "sha256": sha, "size": size}
    return out


def checklist(db: sqlite_utils.Database, region, p: Proposal) -> list[dict[str, Any]]:
    """The region's document checklist with, per item, the file that satisfies it (if any)."""
    own = documents(db, p.id)
    org_docs = organisations.documents(db, p.organisation_id)
    items = []
    for doc in region.documents["hibah"]:
        found = own.get(doc["code"])
        source = "proposal" if found else None
        if found is None and doc["code"] in org_docs:
            found, source = org_docs[doc["code"]], "organisation"
        items.append({**doc, "file": found, "source": source})
    return items


def missing_documents(db: sqlite_utils.Database, region, p: Proposal) -> list[dict[str, Any]]:
    return [item for item in checklist(db, region, p) if item["required"] and item["file"] is None]


def attach_document(db: sqlite_utils.Database, region, user, proposal_id: int, doc_code: str, file_id: int) -> None:
    """Record an uploaded checklist document; raises InvalidInput or NotAllowed."""
    codes = {d["code"] for d in region.documents["hibah"]}
    if doc_code not in codes:
        raise InvalidInput("doc_code", _("Jenis dokumen tidak ada dalam daftar periksa."))
    with transaction(db):
        p = get(db, proposal_id)
        if p is None:
            raise NotAllowed(_("Proposal tidak ditemukan."))
        _editable(user, p)
        db.execute(
            "INSERT INTO proposal_documents (proposal_id, doc_code, file_id, uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?)",
            [p.id, doc_code, file_id, user.id, _now()],
        )
        audit.record(
            db,
            "hibah.proposal.document",
            subject_type="proposal",
            subject_id=p.id,
            detail={"doc_code": doc_code, "file_id": file_id},
        )


def _rows(db: sqlite_utils.Database, table: str, cols: tuple[str, ...], proposal_id: int, order: str) -> list[dict]:
    sql = f"SELECT {', '.join(cols)} FROM {table} WHERE proposal_id = ? ORDER BY {order}"
    return [dict(zip(cols, r)) for r in db.execute(sql, [proposal_id])]


def history(db: sqlite_utils.Database, proposal_id: int) -> list[dict[str, Any]]:
    return _rows(db, "transitions", ("action", "from_state", "to_state", "note", "actor", "at"), proposal_id, "id")


def disbursements(db: sqlite_utils.Database, proposal_id: int) -> list[dict[str, Any]]:
    cols = ("tranche_no", "sp2d_number", "sp2d_date", "amount", "at")
    return _rows(db, "disbursements", cols, proposal_id, "tranche_no")


def lpj_reports(db: sqlite_utils.Database, proposal_id: int) -> list[dict[str, Any]]:
    cols = ("id", "accounted_amount", "summary", "file_id", "submitted_at")
    return _rows(db, "lpj_reports", cols, proposal_id, "id")


# --- state changes ---------------------------------------------------------------------------


def _amount(data: dict[str, Any], key: str = "amount") -> int:
    raw = data.get(key, "")
    try:
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        else:
            # Typed by people: "1.250.000" or "Rp1.250.000" (Indonesian thousands separators).
            value = int(str(raw).replace(".", "").replace("Rp", "").strip())
    except ValueError:
        raise InvalidInput(key, _("Isi jumlah dalam rupiah, angka saja.")) from None
    if value <= 0:
        raise InvalidInput(key, _("Jumlah harus lebih dari nol."))
    return value


def _date(data: dict[str, Any], key: str, today: dt.date) -> str:
    value = data.get(key)
    if isinstance(value, dt.date):
        d = value
    else:
        try:
            d = dt.date.fromisoformat(str(value or ""))
        except ValueError:
            raise InvalidInput(key, _("Isi tanggal yang benar.")) from None
    if d > today:
        raise InvalidInput(key, _("Tanggal tidak boleh di masa depan."))
    return d.isoformat()


def _text(data: dict[str, Any], key: str, max_len: int = 120) -> str:
    value = (data.get(key) or "").strip()
    if not value:
        raise InvalidInput(key, _("Wajib diisi."))
    return value[:max_len]


def perform(
    db: sqlite_utils.Database,
    region,
    user,
    proposal_id: int,
    action: str,
    data: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Proposal:
    """Take workflow step `action` on a proposal as `user`; returns the proposal afterwards.

    Raises NotAllowed (no such step from this state, wrong role, other OPD), InvalidInput (a
    form value), or RuleViolation naming the refusing rule. Nothing is written then.
    """
    data = dict(data or {})
    wf = for_region(region)
    now = now or dt.datetime.now(dt.UTC)
    at = now.isoformat(timespec="seconds")
    today = now.astimezone(region.tz).date()
    note = (data.get("note") or "").strip()[:2000]
    with transaction(db):
        p = get(db, proposal_id)
        if p is None:
            raise NotAllowed(_("Proposal tidak ditemukan."))
        t = wf.get(action)
        if t is None or p.state not in t.sources:
            raise NotAllowed(_('Langkah ini tidak tersedia untuk proposal berstatus "%(state)s".', state=p.state_label))
        why = refusal(user, p, t)
        if why:
            raise NotAllowed(why)
        if t.note_required and not note:
            raise InvalidInput("note", _("Tuliskan alasannya; pemohon akan membacanya."))
        org = organisations.get(db, p.organisation_id)
        ctx = rules.RuleContext(db, region, wf, p, org, today)
        changes: dict[str, Any] = {}
        detail: dict[str, Any] = {"action": action, "from": p.state, "to": t.target}

        if t.form == "recommend":
            lines = data.get("lines")
            if lines is not None:
                clean = clean_rab(lines)
                if not clean:
                    raise InvalidInput("rab", _("RAB hasil koreksi tidak boleh kosong."))
                if [(x["description"], x["quantity"], x["unit"], x["unit_price"]) for x in clean] != [
                    (x["description"], x["quantity"], x["unit"], x["unit_price"]) for x in rab(db, p.id)
                ]:
                    version = _write_rab(db, p, clean, user.id, at)
                    detail["rab_version"] = version
                amount = sum(x["total"] for x in clean)
            else:
                amount = _amount(data)
            if amount > p.requested_amount:
                raise InvalidInput("amount", _("Rekomendasi tidak boleh melebihi jumlah yang diusulkan."))
            rules.check(ctx, t.rules)
            amounts.add(db, p.id, "recommended", amount, note or _("Rekomendasi OPD"), user.id, user.username, at=at)
            detail["amount"] = amount
        elif t.form == "tapd":
            amount = _amount(data)
            if amount > (p.recommended_amount or p.requested_amount):
                raise InvalidInput("amount", _("Nilai TAPD tidak boleh melebihi rekomendasi OPD."))
            rules.check(ctx, t.rules)
            amounts.add(db, p.id, "tapd", amount, note or _("Pertimbangan TAPD"), user.id, user.username, at=at)
            detail["amount"] = amount
        elif t.form == "decree":
            amount = _amount(data) if data.get("amount") not in (None, "") else (p.tapd_amount or 0)
            if amount <= 0 or amount > (p.tapd_amount or 0):
                raise InvalidInput("amount", _("Nilai yang ditetapkan tidak boleh melebihi nilai TAPD."))
            number = _text(data, "decree_number")
            date = _date(data, "decree_date", today)
            ctx.amount = amount
            rules.check(ctx, t.rules)
            amounts.add(
                db,
                p.id,
                "approved",
                amount,
                note or _("Keputusan Kepala Daerah"),
                user.id,
                user.username,
                reference=number,
                at=at,
            )
            seq = (
                db.execute(
                    "SELECT COUNT(*) FROM proposals WHERE budget_year = ? AND nphd_number IS NOT NULL", [p.budget_year]
                ).fetchone()[0]
                + 1
            )
            changes.update(
                decree_number=number,
                decree_date=date,
                nphd_token=secrets.token_urlsafe(18),
                nphd_number=f"{seq:04d}/NPHD/{p.programme_code}/{p.budget_year}",
                lpj_due_date=region.lpj_due_date(p.budget_year).isoformat(),
            )
            detail.update(amount=amount, decree_number=number)
        elif t.form == "nphd":
            changes["nphd_signed_date"] = _date(data, "signed_date", today)
            if data.get("file_id"):
                db.execute(
                    "INSERT INTO proposal_documents (proposal_id, doc_code, file_id, uploaded_by, uploaded_at)"
                    " VALUES (?, 'nphd_signed', ?, ?, ?)",
                    [p.id, data["file_id"], user.id, at],
                )
            rules.check(ctx, t.rules)
        elif t.form == "tranche":
            amount = _amount(data)
            sp2d = _text(data, "sp2d_number", 60)
            sp2d_date = _date(data, "sp2d_date", today)
            if db.execute("SELECT 1 FROM disbursements WHERE sp2d_number = ?", [sp2d]).fetchone():
                raise InvalidInput("sp2d_number", _("Nomor SP2D ini sudah tercatat."))
            ctx.amount = amount
            rules.check(ctx, t.rules)
            tranche = db.execute("SELECT COUNT(*) FROM disbursements WHERE proposal_id = ?", [p.id]).fetchone()[0] + 1
            db.execute(
                "INSERT INTO disbursements (proposal_id, tranche_no, sp2d_number, sp2d_date, amount, actor_id, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [p.id, tranche, sp2d, sp2d_date, amount, user.id, at],
            )
            amounts.add(
                db,
                p.id,
                "disbursed",
                amount,
                _("Tahap %(n)d", n=tranche),
                user.id,
                user.username,
                reference=sp2d,
                at=at,
            )
            detail.update(amount=amount, tranche=tranche)
        elif t.form == "lpj":
            amount = _amount(data, "accounted_amount")
            if amount > p.disbursed_amount:
                raise InvalidInput(
                    "accounted_amount", _("Jumlah dalam LPJ tidak boleh melebihi jumlah yang dicairkan.")
                )
            summary = _text(data, "summary", 4000)
            if not data.get("file_id"):
                raise InvalidInput("file", _("Unggah berkas LPJ (PDF)."))
            rules.check(ctx, t.rules)
            db.execute(
                "INSERT INTO lpj_reports (proposal_id, accounted_amount, summary, file_id, submitted_by, submitted_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [p.id, amount, summary, data["file_id"], user.id, at],
            )
            amounts.add(db, p.id, "accounted", amount, _("LPJ"), user.id, user.username, at=at)
            detail["amount"] = amount
        else:
            rules.check(ctx, t.rules)

        if action in ("submit", "resubmit") and p.tracking_no is None:
            for _attempt in range(5):
                number = new_tracking_number("HB", p.budget_year)
                if not db.execute("SELECT 1 FROM proposals WHERE tracking_no = ?", [number]).fetchone():
                    break
            changes["tracking_no"] = number
        if action in ("submit", "resubmit"):
            changes["submitted_at"] = at
        changes.update(state=t.target, is_recipient=int(STATES[t.target].recipient), state_changed_at=at)
        sets = ", ".join(f"{k} = :{k}" for k in changes)
        db.execute(f"UPDATE proposals SET {sets} WHERE id = :id", {**changes, "id": p.id})
        db.execute(
            "INSERT INTO transitions (proposal_id, action, from_state, to_state, note, actor_id, actor, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [p.id, action, p.state, t.target, note or None, user.id, user.username, at],
        )
        audit.record(
            db,
            "hibah.transition",
            subject_type="proposal",
            subject_id=p.id,
            detail=detail,
            actor_id=user.id,
            actor=user.username,
        )
        after = get(db, p.id)
        _notify(db, region, after, t, note)
    return after


def _notify(db: sqlite_utils.Database, region, p: Proposal, t: Transition, note: str) -> None:
    row = db.execute("SELECT email FROM users WHERE id = ?", [p.applicant_id]).fetchone()
    if not row or not row[0]:
        return
    with force_locale(region.locale):
        subject = _("Proposal %(no)s: %(state)s", no=p.tracking_no or p.title[:40], state=STATES[p.state].label)
        body = _(
            'Proposal "%(title)s" kini berstatus: %(state)s.\n\nNomor pelacakan: %(no)s\n%(note)s\n\n%(office)s\n%(region)s',
            title=p.title,
            state=STATES[p.state].label,
            no=p.tracking_no or "-",
            note=(_("Catatan petugas: %(note)s", note=note) if note and not t.owner else ""),
            office=region.contact["office"],
            region=region.name,
        )
    outbox.queue(db, row[0], subject, body)


# --- lists -------------------------------------------------------------------------------------


def work_queue(db: sqlite_utils.Database, user, wf: Workflow, today: dt.date, limit: int = 200) -> list[dict[str, Any]]:
    """Proposals waiting for this user's roles, oldest first, with their age in days.

    A reviewer's queue holds only their own OPD's proposals (fail closed without an OPD).
    """
    items: list[dict[str, Any]] = []
    roles = set(user.roles)
    for state in wf.used_states:
        steps = [t for t in wf.from_state(state) if not t.owner and roles & set(t.roles)]
        if not steps:
            continue
        unscoped = any(not R.ROLES[r].needs_opd for t in steps for r in t.roles if r in roles)
        sql = (
            "SELECT p.id, p.tracking_no, p.title, p.state, p.state_changed_at, p.requested_amount, p.opd_code,"
            " p.programme_code, o.name FROM proposals p JOIN organisations o ON o.id = p.organisation_id"
            " WHERE p.state = ?"
        )
        params: list[Any] = [state]
        if [t.action for t in steps] == ["disburse"] and state == "disbursed":
            # A further tranche is work only while part of the grant is still unpaid.
            sql += " AND p.disbursed_amount < p.approved_amount"
        if not unscoped:
            opd = user.roles.get(R.OPD_REVIEWER)
            if not opd:
                continue
            sql += " AND p.opd_code = ?"
            params.append(opd)
        sql += " ORDER BY p.state_changed_at LIMIT ?"
        params.append(limit)
        for pid, no, title, st, changed, req, opd_code, prog, org_name in db.execute(sql, params):
            age = (today - dt.date.fromisoformat(changed[:10])).days
            level = "alert" if age >= wf.ageing_alert_days else "warn" if age >= wf.ageing_warn_days else ""
            items.append(
                {
                    "id": pid,
                    "tracking_no": no,
                    "title": title,
                    "state": st,
                    "state_label": STATES[st].label,
                    "changed": changed,
                    "age": age,
                    "level": level,
                    "requested": req,
                    "opd_code": opd_code,
                    "programme_code": prog,
                    "organisation": org_name,
                }
            )
    items.sort(key=lambda x: x["changed"])
    return items[:limit]


def search(
    db: sqlite_utils.Database,
    user,
    *,
    year: int | None = None,
    state: str | None = None,
    opd: str | None = None,
    programme: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    """Proposals visible to `user` with filters, newest first; returns (rows, total)."""
    where, params = scope_sql(user)
    clauses = [where]
    for column, value in (
        ("p.budget_year", year),
        ("p.state", state),
        ("p.opd_code", opd),
        ("p.programme_code", programme),
    ):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    sql_where = " AND ".join(clauses)
    total = db.execute(f"SELECT COUNT(*) FROM proposals p WHERE {sql_where}", params).fetchone()[0]
    rows = db.execute(
        "SELECT p.id, p.tracking_no, p.title, p.state, p.budget_year, p.opd_code, p.programme_code,"
        " p.requested_amount, p.approved_amount, o.name FROM proposals p JOIN organisations o ON o.id = p.organisation_id"
        f" WHERE {sql_where} ORDER BY p.id DESC LIMIT ? OFFSET ?",
        [*params, per_page, (max(page, 1) - 1) * per_page],
    ).fetchall()
    cols = (
        "id",
        "tracking_no",
        "title",
        "state",
        "budget_year",
        "opd_code",
        "programme_code",
        "requested",
        "approved",
        "organisation",
    )
    out = [dict(zip(cols, r)) for r in rows]
    for row in out:
        row["state_label"] = STATES[row["state"]].label
    return out, total
