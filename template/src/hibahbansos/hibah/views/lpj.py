"""The LPJ dashboard: accountability reports overdue or due soon."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from hibahbansos import current_region
from hibahbansos.auth import roles_required
from hibahbansos.db import get_db
from hibahbansos.hibah import lpj
from hibahbansos.hibah.views import LPJ_WATCHERS

bp = Blueprint("hibah_lpj", __name__)


@bp.route("/lpj/terlambat")
@roles_required(*LPJ_WATCHERS)
def dashboard():
    region = current_region()
    data = lpj.dashboard(get_db(), g.user, region.today())
    return render_template("hibah/lpj.html", overdue=data["overdue"], soon=data["soon"])
