"""HTTP views of the hibah area, one module per area; access is declared with @roles_required."""

from __future__ import annotations

from hibahbansos import roles as R

# Who may open which staff pages; the authorisation matrix test lists the same table explicitly.
READERS = (R.DESK, R.OPD_REVIEWER, R.CONSIDERATION, R.TAPD, R.HEAD, R.FINANCE, R.INSPECTOR)
WORKERS = (R.DESK, R.OPD_REVIEWER, R.CONSIDERATION, R.TAPD, R.HEAD, R.FINANCE)
PROPOSAL_USERS = (R.APPLICANT, *READERS)
LPJ_WATCHERS = (R.DESK, R.OPD_REVIEWER, R.FINANCE, R.HEAD, R.INSPECTOR)
RECAP_USERS = (R.DESK, R.OPD_REVIEWER, R.CONSIDERATION, R.TAPD, R.HEAD, R.INSPECTOR)
COMPLAINT_READERS = (R.DESK, R.INSPECTOR)
