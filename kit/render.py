"""Rendering a region's instance from its profile: `kit new`, pristine renders, CI renders.

`kit new` renders one region with copier's Python API into a hidden sibling folder, adds the
branding, commits to a fresh git repository, and only then renames it into place: a failure at
any point (bad ref, copier error, git missing, Ctrl+C) leaves nothing behind. The bulk paths
(`kit update`, `kit render` for CI) render with `kit.renderer`, which produces exactly what
`copier copy` makes (tests compare the two for every region) in milliseconds, and falls back
to copier itself for a template feature it does not reproduce.

Each instance keeps the pristine render of the version and profile it is on as the branch
`kit-pristine` (its first commit is the render itself); `kit update` merges the next pristine
render into the instance with git's own 3-way merge (see kit/update.py).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from kit import git
from kit.errors import KitError, RenderError
from kit.profile import Profile
from kit.renderer import File, TemplateVersion, Tree, Unsupported
from kit.versions import TemplateRef
from kit.workspace import Workspace

PRISTINE_REF = "refs/heads/kit-pristine"


@dataclass(frozen=True)
class Rendered:
    path: Path
    template_commit: str | None
    instance_commit: str
    warnings: tuple[str, ...] = ()


def profile_answers(profile: Profile) -> dict:
    """The copier answers for a profile: the whole normalised profile as one `region` answer."""
    return {"region": profile.model_dump(mode="json")}


@dataclass(frozen=True)
class TemplateSource:
    """The template as copier records it (`url`, its `_src_path`) and a local git repository of it."""

    url: str
    repo: Path

    @classmethod
    def open(cls, ws: Workspace) -> TemplateSource:
        """The workspace's template; a remote one is cloned once into a temporary folder.

        Raises KitError when the template is not a git repository or cannot be cloned.
        """
        if ws.template_is_local:
            repo = Path(ws.template)
            if not (repo / "copier.yml").is_file():
                raise KitError(f"{repo} is not the template: it has no copier.yml; set KIT_TEMPLATE or --template")
            if not git.is_repo(repo):
                raise KitError(f"{repo} is not a git repository: instances rendered from it cannot be updated")
            return cls(ws.template, repo)
        return cls(ws.template, _clone(ws.template))


_clones: dict[str, Path] = {}


def _clone(url: str) -> Path:
    if url not in _clones:
        tmp = Path(tempfile.mkdtemp(prefix="kit-template-"))
        atexit.register(shutil.rmtree, tmp, True)
        proc = git.run(tmp, "clone", "--quiet", "--bare", url, str(tmp / "repo.git"), check=False)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            raise KitError(f"cannot clone the template {url}: {lines[-1] if lines else 'git clone failed'}")
        _clones[url] = tmp / "repo.git"
    return _clones[url]


_versions: dict[tuple[str, str, str], TemplateVersion | None] = {}


def template_version(source: TemplateSource, ref: TemplateRef) -> TemplateVersion | None:
    """The template at `ref`, read once per process; None when copier itself must render it."""
    key = (source.url, ref.sha, ref.described)
    if key not in _versions:
        try:
            _versions[key] = TemplateVersion.load(source.repo, source.url, ref)
        except Unsupported:
            _versions[key] = None
    return _versions[key]


def branding_files(ws: Workspace, slug: str) -> dict[str, File]:
    """regions/assets/<slug>/ as the instance's branding/ files."""
    root = ws.assets / slug
    if not root.is_dir():
        return {}
    tree = Tree.read(root)
    return {f"branding/{rel}": f for rel, f in tree.files.items()}


def answers_tree(source: TemplateSource, ref: TemplateRef, answers: dict, slug: str) -> Tree:
    """The template at `ref` rendered from `answers`: in process when it can, else by copier."""
    version = template_version(source, ref)
    if version is not None:
        try:
            return version.render(answers)
        except Unsupported:
            pass
    return copier_tree(source.url, ref.sha, answers, slug)


def render_tree(ws: Workspace, source: TemplateSource, ref: TemplateRef, profile: Profile) -> Tree:
    """The instance `kit new` makes for `profile` at `ref`, in memory. Raises RenderError."""
    tree = answers_tree(source, ref, profile_answers(profile), profile.slug)
    for rel in [p for p in tree.files if p.startswith("branding/")]:
        del tree.files[rel]
    tree.files.update(branding_files(ws, profile.slug))
    return tree


def copier_tree(url: str, sha: str, answers: dict, slug: str) -> Tree:
    """What copier itself renders for `answers` at `sha`, read back into memory. Raises RenderError."""
    with tempfile.TemporaryDirectory(prefix="kit-copier-") as tmp:
        dest = Path(tmp) / slug
        _run_copier(url, dest, answers, sha, slug)
        return Tree.read(dest)


def resolve_template_ref(ws: Workspace, ref: str | None) -> tuple[str | None, list[str]]:
    """The commit to render: `ref` when given, else the newest release tag, else HEAD.

    Raises KitError when `ref` does not exist. Uncommitted template changes are never
    rendered: copier would record a throwaway commit that later updates cannot find.
    """
    notes: list[str] = []
    if not ws.template_is_local:
        repo = _clone(ws.template)
        wanted = ref or "HEAD"
        commit = git.resolve_ref(repo, wanted)
        if commit is None:
            raise KitError(f"template ref {wanted!r} does not exist in {ws.template}")
        return commit, notes
    src = Path(ws.template)
    if not (src / "copier.yml").is_file():
        raise KitError(f"{src} is not the template: it has no copier.yml; set KIT_TEMPLATE or --template")
    if not git.is_repo(src):
        if ref:
            raise KitError(f"--ref {ref} needs a git repository, but {src} is not one")
        notes.append(f"{src} is not a git repository: the instance can be rendered but never updated")
        return None, notes
    if ref is None:
        # As copier does: the newest release (highest PEP 440 tag), or HEAD without tags.
        from kit.versions import newest

        latest = newest(src)
        head = git.resolve_ref(src, "HEAD")
        if latest.sha != head:
            notes.append(
                f"rendering the newest release {latest.described}; the template has newer commits "
                "(pass --ref HEAD to render them)"
            )
            return latest.sha, notes
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
    _run_copier(ws.template, dest, profile_answers(profile), vcs_ref, profile.slug)
    copy_branding(ws, profile.slug, dest)


def _run_copier(url: str, dest: Path, answers: dict, vcs_ref: str | None, slug: str) -> None:
    from copier import run_copy

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run_copy(
                url,
                dest,
                data=answers,
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
        raise RenderError(f"copier could not render {slug}: {type(exc).__name__}: {exc}") from None


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
        # One region: copier itself renders it (kit.renderer, byte-identical, serves the bulk paths).
        render_into(ws, profile, staging, commit)
        git.init(staging)
        label = (commit or "working tree")[:12]
        instance_commit = git.commit_all(staging, f"Render {profile.name} from template {label}")
        if commit is not None:
            git.run(staging, "update-ref", PRISTINE_REF, instance_commit)
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
