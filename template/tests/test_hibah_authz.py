"""The authorisation matrix: every role against every page and every workflow step, OPD scoping included.

The expected access is written out here, independently of the app's own tables, so that a
change to who may do what fails this test until the table is changed on purpose.
"""

from __future__ import annotations

import pytest

from hibahbansos import roles as R
from hibahbansos.errors import NotAllowed, RuleViolation
from hibahbansos.hibah import proposals
from hibahbansos.users import User

PUBLIC = "public"
PEOPLE = (
    "applicant",
    "applicant2",
    "desk",
    "reviewer",
    "reviewer_other",
    "consideration",
    "tapd",
    "head",
    "finance",
    "inspector",
    "admin",
)
EVERYONE = {PUBLIC, *PEOPLE}
SEE_PROPOSAL = {"applicant", "desk", "reviewer", "consideration", "tapd", "head", "finance", "inspector"}
STAFF_READERS = {"desk", "reviewer", "reviewer_other", "consideration", "tapd", "head", "finance", "inspector"}

# path (with {id}, {file}, {opd}) -> who gets 200; everyone else 403, or 302 to the login page when not logged in.
PAGES = {
    "/": EVERYONE,
    "/penerima": EVERYONE,
    "/statistik": EVERYONE,
    "/cek-status": EVERYONE,
    "/regulasi": EVERYONE,
    "/pengaduan": EVERYONE,
    "/data-terbuka": EVERYONE,
    "/data-terbuka/penerima-{year}.csv": EVERYONE,
    "/daftar": {PUBLIC},
    "/proposal-saya": {"applicant", "applicant2"},
    "/lembaga": {"applicant", "applicant2"},
    "/proposal/baru": {"applicant"},
    "/antrian": {"desk", "reviewer", "reviewer_other", "consideration", "tapd", "head", "finance"},
    "/usulan": STAFF_READERS,
    "/usulan/{id}": SEE_PROPOSAL,
    "/usulan/{id}/nphd.pdf": SEE_PROPOSAL,
    "/usulan/{id}/berkas/{file}": SEE_PROPOSAL,
    "/lpj/terlambat": {"desk", "reviewer", "reviewer_other", "finance", "head", "inspector"},
    "/rekap": {"desk", "reviewer", "reviewer_other", "consideration", "tapd", "head", "inspector"},
    "/rekap/dnc-pbh.csv?opd={opd}": {"desk", "reviewer", "consideration", "tapd", "head", "inspector"},
    "/rekap/dnc-pbh.xlsx?opd={opd}": {"desk", "reviewer", "consideration", "tapd", "head", "inspector"},
    "/pengaduan-masuk": {"desk", "inspector"},
    "/log-audit": {"inspector", "admin"},
    "/admin/pengguna": {"admin"},
    "/admin/pengaturan": {"admin"},
    "/admin/kotak-keluar": {"admin"},
}
# Default roles of each step (the profile's workflow.actions may replace them; applied below).
STEP_ROLES = {
    "submit": "owner",
    "resubmit": "owner",
    "withdraw": "owner",
    "submit_lpj": "owner",
    "start_check": (R.DESK,),
    "route_to_opd": (R.DESK,),
    "return_incomplete": (R.DESK,),
    "reject_admin": (R.DESK,),
    "recommend": (R.OPD_REVIEWER,),
    "request_revision": (R.OPD_REVIEWER,),
    "reject_opd": (R.OPD_REVIEWER,),
    "forward_to_tapd": (R.CONSIDERATION,),
    "reject_consideration": (R.CONSIDERATION,),
    "tapd_agree": (R.TAPD,),
    "reject_tapd": (R.TAPD,),
    "approve": (R.HEAD,),
    "reject_head": (R.HEAD,),
    "sign_nphd": (R.DESK,),
    "disburse": (R.FINANCE,),
    "return_lpj": (R.OPD_REVIEWER,),
    "verify_lpj": (R.OPD_REVIEWER,),
    "close": (R.DESK,),
}
# The state a proposal must be in for each step.
STEP_STATE = {
    "submit": "draft",
    "resubmit": "revision",
    "withdraw": "submitted",
    "submit_lpj": "disbursed",
    "start_check": "submitted",
    "route_to_opd": "admin_check",
    "return_incomplete": "admin_check",
    "reject_admin": "admin_check",
    "recommend": "opd_evaluation",
    "request_revision": "opd_evaluation",
    "reject_opd": "opd_evaluation",
    "forward_to_tapd": "consideration",
    "reject_consideration": "consideration",
    "tapd_agree": "tapd",
    "reject_tapd": "tapd",
    "approve": "tapd_agreed",
    "reject_head": "tapd_agreed",
    "sign_nphd": "approved",
    "disburse": "nphd_signed",
    "return_lpj": "lpj_submitted",
    "verify_lpj": "lpj_submitted",
    "close": "lpj_verified",
}


def allowed_people(world, action: str) -> set[str]:
    roles = STEP_ROLES[action]
    if roles == "owner":
        return {"applicant"}
    roles = tuple((world.region.data.get("workflow") or {}).get("actions", {}).get(action, roles))
    out = set()
    for name in PEOPLE:
        user = world.users[name]
        for role in roles:
            if role in user.roles and (role != R.OPD_REVIEWER or user.roles[role] == world.opd):
                out.add(name)
    return out


