"""Work queues: what waits for the user's roles, oldest first, with its age in days."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from hibahbansos import current_region
from hibahbansos.auth import roles_required
from hibahbansos.db import get_db
from hibahbansos.hibah import proposals
from hibahbansos.hibah.views import WORKERS
from hibahbansos.hibah.workflow import for_region

bp = Blueprint("hibah_queue", __name__)


@bp.route("/antrian")
@roles_required(*WORKERS)
def queue():
    region = current_region()
    wf = for_region(region)
    items = proposals.work_queue(get_db(), g.user, wf, region.today())
    return render_template("hibah/queue.html", items=items, wf=wf)
