"""Fixtures of the bansos tests (loaded with `pytest_plugins = ["bansos_fixtures"]`).

When the region's profile lacks a programme of some kind (say, no bansos in goods), the
`region` fixture adds a test programme of that kind, so the tests still exercise every path
against the region's own districts and villages.
"""

from __future__ import annotations

import copy

import pytest
from bansos_helpers import PASSWORD

from hibahbansos import roles as R
from hibahbansos.region import Region


def _test_programme(code: str, form: str, recipients: list[str], ceiling: int = 900_000_000) -> dict:
    return {
        "code": code,
        "name": f"Program Uji {code}",
        "budget_line": "5.1.06.03.09.0001",
        "ceiling": ceiling,
        "planned": True,
        "form": form,
        "amount_per_recipient": 300_000,
        "goods": "Paket sembako uji" if form == "goods" else None,
        "recipients": recipients,
        "opd": None,
    }


@pytest.fixture
def region(app) -> Region:
    """This instance's region, with a test programme for each kind the profile lacks."""
    data = copy.deepcopy(app.extensions["hibahbansos.region"].data)
    progs = data["programmes"]["bansos"]
    opd = data["opd"][0]["code"]
    wanted = [
        ("UJI-INDIVIDU", "money", ["individual"], lambda p: "individual" in p["recipients"]),
        ("UJI-KELUARGA", "money", ["family"], lambda p: "family" in p["recipients"]),
        (
            "UJI-BARANG",
            "goods",
            ["individual", "family", "group"],
            lambda p: p["form"] == "goods" and "group" in p["recipients"],
        ),
    ]
    for code, form, recipients, present in wanted:
        if not any(present(p) for p in progs):
            progs.append({**_test_programme(code, form, recipients), "opd": opd})
    if sum("individual" in p["recipients"] for p in progs) < 2:
        progs.append({**_test_programme("UJI-INDIVIDU-2", "money", ["individual"]), "opd": opd})
    found = Region(data)
    app.extensions["hibahbansos.region"] = found
    return found


@pytest.fixture
def staff(make_user) -> dict[str, int]:
    """An officer, an approver, an inspector, someone with both bansos roles, and an applicant."""
    return {
        "petugas": make_user("petugas", {R.BANSOS_OFFICER: None})[0],
        "pengesah": make_user("pengesah", {R.BANSOS_APPROVER: None})[0],
        "auditor": make_user("auditor", {R.INSPECTOR: None})[0],
        "rangkap": make_user("rangkap", {R.BANSOS_OFFICER: None, R.BANSOS_APPROVER: None})[0],
        "warga": make_user("warga", {R.APPLICANT: None})[0],
    }


@pytest.fixture
def login_as(client, staff):
    def _login(username: str) -> None:
        client.post("/keluar")
        res = client.post("/masuk", data={"username": username, "password": PASSWORD})
        assert res.status_code == 302, f"login as {username} failed"

    return _login