def _in_state(world, state: str):
    if state == "revision":
        return world.act(world.proposal("opd_evaluation"), "request_revision", note="Perbaiki RAB.")
    return world.proposal(state)


@pytest.fixture
def disbursed(world):
    return world.proposal("disbursed")


@pytest.mark.parametrize("who", [PUBLIC, *PEOPLE])
def test_pages(world, app, disbursed, who):
    client = app.test_client()
    if who != PUBLIC:
        assert client.post("/masuk", data={"username": who, "password": "Sandi-Rahasia-123"}).status_code == 302
    file_id = world.conn.execute(
        "SELECT file_id FROM proposal_documents WHERE proposal_id = ? LIMIT 1", [disbursed.id]
    ).fetchone()[0]
    wrong = []
    for template, allowed in PAGES.items():
        path = template.format(id=disbursed.id, file=file_id, opd=world.opd, year=world.region.budget_year)
        res = client.get(path)
        res.close()  # file downloads stream from disk
        if who in allowed:
            expected = 200
        elif who == PUBLIC:
            expected = 302
        elif template == "/daftar":
            expected = 302  # logged-in users are sent to their own pages
        elif (template, who) == ("/proposal/baru", "applicant2"):
            expected = 302  # an applicant without an organisation is sent to register one first
        else:
            expected = 403
        if res.status_code != expected:
            wrong.append(f"{who} GET {template}: {res.status_code}, expected {expected}")
        if expected == 302 and who == PUBLIC:
            assert "/masuk" in res.headers["Location"]
    assert wrong == []


@pytest.mark.parametrize("action", sorted(STEP_ROLES))
def test_steps(world, action):
    t = world.wf.get(action)
    if t is None:  # a step the region's profile leaves out: nobody may take it
        p = world.proposal("submitted")
        for name in PEOPLE:
            with pytest.raises(NotAllowed):
                world.act(p, action, user=world.users[name])
        return
    allowed = allowed_people(world, action)
    assert allowed, f"nobody may take {action}"
    target = _in_state(world, STEP_STATE[action])
    for name in sorted(set(PEOPLE) - allowed):
        with pytest.raises(NotAllowed):
            world.act(target, action, user=world.users[name])
        assert proposals.get(world.conn, target.id).state == target.state
    for name in sorted(allowed):
        fresh = _in_state(world, STEP_STATE[action])
        try:
            after = world.act(fresh, action, user=world.users[name])
        except RuleViolation as exc:  # allowed by role; a rule may still refuse, but never the role
            pytest.fail(f"{name} was refused {action} by rule {exc.rule}")
        assert after.state == t.target, f"{name} {action}"


def test_reviewer_of_another_opd_is_told_why(world):
    p = world.proposal("opd_evaluation")
    with pytest.raises(NotAllowed) as err:
        world.act(p, "recommend", user=world.users["reviewer_other"])
    assert str(err.value) == "Proposal ini ditujukan ke OPD lain; Anda hanya menilai proposal OPD Anda sendiri."


def test_step_over_http_is_refused_for_another_opd(world, client, login):
    p = world.proposal("opd_evaluation")
    login("reviewer_other")
    res = client.post(f"/usulan/{p.id}/langkah/recommend", data={"recommend-note": "x"})
    assert res.status_code == 403
    assert proposals.get(world.conn, p.id).state == "opd_evaluation"
    client.post("/keluar")
    login("reviewer")
    res = client.post(f"/usulan/{p.id}/langkah/request_revision", data={"request_revision-note": "Perbaiki RAB."})
    assert res.status_code == 302
    assert proposals.get(world.conn, p.id).state == "revision"


def test_lists_and_queues_are_scoped_to_the_reviewers_opd(world, client, login):
    mine = world.proposal("opd_evaluation")
    theirs = (
        world.proposal(
            "opd_evaluation",
            opd=world.other_opd,
            programme=next((p for p in world.region.hibah_programmes if world.other_opd in p["opd"]), None),
        )
        if any(world.other_opd in p["opd"] for p in world.region.hibah_programmes)
        else None
    )
    login("reviewer_other")
    queue = client.get("/antrian").get_data(as_text=True)
    listing = client.get("/usulan").get_data(as_text=True)
    assert f'/usulan/{mine.id}"' not in queue
    assert f'/usulan/{mine.id}"' not in listing
    if theirs is not None:
        assert f'/usulan/{theirs.id}"' in queue
    client.post("/keluar")
    login("reviewer")
    assert f'/usulan/{mine.id}"' in client.get("/antrian").get_data(as_text=True)


def test_a_reviewer_without_an_opd_sees_nothing(world):
    p = world.proposal("opd_evaluation")
    nobody = User(999, "tanpa-opd", "Tanpa OPD", None, True, {R.OPD_REVIEWER: None})
    assert proposals.can_view(nobody, p) is False
    assert proposals.scope_sql(nobody) == ("0", [])
    assert proposals.refusal(nobody, p, world.wf.get("recommend")) is not None


def test_other_applicant_cannot_see_or_touch_a_proposal(world, client, login):
    p = world.proposal("draft")
    login("applicant2")
    assert client.get(f"/usulan/{p.id}").status_code == 403
    assert client.get(f"/proposal/{p.id}/rab").status_code == 404
    assert client.post(f"/usulan/{p.id}/langkah/submit").status_code == 403
    assert proposals.get(world.conn, p.id).state == "draft"
