"""The bansos pages: registry, import with preview, duplicates, programmes, cycles, public statistics.

Views parse the form, call the domain modules and render. Personal data never goes into a
URL (NIK searches are POSTed; people are addressed by row id) and every template masks
identifiers unless the page was produced by an audited reveal.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _

from hibahbansos import audit, current_paths, current_region, identifiers, uploads
from hibahbansos import roles as R
from hibahbansos.auth import roles_required
from hibahbansos.bansos import areas as areas_mod
from hibahbansos.bansos import distributions, documents, duplicates, importer, portal, privacy, programmes, recipients
from hibahbansos.db import connect, get_db
from hibahbansos.errors import HibahBansosError, RuleViolation

bp = Blueprint("bansos", __name__, url_prefix="/bansos")

STAFF = (R.BANSOS_OFFICER, R.BANSOS_APPROVER, R.INSPECTOR)
PAGE = 50


def _areas() -> areas_mod.Areas:
    return areas_mod.for_region(current_region().kode)


def _work_dir() -> Path:
    return current_paths().data / "imports"


@bp.app_context_processor
def _bansos_context() -> dict:
    labels = {
        "prepared": _("disiapkan"),
        "approved": _("disahkan"),
        "closed": _("ditutup"),
        "cancelled": _("dibatalkan"),
        "running": _("berjalan"),
        "done": _("selesai"),
        "failed": _("gagal"),
    }
    return {"bansos_areas": _areas, "can_reveal": privacy.can_reveal(g.get("user")), "status_label": labels}


# -- registry ---------------------------------------------------------------------------


@bp.route("/")
@roles_required(*STAFF)
def registry():
    db = get_db()
    after = request.args.get("setelah", 0, type=int)
    people = recipients.page(db, after_id=after, limit=PAGE)
    return render_template(
        "bansos/registry.html",
        people=people,
        total=recipients.count(db),
        query=None,
        next_after=people[-1]["id"] if len(people) == PAGE else None,
        flags=duplicates.counts(db),
    )


@bp.route("/cari", methods=["POST"])
@roles_required(*STAFF)
def search():
    db = get_db()
    query = (request.form.get("q") or "").strip()[:100]
    people = recipients.search(db, query) if query else []
    # A NIK typed into the search is not echoed back in clear (the page may be printed or shared).
    digits = re.sub(r"[\s.\-]", "", query)
    shown = identifiers.mask_nik(digits) if digits.isdigit() and len(digits) == 16 else query
    return render_template(
        "bansos/registry.html",
        people=people,
        total=recipients.count(db),
        query=shown,
        next_after=None,
        flags=duplicates.counts(db),
    )


def _person_page(person_id: int, revealed: bool):
    db = get_db()
    person = recipients.get(db, person_id)
    if person is None:
        abort(404)
    cycles = db.execute(
        "SELECT c.id, c.programme_code, c.title, c.status, i.amount, i.received_on FROM bansos_cycle_items i"
        " JOIN bansos_cycles c ON c.id = i.cycle_id WHERE i.person_id = ? ORDER BY c.id DESC",
        [person_id],
    ).fetchall()
    return render_template(
        "bansos/person.html",
        person=person,
        family=recipients.family(db, person["kk"]),
        cycles=cycles,
        revealed=revealed,
        age=recipients.age(person, current_region().today()),
    )


@bp.route("/penerima/<int:person_id>")
@roles_required(*STAFF)
def person(person_id: int):
    return _person_page(person_id, revealed=False)


@bp.route("/penerima/<int:person_id>/buka", methods=["POST"])
@roles_required(*privacy.REVEAL_ROLES)
def reveal(person_id: int):
    """Show one person's full data, after writing the reveal to the audit chain."""
    if recipients.get(get_db(), person_id) is None:
        abort(404)
    privacy.reveal(get_db(), person_id)
    response = _person_page(person_id, revealed=True)
    return response, 200, {"Cache-Control": "no-store"}


# -- groups -----------------------------------------------------------------------------


