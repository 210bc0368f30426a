"""DNC-PBH recap downloads per OPD and year (XLSX and CSV); reviewers get only their own OPD."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, request

from hibahbansos import audit, current_region
from hibahbansos import roles as R
from hibahbansos.auth import roles_required
from hibahbansos.db import get_db
from hibahbansos.hibah import recap
from hibahbansos.hibah.views import RECAP_USERS

bp = Blueprint("hibah_recap", __name__)


def _allowed_opds() -> list[str]:
    region = current_region()
    everything = [o["code"] for o in region.opd]
    if g.user.has(R.DESK, R.CONSIDERATION, R.TAPD, R.HEAD, R.INSPECTOR):
        return everything
    own = g.user.roles.get(R.OPD_REVIEWER)
    return [own] if own in everything else []


@bp.route("/rekap")
@roles_required(*RECAP_USERS)
def index():
    region = current_region()
    return render_template(
        "hibah/recap.html", opds=[region.opd_by_code[c] for c in _allowed_opds()], year=region.budget_year
    )


@bp.route("/rekap/dnc-pbh.<fmt>")
@roles_required(*RECAP_USERS)
def export(fmt: str):
    region = current_region()
    if fmt not in ("xlsx", "csv"):
        abort(404)
    opd = request.args.get("opd", "")
    if opd not in _allowed_opds():
        abort(403)
    try:
        year = int(request.args.get("tahun") or region.budget_year)
    except ValueError:
        abort(400)
    records = recap.rows(get_db(), opd, year)
    audit.record(
        get_db(),
        "hibah.recap.export",
        subject_type="opd",
        subject_id=opd,
        detail={"year": year, "format": fmt, "rows": len(records)},
    )
    name = f"DNC-PBH-{opd}-{year}.{fmt}"
    if fmt == "csv":
        body, mimetype = recap.to_csv(records), "text/csv; charset=utf-8"
    else:
        title = f"DAFTAR NOMINATIF CALON PENERIMA BELANJA HIBAH TAHUN ANGGARAN {year}"
        subtitle = f"{region.opd_by_code[opd]['name']} - Pemerintah {region.name}"
        body = recap.to_xlsx(records, title, subtitle)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})
