"""The profile's workflow section and the app's workflow table name the same actions and roles."""

from __future__ import annotations

import sys
import typing

from conftest import ROOT
from kit import profile

sys.path.insert(0, str(ROOT / "template" / "src"))
from hibahbansos import roles as app_roles  # noqa: E402
from hibahbansos.hibah import workflow as app_workflow  # noqa: E402


def test_profile_actions_are_the_apps_staff_actions():
    assert list(typing.get_args(profile.WorkflowAction)) == list(app_workflow.STAFF_ACTIONS)


def test_profile_roles_are_the_apps_staff_roles_except_the_read_only_inspector():
    expected = [
        code
        for code, role in app_roles.ROLES.items()
        if role.staff and code not in (app_roles.INSPECTOR, app_roles.BANSOS_OFFICER, app_roles.BANSOS_APPROVER)
    ]
    assert list(typing.get_args(profile.StaffRole)) == expected


def test_workflow_defaults_in_the_profile_build_the_default_workflow():
    settings = profile.Workflow().model_dump(mode="json")
    wf = app_workflow.build(settings)
    assert [t.action for t in wf.transitions] == [t.action for t in app_workflow.build(None).transitions]
    assert (wf.max_tranches, wf.ageing_warn_days, wf.ageing_alert_days) == (3, 14, 30)
