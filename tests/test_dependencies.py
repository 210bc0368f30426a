"""The kit's test extras carry everything a rendered instance needs to run its own tests.

The kit's tests run each rendered instance's suite with this virtualenv's packages (see
`conftest.instance_env`), so a package added to the template's dependencies or test extras
but not to the kit's test extras passes on a developer machine that happens to have it and
fails on a fresh CI machine. This test catches that drift before CI does.
"""

from __future__ import annotations

import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT


def _names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def test_kit_test_extras_cover_the_app_and_its_tests():
    kit = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    app = tomllib.loads((ROOT / "template" / "pyproject.toml").read_text())["project"]
    have = _names(kit["dependencies"]) | _names(kit["optional-dependencies"]["test"])
    need = _names(app["dependencies"]) | _names(app["optional-dependencies"]["test"])
    missing = sorted(need - have)
    assert not missing, (
        f"pyproject.toml: [project.optional-dependencies].test lacks {', '.join(missing)}, "
        "which template/pyproject.toml needs; add them so the kit's tests can run instances"
    )
