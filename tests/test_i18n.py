"""Every UI string of the app has its English translation, and the compiled catalog is current."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_every_string_has_english_and_the_mo_is_fresh():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "i18n.py"), "check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
