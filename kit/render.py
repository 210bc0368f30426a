"""`kit new`: render a region's instance from its profile with Copier, atomically.

The instance is rendered into a hidden sibling folder, given its branding, committed to a
fresh git repository, and only then renamed into place: a failure at any point (bad ref,
copier error, git missing, Ctrl+C) leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from kit import git
from kit.errors import KitError, RenderError
from kit.profile import Profile
from kit.workspace import Workspace


@dataclass(frozen=True)
class Rendered:
    path: Path
    template_commit: str | None
    instance_commit: str
    warnings: tuple[str, ...] = ()


def profile_answers(profile: Profile) -> dict:
    """The copier answers for a profile: the whole normalised profile as one `region` answer."""
    return {"region": profile.model_dump(mode="json")}


def resolve_template_ref(ws: Workspace, ref: str | None) -> tuple[str | None, list[str]]:
    """The commit to render: `ref` when given, else the template's HEAD commit.

    Raises KitError when `ref` does not exist. Uncommitted template changes are never
    rendered: copier would record a throwaway commit that later updates cannot find.
    """
    notes: list[str] = []
    if not ws.template_is_local:
        return ref, notes  # a remote template: copier resolves (and reports) the ref
    src = Path(ws.template)
    if not (src / "copier.yml").is_file():
        raise KitError(f"{src} is not the template: it has no copier.yml; set KIT_TEMPLATE or --template")
    if not git.is_repo(src):
        if ref:
            raise KitError(f"--ref {ref} needs a git repository, but {src} is not one")
        notes.append(f"{src} is not a git repository: the instance can be rendered but never updated")
        return None, notes
    wanted = ref or "HEAD"
    commit = git.resolve_ref(src, wanted)
    if commit is None:
        known = sorted(git.tags(src))[-8:]
        hint = f"; known tags: {', '.join(known)}" if known else "; the template has no tags yet"
        raise KitError(f"template ref {wanted!r} does not exist in {src}{hint}")
    if ref is None:
        dirty = git.is_dirty(src, ("copier.yml", "template"))
        if dirty:
            notes.append(
                f"the template has uncommitted changes ({', '.join(dirty[:3])}{'...' if len(dirty) > 3 else ''}); "
                f"rendering the last commit {commit[:10]}: commit them to include them"
            )
    return commit, notes


def copy_branding(ws: Workspace, slug: str, dest: Path) -> None:
    """Copy regions/assets/<slug>/ into the instance's branding/ folder."""
    source = ws.assets / slug
    target = dest / "branding"
    if target.exists():
        shutil.rmtree(target)
    if source.is_dir():
        shutil.copytree(source, target)


def render_into(ws: Workspace, profile: Profile, dest: Path, vcs_ref: str | None) -> None:
    """Run copier for `profile` into the empty folder `dest` (no git commit)."""
    from copier import run_copy

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run_copy(
                ws.template,
                dest,
                data=profile_answers(profile),
                vcs_ref=vcs_ref,
                defaults=True,
                overwrite=True,
                quiet=True,
                unsafe=False,
                cleanup_on_error=False,
            )
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # copier raises many types; all mean the same thing here
        raise RenderError(f"copier could not render {profile.slug}: {type(exc).__name__}: {exc}") from None
    copy_branding(ws, profile.slug, dest)


def new_instance(ws: Workspace, profile: Profile, dest: Path, ref: str | None = None) -> Rendered:
    """Render, commit and move into place. Raises KitError; leaves nothing on failure."""
    git.require_git()
    dest = dest.expanduser().absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise KitError(f"{dest} already exists and is not empty; choose another --dest or remove it")
    commit, notes = resolve_template_ref(ws, ref)
    created_parents = [p for p in reversed(dest.parents) if not p.exists()]
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.rendering-", dir=dest.parent))
    try:
        render_into(ws, profile, staging, commit)
        git.init(staging)
        label = (commit or "working tree")[:12]
        instance_commit = git.commit_all(staging, f"Render {profile.name} from template {label}")
        if dest.exists():
            dest.rmdir()  # empty, checked above
        os.rename(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for parent in reversed(created_parents):
            try:
                parent.rmdir()
            except OSError:
                break
        raise
    return Rendered(dest, commit, instance_commit, tuple(notes))
