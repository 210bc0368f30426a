"""Helpers for the fleet tests: tagged template versions, many valid profiles, instances.

Instances are rendered in-process through the same function `kit new` runs, to keep the suite
fast; the commands under test always run as the real `kit` console script.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import yaml

from conftest import GIT_IDENTITY, REGIONS, git, snapshot_template

ROOT = Path(__file__).resolve().parents[1]

# Eleven kabupaten of Jawa Barat (one province, one time zone): slug, official name, kode
FLEET = [
    ("bogor", "Kabupaten Bogor", "32.01"),
    ("sukabumi", "Kabupaten Sukabumi", "32.02"),
    ("cianjur", "Kabupaten Cianjur", "32.03"),
    ("bandung", "Kabupaten Bandung", "32.04"),
    ("garut", "Kabupaten Garut", "32.05"),
    ("tasikmalaya", "Kabupaten Tasikmalaya", "32.06"),
    ("ciamis", "Kabupaten Ciamis", "32.07"),
    ("kuningan", "Kabupaten Kuningan", "32.08"),
    ("cirebon", "Kabupaten Cirebon", "32.09"),
    ("majalengka", "Kabupaten Majalengka", "32.10"),
    ("sumedang", "Kabupaten Sumedang", "32.11"),
]


def versioned_template(dest: Path, tag: str = "v0.1.0") -> Path:
    """A git snapshot of this checkout's template (and migrations/ helpers), tagged `tag`."""
    repo = snapshot_template(dest)
    shutil.copytree(ROOT / "migrations", repo / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "migration helpers")
    git(repo, "tag", tag)
    return repo


def release(repo: Path, tag: str, edits: dict[str, str | None], message: str = "release") -> None:
    """Commit `edits` (path -> new text, or None to delete) to the template and tag them."""
    for rel, text in edits.items():
        path = repo / rel
        if text is None:
            git(repo, "rm", "-q", rel)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    git(repo, "tag", tag)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def fleet_profiles(regions: Path, count: int = len(FLEET), server: str | None = None) -> list[str]:
    """Write `count` valid profiles (from tasikmalaya's) with their logos; returns the slugs.

    Without `server` the profiles have no server section (no test ever reaches a real host);
    with `server` ("host:port") every profile points there.
    """
    base = (REGIONS / "tasikmalaya.yml").read_text()
    base = base[: base.index("\nserver:")] + "\n"
    (regions / "assets").mkdir(parents=True, exist_ok=True)
    slugs = []
    for slug, name, kode in FLEET[:count]:
        text = base
        text = re.sub(r"(?m)^slug: .*$", f"slug: {slug}", text)
        text = re.sub(r"(?m)^name: .*$", f"name: {name}", text)
        text = re.sub(r"(?m)^kode: .*$", f'kode: "{kode}"', text)
        text = re.sub(r"(?m)^  domain: .*$", f"  domain: hibahbansos.{slug}kab.go.id", text)
        text = text.replace("Kabupaten Tasikmalaya", name)
        if server:
            host, port = server.split(":")
            text += f"\nserver:\n  host: {host}\n  port: {port}\n  user: deploy\n"
        (regions / f"{slug}.yml").write_text(text)
        shutil.copytree(REGIONS / "assets" / "tasikmalaya", regions / "assets" / slug, dirs_exist_ok=True)
        slugs.append(slug)
    return slugs


def workspace(template: Path, regions: Path, instances: Path):
    from kit.workspace import Workspace

    return Workspace.from_env(str(template), regions, instances)


def render_instances(template: Path, regions: Path, instances: Path, slugs: list[str], ref: str = "v0.1.0") -> None:
    """`kit new` for each slug, in this process (the same function the command runs)."""
    from kit.regions import load_one
    from kit.render import _versions, new_instance

    saved = {k: os.environ.get(k) for k in GIT_IDENTITY}
    os.environ.update(GIT_IDENTITY)
    try:
        ws = workspace(template, regions, instances)
        for slug in slugs:
            new_instance(ws, load_one(regions, slug), instances / slug, ref)
    finally:
        _versions.clear()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def commit_edit(instance: Path, rel: str, old: str, new: str, message: str = "local edit") -> None:
    edit(instance / rel, old, new)
    git(instance, "commit", "-qam", message)


def answers(instance: Path) -> dict:
    return yaml.safe_load((instance / ".copier-answers.yml").read_text())


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under root (.git included) with its mtime and bytes: to prove nothing changed."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = (p.stat().st_mtime_ns, p.read_bytes())
    return out
