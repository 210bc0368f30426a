"""Rendering many regions at once (CI, benchmarks): one process per core, each template version read once."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from kit.errors import KitError
from kit.profile import Profile
from kit.render import TemplateSource, render_tree
from kit.versions import TemplateRef
from kit.workspace import Workspace


def _render_chunk(
    ws: Workspace, source: TemplateSource, ref: TemplateRef, profiles: list[Profile], dest: Path
) -> list[tuple[str, str]]:
    failures = []
    for profile in profiles:
        target = dest / profile.slug
        try:
            tree = render_tree(ws, source, ref, profile)
            target.mkdir(parents=True, exist_ok=True)
            tree.write(target)
        except KitError as exc:
            failures.append((profile.slug, str(exc)))
    return failures


def render_many(
    ws: Workspace, source: TemplateSource, ref: TemplateRef, profiles: list[Profile], dest: Path, workers: int
) -> list[tuple[str, str]]:
    """Render each profile into dest/<slug>; returns (slug, reason) for each failure."""
    dest.mkdir(parents=True, exist_ok=True)
    workers = max(1, min(workers, len(profiles)))
    if workers == 1:
        return _render_chunk(ws, source, ref, profiles, dest)
    chunks = [profiles[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = pool.map(_render_chunk, *zip(*[(ws, source, ref, c, dest) for c in chunks], strict=True))
        return [f for chunk in results for f in chunk]