@bp.route("/kelompok", methods=["GET", "POST"])
@roles_required(*STAFF)
def groups():
    db = get_db()
    if request.method == "POST":
        if not g.user.has(R.BANSOS_OFFICER):
            abort(403)
        try:
            group_id = recipients.create_group(
                db,
                request.form.get("name", ""),
                request.form.get("kind", ""),
                _areas(),
                request.form.get("village", ""),
                request.form.get("leader_nik") or None,
                g.user.id,
            )
        except HibahBansosError as exc:
            flash(str(exc), "error")
            return redirect(url_for("bansos.groups"))
        audit.record(db, "bansos.group.create", subject_type="bansos_group", subject_id=group_id)
        return redirect(url_for("bansos.group", group_id=group_id))
    return render_template("bansos/groups.html", groups=recipients.groups(db), kinds=recipients.GROUP_KINDS)


@bp.route("/kelompok/<int:group_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def group(group_id: int):
    db = get_db()
    found = recipients.get_group(db, group_id)
    if found is None:
        abort(404)
    if request.method == "POST":
        if not g.user.has(R.BANSOS_OFFICER):
            abort(403)
        try:
            person_id = recipients.add_member(db, group_id, request.form.get("nik", ""))
            audit.record(
                db,
                "bansos.group.add_member",
                subject_type="bansos_group",
                subject_id=group_id,
                detail={"person": person_id},
            )
        except HibahBansosError as exc:
            flash(str(exc), "error")
        return redirect(url_for("bansos.group", group_id=group_id))
    return render_template("bansos/group.html", group=found, members=recipients.group_members(db, group_id))


# -- import -----------------------------------------------------------------------------


@bp.route("/impor", methods=["GET", "POST"])
@roles_required(R.BANSOS_OFFICER)
def import_upload():
    region = current_region()
    if request.method == "POST":
        upload = request.files.get("file")
        programme_code = request.form.get("programme") or None
        if programme_code and programme_code not in {p["code"] for p in region.bansos_programmes}:
            abort(400)
        if upload is None or not upload.filename:
            flash(_("Pilih berkas CSV atau XLSX."), "error")
            return redirect(url_for("bansos.import_upload"))
        token = secrets.token_urlsafe(16)
        folder = _work_dir() / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_uploads(folder)
        target = folder / token
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            upload.save(out)
        upload.close()  # a large upload sits in a temporary file until closed
        name = uploads._safe_name(upload.filename)
        session.setdefault("bansos_uploads", {})[token] = {"name": name, "programme": programme_code}
        session.modified = True
        return redirect(url_for("bansos.import_preview", token=token))
    return render_template(
        "bansos/import.html", imports=importer.recent(get_db()), programmes=programmes.all_programmes(region)
    )


def _remove_stale_uploads(folder: Path) -> None:
    """Delete uploads left in preview for a day (never confirmed), unless an import still needs them."""
    running = {row[0] for row in get_db().execute("SELECT path FROM bansos_imports WHERE status = 'running'")}
    cutoff = time.time() - 24 * 3600
    for old in folder.iterdir():
        if old.is_file() and str(old) not in running and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def _upload(token: str) -> tuple[Path, dict]:
    meta = session.get("bansos_uploads", {}).get(token)
    path = _work_dir() / "uploads" / token
    if meta is None or not token.replace("-", "").replace("_", "").isalnum() or not path.is_file():
        abort(404)
    return path, meta


@bp.route("/impor/pratinjau/<token>", methods=["GET", "POST"])
@roles_required(R.BANSOS_OFFICER)
def import_preview(token: str):
    """The first rows of an uploaded file, parsed and checked; confirming starts the import."""
    path, meta = _upload(token)
    region = current_region()
    try:
        result = importer.preview(path, _areas(), region.today())
    except importer.BansosImportError as exc:
        flash(str(exc), "error")
        return redirect(url_for("bansos.import_upload"))
    if request.method == "POST":
        import_id = _start_import(path, meta, result.layout, result.format)
        session.get("bansos_uploads", {}).pop(token, None)
        session.modified = True
        return redirect(url_for("bansos.import_status", import_id=import_id))
    fields = {f: result.layout.column_name(f) for f in importer.HEADERS if f in result.layout.mapping.values()}
    return render_template("bansos/import_preview.html", preview=result, meta=meta, token=token, fields=fields)


def _start_import(path: Path, meta: dict, layout: importer.Layout, fmt: str) -> int:
    """Open the import's journal and run it in a separate process (it may take minutes)."""
    db = get_db()
    sha = importer.file_sha256(path)
    journal = importer.open_journal(db, path, sha, fmt, layout, meta["programme"], g.user.id, meta["name"])
    _spawn(path, meta, journal["id"])
    return journal["id"]


def _spawn(path: Path, meta: dict, import_id: int) -> None:
    paths = current_paths()
    env = {
        **os.environ,
        "HIBAHBANSOS_HOME": str(paths.home),
        "HIBAHBANSOS_DATA": str(paths.data),
        "HIBAHBANSOS_SECRET_KEY": current_app.config["SECRET_KEY"],
        "HIBAHBANSOS_AUDIT_KEY": current_app.config["AUDIT_KEY"],
    }
    args = [
        sys.executable,
        "-m",
        "hibahbansos.cli",
        "bansos",
        "import",
        str(path),
        "--started-by",
        str(g.user.id),
        "--file-name",
        meta["name"],
        "--remove-when-done",
    ]
    if meta.get("programme"):
        args += ["--programme", meta["programme"]]
    log = open(_work_dir() / f"import-{import_id}.log", "ab")  # noqa: SIM115 - handed to the child
    with log:
        child = subprocess.Popen(
            args,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=paths.home,
        )
    # Wait (briefly) until the child holds the file's lock, so the status page never shows a
    # just-started import as stopped.
    sha = importer.file_sha256(path)
    deadline = time.monotonic() + 15
    while child.poll() is None and not importer.is_active(_work_dir(), sha) and time.monotonic() < deadline:
        time.sleep(0.05)
    # Reap the child when it ends, so a long-lived worker collects no zombies.
    threading.Thread(target=child.wait, name=f"bansos-import-{import_id}", daemon=True).start()


@bp.route("/impor/<int:import_id>", methods=["GET", "POST"])
@roles_required(R.BANSOS_OFFICER, R.INSPECTOR)
def import_status(import_id: int):
    db = get_db()
    journal = importer.get(db, import_id)
    if journal is None:
        abort(404)
    active = importer.is_active(_work_dir(), journal["sha256"])
    if request.method == "POST":
        if not g.user.has(R.BANSOS_OFFICER) or journal["status"] != "running" or active:
            abort(409)
        _spawn(Path(journal["path"]), {"name": journal["file_name"], "programme": journal["programme_code"]}, import_id)
        flash(_("Impor dilanjutkan dari baris %(row)d.", row=journal["last_row"] + 1), "info")
        return redirect(url_for("bansos.import_status", import_id=import_id))
    return render_template(
        "bansos/import_status.html",
        journal=journal,
        active=active,
        mapping=json.loads(journal["mapping"]),
        issues=list(importer.issues(db, import_id, limit=200)),
    )


@bp.route("/impor/<int:import_id>/masalah.csv")
@roles_required(R.BANSOS_OFFICER, R.INSPECTOR)
def import_issues_file(import_id: int):
    """The error file: row, column, severity, code, reason; no personal data."""
    db = get_db()
    if importer.get(db, import_id) is None:
        abort(404)

    path = current_app.config["DATABASE"]

    def generate():
        # Its own connection: the request's is closed before a long download ends.
        conn = connect(path)
        try:
            yield "\ufeff"  # a BOM, so Excel opens the file as UTF-8
            yield from importer.issues_csv_chunks(conn, import_id)
        finally:
            conn.close()

    return Response(
        generate(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="impor-{import_id}-masalah.csv"'},
    )


# -- duplicates -------------------------------------------------------------------------


@bp.route("/tanda", methods=["GET"])
@roles_required(*STAFF)
def flags():
    db = get_db()
    status = request.args.get("status", "open")
    if status not in ("open", "confirmed", "dismissed"):
        abort(404)
    return render_template(
        "bansos/flags.html", flags=duplicates.listing(db, status=status), status=status, counts=duplicates.counts(db)
    )


@bp.route("/tanda/<int:flag_id>", methods=["POST"])
@roles_required(R.BANSOS_OFFICER)
def decide_flag(flag_id: int):
    try:
        duplicates.decide(get_db(), flag_id, request.form.get("decision", ""), g.user.id)
        flash(_("Keputusan disimpan."), "success")
    except RuleViolation as exc:
        flash(str(exc), "error")
    return redirect(url_for("bansos.flags"))


# -- programmes and cycles --------------------------------------------------------------


@bp.route("/program")
@roles_required(*STAFF)
def programme_list():
    region = current_region()
    return render_template("bansos/programmes.html", usage=programmes.usage(get_db(), region, int(region.budget_year)))


@bp.route("/siklus")
@roles_required(*STAFF)
def cycles():
    return render_template("bansos/cycles.html", cycles=distributions.listing(get_db()))


def _criteria(form) -> distributions.Criteria:
    def number(name: str, lo: int, hi: int) -> int | None:
        text = (form.get(name) or "").strip()
        if not text:
            return None
        if not text.isdigit() or not lo <= int(text) <= hi:
            raise RuleViolation(name, _("%(field)s harus angka %(lo)d sampai %(hi)d", field=name, lo=lo, hi=hi))
        return int(text)

    areas = _areas()
    district = form.get("district") or None
    village = form.get("village") or None
    if district and district not in areas.districts:
        raise RuleViolation("district", _("kecamatan tidak dikenal"))
    if village and village not in areas.villages:
        raise RuleViolation("village", _("desa/kelurahan tidak dikenal"))
    sex = form.get("sex") or None
    if sex not in (None, "L", "P"):
        raise RuleViolation("sex", _("jenis kelamin harus L atau P"))
    recipient_type = form.get("recipient_type") or "individual"
    if recipient_type not in distributions.RECIPIENT_TYPES:
        raise RuleViolation("recipient_type", _("jenis penerima tidak dikenal"))
    return distributions.Criteria(
        recipient_type=recipient_type,
        district_code=district,
        village_code=village,
        sex=sex,
        min_age=number("min_age", 0, 120),
        max_age=number("max_age", 0, 120),
        max_desil=number("max_desil", 1, 10),
        candidates_only=bool(form.get("candidates_only")),
        limit=number("limit", 1, 1_000_000),
    )


@bp.route("/siklus/baru", methods=["GET", "POST"])
@roles_required(R.BANSOS_OFFICER)
def cycle_new():
    region = current_region()
    db = get_db()
    year = int(region.budget_year)
    form = request.form if request.method == "POST" else request.args
    code = form.get("programme") or ""
    all_progs = programmes.all_programmes(region)
    programme = next((p for p in all_progs if p.code == code), None)
    context = {
        "programmes": all_progs,
        "programme": programme,
        "form": form,
        "year": year,
        "eligible": None,
        "remaining": None,
        "recipient_types": distributions.RECIPIENT_TYPES,
    }
    if programme is None:
        return render_template("bansos/cycle_new.html", **context)
    context["remaining"] = programme.ceiling - programmes.committed(db, programme.code, year)
    if request.method == "POST":
        try:
            criteria = _criteria(request.form)
            start = dt.date.fromisoformat(request.form.get("period_start") or f"{year}-01-01")
            end = dt.date.fromisoformat(request.form.get("period_end") or f"{year}-12-31")
            if request.form.get("action") == "prepare":
                cycle_id = distributions.prepare(
                    db,
                    region,
                    programme.code,
                    criteria,
                    title=request.form.get("title", ""),
                    period_start=start,
                    period_end=end,
                    user_id=g.user.id,
                    today=region.today(),
                )
                flash(_("Siklus disiapkan; menunggu pengesahan oleh pengesah lain."), "success")
                return redirect(url_for("bansos.cycle", cycle_id=cycle_id))
            context["eligible"] = distributions.count_eligible(db, programme, criteria, year, region.today())
        except ValueError:
            flash(_("Tanggal periode tidak valid."), "error")
        except RuleViolation as exc:
            flash(str(exc), "error")
    return render_template("bansos/cycle_new.html", **context)


def _cycle_or_404(cycle_id: int) -> dict:
    cycle = distributions.get(get_db(), cycle_id)
    if cycle is None:
        abort(404)
    return cycle


@bp.route("/siklus/<int:cycle_id>")
@roles_required(*STAFF)
def cycle(cycle_id: int):
    found = _cycle_or_404(cycle_id)
    region = current_region()
    offset = max(request.args.get("mulai", 0, type=int), 0)
    return render_template(
        "bansos/cycle.html",
        cycle=found,
        programme=programmes.get(region, found["programme_code"]),
        items=distributions.items(get_db(), cycle_id, limit=PAGE, offset=offset),
        offset=offset,
        page=PAGE,
        summary=distributions.report(get_db(), cycle_id),
    )


@bp.route("/siklus/<int:cycle_id>/sahkan", methods=["POST"])
@roles_required(R.BANSOS_APPROVER)
def cycle_approve(cycle_id: int):
    try:
        distributions.approve(get_db(), current_region(), cycle_id, g.user.id)
        flash(_("Siklus disahkan."), "success")
    except RuleViolation as exc:
        flash(str(exc), "error")
    return redirect(url_for("bansos.cycle", cycle_id=cycle_id))


@bp.route("/siklus/<int:cycle_id>/batal", methods=["POST"])
@roles_required(R.BANSOS_OFFICER, R.BANSOS_APPROVER)
def cycle_cancel(cycle_id: int):
    try:
        distributions.cancel(get_db(), cycle_id, request.form.get("reason", ""))
        flash(_("Siklus dibatalkan."), "info")
    except RuleViolation as exc:
        flash(str(exc), "error")
    return redirect(url_for("bansos.cycle", cycle_id=cycle_id))


@bp.route("/siklus/<int:cycle_id>/tutup", methods=["POST"])
@roles_required(R.BANSOS_OFFICER)
def cycle_close(cycle_id: int):
    try:
        distributions.close(get_db(), cycle_id, g.user.id)
        flash(_("Siklus ditutup; laporan pertanggungjawaban sudah final."), "success")
    except RuleViolation as exc:
        flash(str(exc), "error")
    return redirect(url_for("bansos.cycle", cycle_id=cycle_id))


def _document(cycle_id: int, kind: str):
    found = _cycle_or_404(cycle_id)
    if found["status"] not in ("approved", "closed"):
        flash(_("Daftar penyaluran tersedia setelah siklus disahkan."), "error")
        return redirect(url_for("bansos.cycle", cycle_id=cycle_id))
    region = current_region()
    programme = programmes.get(region, found["programme_code"])
    db = get_db()
    items = distributions.items(db, cycle_id)
    audit.record(
        db,
        f"bansos.cycle.download_{kind}",
        subject_type="bansos_cycle",
        subject_id=cycle_id,
        detail={"items": len(items)},
    )
    if kind == "list_pdf":
        data, mimetype, name = (
            documents.distribution_list_pdf(region, programme, found, items, _areas()),
            "application/pdf",
            "pdf",
        )
    elif kind == "list_xlsx":
        data = documents.distribution_list_xlsx(region, programme, found, items, _areas())
        mimetype, name = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
    else:
        data = documents.report_pdf(region, programme, found, distributions.report(db, cycle_id), _areas())
        return Response(
            data,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="laporan-siklus-{cycle_id}.pdf"'},
        )
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="daftar-penyaluran-{cycle_id}.{name}"'},
    )


@bp.route("/siklus/<int:cycle_id>/daftar.pdf")
@roles_required(*STAFF)
def cycle_list_pdf(cycle_id: int):
    return _document(cycle_id, "list_pdf")


@bp.route("/siklus/<int:cycle_id>/daftar.xlsx")
@roles_required(*STAFF)
def cycle_list_xlsx(cycle_id: int):
    return _document(cycle_id, "list_xlsx")


@bp.route("/siklus/<int:cycle_id>/laporan")
@roles_required(*STAFF)
def cycle_report(cycle_id: int):
    found = _cycle_or_404(cycle_id)
    region = current_region()
    return render_template(
        "bansos/report.html",
        cycle=found,
        programme=programmes.get(region, found["programme_code"]),
        summary=distributions.report(get_db(), cycle_id),
        items=distributions.items(get_db(), cycle_id),
    )


@bp.route("/siklus/<int:cycle_id>/laporan.pdf")
@roles_required(*STAFF)
def cycle_report_pdf(cycle_id: int):
    found = _cycle_or_404(cycle_id)
    if found["status"] not in ("approved", "closed"):
        abort(409)
    return _document(cycle_id, "report_pdf")


@bp.route("/siklus/<int:cycle_id>/terima/<int:item_id>", methods=["GET", "POST"])
@roles_required(R.BANSOS_OFFICER)
def receipt(cycle_id: int, item_id: int):
    found = _cycle_or_404(cycle_id)
    db = get_db()
    item = next((i for i in distributions.items(db, cycle_id) if i["id"] == item_id), None)
    if item is None:
        abort(404)
    region = current_region()
    if request.method == "POST":
        try:
            received_on = dt.date.fromisoformat(request.form.get("received_on") or "")
            amount_text = (request.form.get("amount") or "").replace(".", "").strip()
            evidence = request.files.get("evidence")
            if evidence is None or not evidence.filename:
                raise RuleViolation("evidence", _("unggah foto bukti penerimaan"))
            distributions.record_receipt(
                db,
                cycle_id,
                item_id,
                received_on=received_on,
                amount=int(amount_text) if amount_text.isdigit() else None,
                goods=request.form.get("goods"),
                evidence=evidence.stream,
                evidence_name=evidence.filename,
                uploads_folder=current_paths().uploads,
                max_bytes=region.uploads["max_mb"] * 1024 * 1024,
                user_id=g.user.id,
                today=region.today(),
            )
            flash(_("Penerimaan dicatat."), "success")
            return redirect(url_for("bansos.cycle", cycle_id=cycle_id))
        except ValueError:
            flash(_("Tanggal terima tidak valid."), "error")
        except (RuleViolation, uploads.UploadRejected) as exc:
            flash(str(exc), "error")
    return render_template("bansos/receipt.html", cycle=found, item=item, today=region.today())


@bp.route("/bukti/<int:file_id>")
@roles_required(*STAFF)
def evidence(file_id: int):
    """An evidence photo of a receipt; each view is written to the audit chain."""
    db = get_db()
    if db.execute("SELECT 1 FROM bansos_cycle_items WHERE evidence_file_id = ?", [file_id]).fetchone() is None:
        abort(404)
    stored = uploads.get(db, file_id)
    if stored is None:
        abort(404)
    try:
        path = uploads.path_of(current_paths().uploads, stored)
    except uploads.UploadRejected:
        abort(404)
    audit.record(db, "bansos.evidence.view", subject_type="file", subject_id=file_id)
    return send_file(path, mimetype=stored.media_type, max_age=0)


# -- public -----------------------------------------------------------------------------


@bp.route("/statistik")
def public_stats():
    """Counts and totals by programme and district; no name, no identifier."""
    region = current_region()
    year = request.args.get("tahun", int(region.budget_year), type=int)
    return render_template("bansos/public_stats.html", stats=portal.aggregates(get_db(), region, year), year=year)
