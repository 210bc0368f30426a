"""The audit log for the inspector and the administrator: the latest entries and the chain's state."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, render_template, request

from hibahbansos import audit
from hibahbansos import roles as R
from hibahbansos.auth import roles_required
from hibahbansos.db import get_db

bp = Blueprint("hibah_audit", __name__)
PER_PAGE = 100


@bp.route("/log-audit")
@roles_required(R.INSPECTOR, R.ADMIN)
def index():
    db = get_db()
    try:
        before = int(request.args.get("sebelum", 0)) or None
    except ValueError:
        before = None
    subject = (request.args.get("subjek") or "").strip()[:40]
    sql = "SELECT id, at, actor, action, subject_type, subject_id, detail, ip FROM audit_log"
    clauses, params = [], []
    if before:
        clauses.append("id < ?")
        params.append(before)
    if ":" in subject:
        kind, ident = subject.split(":", 1)
        clauses.append("subject_type = ? AND subject_id = ?")
        params += [kind, ident]
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    rows = db.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, PER_PAGE]).fetchall()
    cols = ("id", "at", "actor", "action", "subject_type", "subject_id", "detail", "ip")
    entries = [dict(zip(cols, r, strict=True)) for r in rows]
    for e in entries:
        e["detail"] = json.loads(e["detail"] or "{}")
    count, problems = audit.verify(db, current_app.config["AUDIT_KEY"])
    return render_template(
        "hibah/audit.html", entries=entries, count=count, problems=problems, subject=subject, per_page=PER_PAGE
    )
