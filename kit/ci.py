"""The fleet's CI: which regions a change touches, and each region rendered and tested with its own tests.

A change to the template, copier.yml, the kit or its dependencies can change every region, so
all of them are rendered and tested; a change to profiles or assets only touches those regions.
CI splits the regions into shards (`--shard 2/4`), each a parallel job of the workflow.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kit import git
from kit.errors import KitError, UsageError
from kit.profile import Profile
from kit.render import TemplateSource, render_tree
from kit.versions import TemplateRef
from kit.workspace import Workspace

# Paths (relative to the fleet repository) whose change can change every region
EVERY_REGION = ("template/", "copier.yml", "kit/", "pyproject.toml", "migrations/")


@dataclass
class Plan:
    """The regions to render and test, and why."""

    regions: list[str]
    every: bool
    reason: str

    def as_dict(self) -> dict:
        return {"regions": self.regions, "every": self.every, "reason": self.reason}


def plan(regions_dir: Path, base: str | None) -> Plan:
    """What a change since `base` (a git ref of the fleet repository) needs tested; every region without one.

    Raises KitError when the regions folder is not inside a git repository.
    """
    everyone = sorted(p.stem for p in regions_dir.glob("*.yml") if not p.name.startswith("."))
    if not base or set(base) == {"0"}:  # no base: a first push, or a manual run
        return Plan(everyone, True, "no base to compare with")
    top = git.run(regions_dir, "rev-parse", "--show-toplevel", check=False)
    if top.returncode != 0:
        raise KitError(f"{regions_dir} is not in a git repository; ci plan compares git commits")
    repo = Path(top.stdout.strip())
    if git.resolve_ref(repo, base) is None:
        return Plan(everyone, True, f"base {base} is unknown here (a shallow clone?); testing every region")
    changed = git.run(repo, "diff", "--name-only", f"{base}...HEAD").stdout.split()
    shared = [p for p in changed if p.startswith(EVERY_REGION)]
    if shared:
        return Plan(
            everyone,
            True,
            f"{shared[0]} changed" + (f" (and {len(shared) - 1} more shared files)" if len(shared) > 1 else ""),
        )
    prefix = regions_dir.resolve().relative_to(repo.resolve()).as_posix() + "/"
    touched = set()
    for path in changed:
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :]
        if rest.endswith(".yml") and "/" not in rest:
            touched.add(rest[:-4])
        elif rest.startswith("assets/") and rest.count("/") >= 2:
            touched.add(rest.split("/")[1])
    regions = sorted(s for s in touched if s in everyone)
    return Plan(regions, False, f"{len(regions)} profile(s) changed" if regions else "no region changed")


def shard(regions: list[str], spec: str | None) -> list[str]:
    """The share of `regions` for shard "I/N" (1-based, as GitLab's CI_NODE_INDEX). Raises UsageError."""
    if not spec:
        return regions
    try:
        index, total = (int(x) for x in spec.split("/"))
    except ValueError:
        raise UsageError(f"--shard {spec!r} must look like 2/4 (this job, of how many)") from None
    if not 1 <= index <= total:
        raise UsageError(f"--shard {spec}: the job number must be between 1 and {total}")
    return regions[index - 1 :: total]


@dataclass
class Tested:
    slug: str
    ok: bool
    summary: str
    output: str = ""


def test_region(ws: Workspace, source: TemplateSource, ref: TemplateRef, profile: Profile) -> Tested:
    """Render the region into a temporary folder and run the app's own tests there with this Python."""
    with tempfile.TemporaryDirectory(prefix=f"kit-ci-{profile.slug}-") as tmp:
        inst, data = Path(tmp) / profile.slug, Path(tmp) / "data"
        inst.mkdir()
        render_tree(ws, source, ref, profile).write(inst)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HIBAHBANSOS_")}
        env.update(
            PYTHONPATH=str(inst / "src"),
            HIBAHBANSOS_HOME=str(inst),
            HIBAHBANSOS_DATA=str(data),
            HIBAHBANSOS_SECRET_KEY=secrets.token_urlsafe(32),  # throwaway: each CI run its own
            HIBAHBANSOS_AUDIT_KEY=secrets.token_urlsafe(32),
        )
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=inst,
            env=env,
            capture_output=True,
            text=True,
        )
    lines = [line for line in proc.stdout.strip().splitlines() if line.strip()]
    summary = lines[-1].strip("= ") if lines else f"pytest exited {proc.returncode}"
    return Tested(profile.slug, proc.returncode == 0, summary, proc.stdout[-6000:] + proc.stderr[-2000:])
