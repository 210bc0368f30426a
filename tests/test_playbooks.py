"""The playbooks parse, and pass ansible-lint (production profile) and yamllint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent
PLAYBOOKS = ROOT / "playbooks"
ENTRY_POINTS = sorted(p.name for p in PLAYBOOKS.glob("*.yml"))


def test_every_command_has_its_playbook():
    assert ENTRY_POINTS == ["backup.yml", "restore.yml", "rollback.yml", "site.yml"]


@pytest.mark.parametrize("playbook", ENTRY_POINTS)
def test_syntax_check(playbook, tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  children:\n    regions:\n      hosts:\n        example: {}\n")
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "--syntax-check", "-i", str(inventory), playbook],
        cwd=PLAYBOOKS, capture_output=True, text=True,
        env={**os.environ, "ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"playbook: {playbook}" in proc.stdout


@pytest.mark.slow
def test_ansible_lint_production_profile():
    proc = subprocess.run(
        [str(BIN / "ansible-lint"), "--offline", "--nocolor", "playbooks"],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "NO_COLOR": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "Profile 'production' was required, and it passed" in proc.stderr + proc.stdout


def test_yamllint():
    proc = subprocess.run(
        [str(BIN / "yamllint"), "--strict", "--format", "parsable", "playbooks", ".yamllint", ".ansible-lint"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout
