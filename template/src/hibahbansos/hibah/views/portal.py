"""The public portal (no login): status, recipients, statistics, regulations, complaints, open data.

Nothing here shows personal data of individuals: organisations, districts and amounts only.
"""

from __future__ import annotations

import csv
import io
import json

from flask import Blueprint, Response, abort, current_app, flash, g, render_template, request, stream_with_context
from flask_babel import gettext as _
from markupsafe import Markup

from hibahbansos import current_region
from hibahbansos.db import connect, get_db
from hibahbansos.hibah import charts, complaints, portal, proposals, settings
from hibahbansos.hibah.forms import ComplaintForm
from hibahbansos.i18n import select_locale
from hibahbansos.templating import rupiah

bp = Blueprint("hibah_portal", __name__)


def _version() -> tuple[str, int]:
    """This request's version of the public data: the database and its audit chain's length."""
    if "public_version" not in g:
        g.public_version = (current_app.config["DATABASE"], portal.data_version(get_db()))
    return g.public_version


_announcements = portal.VersionedCache(size=4)


@bp.context_processor
def _announcement() -> dict:
    """The administrator's notice, shown under the portal menu."""
    return {"announcement": _announcements.get("notice", _version(), lambda: settings.get(get_db(), "announcement"))}


def _year() -> int:
    region = current_region()
    try:
        year = int(request.args.get("tahun", region.budget_year))
    except ValueError:
        return region.budget_year
    return year if 2000 <= year <= 2100 else region.budget_year


def _int_arg(name: str) -> int | None:
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


@bp.route("/cek-status")
def status():
    number = proposals.normalise_tracking_number(request.args.get("nomor", ""))
    found = None
    if number:
        found = portal.public_status(get_db(), current_region(), number)
        if found is None:
            flash(_("Nomor pelacakan tidak ditemukan. Periksa kembali penulisannya."), "error")
    return render_template("hibah/portal/status.html", number=number, found=found)


# The recipient table does not depend on who is looking: each worker keeps it rendered per
# filter, page and language until the public data changes (see portal.data_version).
_tables = portal.VersionedCache(size=256)
_years = portal.VersionedCache(size=4)


def _public_years(version: tuple[str, int]) -> list[int]:
    region = current_region()
    return _years.get(
        "years", version, lambda: sorted(set(portal.years(get_db())) | {region.budget_year}, reverse=True)
    )


@bp.route("/penerima")
def recipients():
    region = current_region()
    year = _year()
    opd = request.args.get("opd") or None
    programme = request.args.get("program") or None
    if opd and opd not in region.opd_by_code:
        opd = None
    if programme and programme not in {p["code"] for p in region.hibah_programmes}:
        programme = None
    q = (request.args.get("cari") or "").strip()[:80]
    after, before = _int_arg("setelah"), _int_arg("sebelum")
    filters = {"tahun": year, "opd": opd or "", "program": programme or "", "cari": q}
    db = get_db()
    version = _version()
    today = region.today()

    def table() -> Markup:
        page = portal.recipients(
            db, year, today, opd=opd, programme=programme, q=q, after=after, before=before, version=version
        )
        # Everything a row shows, resolved once per page rather than once per row.
        programme_names = {p["code"]: p["name"] for p in region.hibah_programmes}
        opd_names = {o["code"]: o["short"] for o in region.opd}
        lpj_labels = {key: str(label) for key, label in portal.LPJ_STATUS.items()}
        for row in page.rows:
            row.programme_name = programme_names.get(row.programme_code, row.programme_code)
            row.opd_name = opd_names.get(row.opd_code, row.opd_code)
            row.lpj_label = lpj_labels[row.lpj_status]
        return Markup(render_template("hibah/portal/_recipients_table.html", page=page, year=year, filters=filters))

    key = (year, opd, programme, q, after, before, select_locale(), today)
    return render_template(
        "hibah/portal/recipients.html",
        table=_tables.get(key, version, table),
        year=year,
        years=_public_years(version),
        filters=filters,
    )


@bp.route("/statistik")
def statistics():
    region = current_region()
    year = _year()
    stats = portal.statistics(get_db(), year)
    opd_names = {o["code"]: o["short"] for o in region.opd}
    prog_names = {p["code"]: p["name"] for p in region.hibah_programmes}
    chart_opd = charts.bar_chart(
        [(opd_names.get(r["key"], r["key"]), r["approved"]) for r in stats["opd"]],
        _("Nilai hibah ditetapkan per OPD"),
        rupiah,
    )
    chart_prog = charts.bar_chart(
        [(prog_names.get(r["key"], r["key"]), r["approved"]) for r in stats["programme"]],
        _("Nilai hibah ditetapkan per program"),
        rupiah,
    )
    chart_district = charts.bar_chart(
        [(r["key"], r["count"]) for r in stats["district"]],
        _("Jumlah penerima per kecamatan"),
        lambda v: f"{int(v)}",
        limit=15,
    )
    chart_states = charts.bar_chart(
        [(str(r["label"]), r["count"]) for r in stats["states"]],
        _("Jumlah proposal per tahap"),
        lambda v: f"{int(v)}",
        limit=20,
    )
    years = _public_years(_version())
    return render_template(
        "hibah/portal/statistics.html",
        year=year,
        years=years,
        stats=stats,
        opd_names=opd_names,
        prog_names=prog_names,
        chart_opd=chart_opd,
        chart_prog=chart_prog,
        chart_district=chart_district,
        chart_states=chart_states,
    )


@bp.route("/regulasi")
def regulations():
    lines = [line.strip() for line in settings.get(get_db(), "regulations").splitlines() if line.strip()]
    return render_template("hibah/portal/regulations.html", regulations=lines)


@bp.route("/pengaduan", methods=["GET", "POST"])
def complaint():
    form = ComplaintForm()
    if form.validate_on_submit() and complaints.too_many(get_db(), request.remote_addr):
        form.message.errors.append(_("Terlalu banyak pengaduan dari alamat ini; coba lagi dalam satu jam."))
        return render_template("hibah/portal/complaint.html", form=form), 429
    if form.validate_on_submit():
        number = complaints.create(
            get_db(),
            current_region().budget_year,
            {
                "name": form.name.data,
                "contact": form.contact.data,
                "about": proposals.normalise_tracking_number(form.about.data or "") or None,
                "subject": form.subject.data,
                "message": form.message.data,
            },
        )
        return render_template("hibah/portal/complaint_done.html", number=number)
    return render_template("hibah/portal/complaint.html", form=form), 400 if form.errors else 200


@bp.route("/pengaduan/cek")
def complaint_status():
    number = proposals.normalise_tracking_number(request.args.get("nomor", ""))
    found = complaints.get_by_number(get_db(), number) if number else None
    if number and found is None:
        flash(_("Nomor pengaduan tidak ditemukan."), "error")
    return render_template("hibah/portal/complaint_status.html", number=number, found=found)


@bp.route("/data-terbuka")
def open_data():
    years = _public_years(_version())
    return render_template("hibah/portal/open_data.html", years=years, fields=portal.PUBLIC_FIELDS)


@bp.route("/data-terbuka/penerima-<int:year>.csv")
def open_data_csv(year: int):
    region = current_region()
    today = region.today()
    database = current_app.config["DATABASE"]

    def generate():
        # Its own connection: the request's is closed when the response starts streaming.
        conn = connect(database)
        try:
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=portal.PUBLIC_FIELDS)
            writer.writeheader()
            for n, record in enumerate(portal.open_data(conn, region, year, today), start=1):
                writer.writerow(record)
                if n % 500 == 0:
                    yield buf.getvalue()
                    buf.seek(0)
                    buf.truncate()
            yield buf.getvalue()
        finally:
            conn.close()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=penerima-hibah-{region.slug}-{year}.csv"},
    )


@bp.route("/data-terbuka/penerima-<int:year>.json")
def open_data_json(year: int):
    region = current_region()
    records = list(portal.open_data(get_db(), region, year, region.today()))
    body = {
        "region": region.name,
        "kode_wilayah": region.kode,
        "budget_year": year,
        "generated_at": region.now().isoformat(timespec="seconds"),
        "fields": list(portal.PUBLIC_FIELDS),
        "count": len(records),
        "records": records,
    }
    return Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/json")


@bp.route("/verifikasi-nphd/<token>")
def verify_nphd(token: str):
    if len(token) > 64:
        abort(404)
    p = proposals.by_nphd_token(get_db(), token)
    if p is None:
        abort(404)
    from hibahbansos.hibah import organisations

    org = organisations.get(get_db(), p.organisation_id)
    return render_template("hibah/portal/verify_nphd.html", p=p, org=org)
