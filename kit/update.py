"""`kit update`: bring instances to a newer template version and to their current profile.

copier's own update re-renders the old version, clones the template several times and
replays a diff with hundreds of git calls: seconds per region. The kit gets the same result
from git's own machinery instead (the approach copier's maintainers discussed in copier
issue 1170):

- the branch `kit-pristine` of each instance holds pristine renders: the commit whose
  `.copier-answers.yml` equals the instance's is the render the instance is on (the base);
  when none does (an instance made by plain copier, or updated with plain `copier update`),
  that render is made once from the recorded `_commit` and answers;
- the new render (new version, current profile, current branding) becomes a child of the base;
- without local edits the instance simply takes the new tree; with local edits,
  `git merge-recursive BASE -- HEAD NEW` merges them, following upstream renames;
- copier `_migrations` of the versions crossed run before and after, as copier runs them;
- a clean result is committed as a merge of the new render ("Update template vX -> vY");
  a conflict leaves git's markers and unmerged index entries with MERGE_HEAD prepared, so
  `git commit` finishes it and `git merge --abort` abandons it.

The committed instance is what plain `copier update` would make, `.copier-answers.yml` included,
so plain copier keeps working in it. `--dry-run` runs the same steps in a throwaway clone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pathspec
import yaml

from kit import git, migrations, versions
from kit.errors import KitError
from kit.profile import Profile
from kit.regions import display_path
from kit.render import (
    PRISTINE_REF,
    TemplateSource,
    answers_tree,
    branding_files,
    profile_answers,
    render_tree,
)
from kit.renderer import Tree, read_settings
from kit.versions import TemplateRef
from kit.workspace import Workspace

UPDATED = "updated"
CURRENT = "already current"
CONFLICTED = "conflicted"
FAILED = "failed"
RESULTS = (UPDATED, CURRENT, CONFLICTED, FAILED)
ANSWERS = ".copier-answers.yml"


@dataclass
class Outcome:
    """What happened to one region."""

    slug: str
    result: str = FAILED
    path: str = ""
    from_version: str | None = None
    to_version: str | None = None
    profile_changed: bool = False
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    migrations: list[str] = field(default_factory=list)
    commit: str | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Job:
    """One region to update: its profile (None when invalid, with the problems) and instance."""

    slug: str
    instance: Path
    profile: Profile | None
    problems: list[str] = field(default_factory=list)


def update_one(
    ws: Workspace, source: TemplateSource, job: Job, target: TemplateRef, explicit: bool, dry_run: bool
) -> Outcome:
    """Update one instance; never raises: every failure becomes a `failed` outcome with its reason."""
    out = Outcome(job.slug, path=display_path(job.instance), to_version=target.described)
    try:
        _update(ws, source, job, target, explicit, dry_run, out)
    except KitError as exc:
        out.result, out.reason = FAILED, str(exc)
    except Exception as exc:  # one region's surprise must not stop the fleet; no traceback (personal data)
        out.result, out.reason = FAILED, f"{type(exc).__name__}: {exc}"
    return out


def _recorded_answers(inst: Path) -> dict:
    proc = git.run(inst, "show", f"HEAD:{ANSWERS}", check=False)
    if proc.returncode != 0:
        raise KitError(f"{display_path(inst)} has no committed {ANSWERS}: it was not rendered with kit new or copier")
    try:
        data = yaml.safe_load(proc.stdout)
    except yaml.YAMLError as exc:
        raise KitError(
            f"{display_path(inst)}/{ANSWERS} is not valid YAML ({exc}); restore it from git history"
        ) from None
    if not isinstance(data, dict) or not data.get("_commit"):
        raise KitError(
            f"{display_path(inst)}/{ANSWERS} records no template version (_commit); render it again with kit new"
        )
    return data


def _branding(inst: Path) -> dict:
    root = inst / "branding"
    return {f"branding/{rel}": f for rel, f in Tree.read(root).files.items()} if root.is_dir() else {}


def _update(
    ws: Workspace, source: TemplateSource, job: Job, target: TemplateRef, explicit: bool, dry_run: bool, out: Outcome
) -> None:
    inst = job.instance
    if job.profile is None:
        raise KitError("; ".join(job.problems) or f"regions/{job.slug}.yml is not valid; run kit validate")
    if not (inst / ".git").is_dir():
        raise KitError(f"no instance at {display_path(inst)}; render it first with `kit new {job.slug}`")
    if (inst / ".git" / "MERGE_HEAD").exists():
        raise KitError(
            f"an earlier update of {display_path(inst)} is unfinished: resolve its conflicts and `git commit`, "
            "or abandon it with `git merge --abort`"
        )
    recorded = _recorded_answers(inst)
    try:
        current = versions.resolve(source.repo, str(recorded["_commit"]))
    except KitError:
        raise KitError(
            f"the template version {recorded['_commit']} recorded in {display_path(inst)}/{ANSWERS} "
            f"is not in the template {source.url}"
        ) from None
    out.from_version = current.described
    desired = profile_answers(job.profile)
    out.profile_changed = recorded.get("region") != desired["region"] or _branding(inst) != branding_files(ws, job.slug)
    same_version = current.sha == target.sha
    if same_version and not out.profile_changed and recorded.get("_src_path") == source.url:
        out.result = CURRENT
        return
    if (
        not same_version
        and git.run(source.repo, "merge-base", "--is-ancestor", target.sha, current.sha, check=False).returncode == 0
    ):
        if not explicit and not out.profile_changed:
            out.result, out.reason = CURRENT, f"ahead of the newest release {target.described}"
            return
        raise KitError(
            f"{display_path(inst)} is at {current.described}, newer than {target.described}; updates never go back"
        )
    dirty = git.is_dirty(inst)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise KitError(
            f"{display_path(inst)} has uncommitted changes ({shown}); commit or stash them, then update again"
        )
    if dry_run:
        with _scratch_clone(inst) as clone:
            _apply(ws, source, job.profile, clone, recorded, current, target, out)
        out.commit = None
        return
    head = git.run(inst, "rev-parse", "HEAD").stdout.strip()
    try:
        _apply(ws, source, job.profile, inst, recorded, current, target, out)
    except BaseException:
        _roll_back(inst, head)
        raise


@contextmanager
def _scratch_clone(inst: Path) -> Iterator[Path]:
    """A throwaway full copy of the instance (no shared objects, so not even their timestamps change)."""
    tmp = Path(tempfile.mkdtemp(prefix="kit-dry-run-"))
    try:
        dest = tmp / inst.name
        git.run(tmp, "clone", "--quiet", "--no-hardlinks", "--no-tags", str(inst), str(dest))
        pristine = git.resolve_ref(inst, PRISTINE_REF)
        if pristine:
            git.run(dest, "update-ref", PRISTINE_REF, pristine)
        yield dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _roll_back(inst: Path, head: str) -> None:
    """Put the instance back as it was (it was clean when the update started)."""
    for name in ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE"):
        (inst / ".git" / name).unlink(missing_ok=True)
    git.run(inst, "update-ref", "HEAD", head, check=False)
    git.run(inst, "reset", "--quiet", "--hard", head, check=False)
    git.run(inst, "clean", "--quiet", "-fd", check=False)


def _find_base(repo: Path) -> str | None:
    """The pristine render whose answers file equals the instance's, if the branch holds one."""
    if git.resolve_ref(repo, PRISTINE_REF) is None:
        return None
    candidates = git.run(repo, "rev-list", "--max-count=64", PRISTINE_REF).stdout.split()
    query = "".join(f"{c}:{ANSWERS}\n" for c in ["HEAD", *candidates]).encode()
    lines = git.run_env(repo, {}, "cat-file", "--batch-check", input=query).stdout.decode().splitlines()
    head_blob = lines[0].split()[0]
    for commit, line in zip(candidates, lines[1:], strict=True):
        if line.split()[0] == head_blob and not line.endswith("missing"):
            return commit
    return None


def _apply(
    ws: Workspace,
    source: TemplateSource,
    profile: Profile,
    repo: Path,
    recorded: dict,
    current: TemplateRef,
    target: TemplateRef,
    out: Outcome,
) -> None:
    ident = git.identity_env(repo)
    head = git.run(repo, "rev-parse", "HEAD").stdout.strip()
    new_tree = render_tree(ws, source, target, profile)
    base = _find_base(repo)
    commits: list[tuple[dict, str | None, str]] = []
    if base is None:
        old_answers = {k: v for k, v in recorded.items() if not k.startswith("_")}
        old_tree = answers_tree(source, current, old_answers, profile.slug)
        old_tree.files.update(_branding(repo))
        commits.append(
            (old_tree.files, git.resolve_ref(repo, PRISTINE_REF), f"Pristine render: template {current.described}")
        )
    commits.append((new_tree.files, "-" if base is None else base, f"Pristine render: template {target.described}"))
    made = git.fast_import(repo, PRISTINE_REF, commits)
    base, new = base or made[0], made[-1]

    settings = read_settings(source.repo, target.sha)
    answers = profile_answers(profile)
    before = migrations.tasks(settings, "before", current, target)
    after = migrations.tasks(settings, "after", current, target)
    with _template_checkout(source, target, bool(before or after)) as template_dir:
        if before:
            out.migrations += migrations.run(before, repo, settings, answers, template_dir, target.sha)
            if git.is_dirty(repo):
                git.run(repo, "add", "-A")
                git.run_env(
                    repo,
                    ident,
                    "commit",
                    "--quiet",
                    "--no-verify",
                    "-m",
                    f"Run the migrations of template {target.described} before updating",
                )
                head = git.run(repo, "rev-parse", "HEAD").stdout.strip()
        _merge(repo, base, head, new, profile.slug, target)
        _keep_skipped(repo, head, new_tree, settings)
        if after:
            out.migrations += migrations.run(after, repo, settings, answers, template_dir, target.sha)

    unmerged = sorted(set(git.run(repo, "diff", "--name-only", "--diff-filter=U").stdout.split("\n")) - {""})
    message = _message(profile, current, target, out.profile_changed)
    if not unmerged:
        git.run(repo, "add", "-A")
        tree = git.run(repo, "write-tree").stdout.strip()
        commit = (
            git.run_env(repo, ident, "commit-tree", tree, "-p", head, "-p", new, "-F", "-", input=message.encode())
            .stdout.decode()
            .strip()
        )
        git.run(repo, "update-ref", "-m", f"kit update: {message}", "HEAD", commit, head)
        out.result, out.commit = UPDATED, commit
        out.changed = _lines(git.run(repo, "diff-tree", "-r", "--no-commit-id", "--name-only", head, commit).stdout)
        return
    others = _lines(git.run(repo, "ls-files", "--modified", "--others", "--exclude-standard").stdout)
    to_stage = [p for p in others if p not in unmerged]
    if to_stage:
        git.run(repo, "add", "-A", "--", *to_stage)
    git_dir = repo / ".git"
    (git_dir / "MERGE_HEAD").write_text(new + "\n")
    (git_dir / "MERGE_MODE").write_text("no-ff")
    (git_dir / "MERGE_MSG").write_text(message + "\n\n# Conflicts:\n" + "".join(f"#\t{p}\n" for p in unmerged))
    git.run(repo, "update-ref", "ORIG_HEAD", head)
    out.result, out.conflicts = CONFLICTED, unmerged
    out.changed = _lines(git.run(repo, "diff", "--name-only", head).stdout)


def _lines(text: str) -> list[str]:
    return sorted({line for line in text.splitlines() if line})


def _template_checkout(source: TemplateSource, ref: TemplateRef, needed: bool) -> AbstractContextManager[Path]:
    return migrations.checkout(source.repo, ref.sha) if needed else nullcontext(Path(os.devnull))


def _merge(repo: Path, base: str, head: str, new: str, slug: str, target: TemplateRef) -> None:
    """Bring the new render into the working tree and index: a switch, or a 3-way merge."""
    trees = git.run(repo, "rev-parse", f"{base}^{{tree}}", f"{head}^{{tree}}").stdout.split()
    if trees[0] == trees[1]:  # no local edits: no merge needed
        git.run(repo, "read-tree", "-m", "-u", head, new)
        return
    labels = {f"GITHEAD_{head}": f"{slug} (local edits)", f"GITHEAD_{new}": f"template {target.described}"}
    proc = git.run_env(repo, labels, "merge-recursive", base, "--", head, new, check=False)
    if proc.returncode not in (0, 1):
        lines = (proc.stderr or proc.stdout).decode(errors="replace").strip().splitlines()
        raise KitError(f"git could not merge the update: {lines[-1] if lines else 'merge-recursive failed'}")


def _keep_skipped(repo: Path, head: str, new_tree: Tree, settings: dict) -> None:
    """copier never overwrites a `_skip_if_exists` file the instance has: keep the instance's."""
    patterns = settings.get("skip_if_exists") or []
    if not patterns:
        return
    spec = pathspec.PathSpec.from_lines("gitwildmatch", [str(p) for p in patterns])
    candidates = [p for p in new_tree.files if spec.match_file(p)]
    if not candidates:
        return
    present = _lines(git.run(repo, "ls-tree", "-r", "--name-only", head, "--", *candidates).stdout)
    if present:
        git.run(repo, "checkout", head, "--", *present)


def _message(profile: Profile, current: TemplateRef, target: TemplateRef, profile_changed: bool) -> str:
    if current.sha != target.sha:
        subject = f"Update template {current.described} -> {target.described}"
        return subject + (f"\n\nAlso brings the changes of regions/{profile.slug}.yml." if profile_changed else "")
    return f"Update {profile.name} from regions/{profile.slug}.yml (template {target.described})"


def update_many(
    ws: Workspace,
    source: TemplateSource,
    jobs: Iterable[Job],
    target: TemplateRef,
    explicit: bool,
    dry_run: bool,
    workers: int,
    progress: Callable[[Outcome], None] = lambda o: None,
) -> list[Outcome]:
    """Update every job, each region alone in its own repository, in parallel processes.

    A region's failure or conflict never touches another; results come back in job order.
    """
    jobs = list(jobs)
    if workers <= 1 or len(jobs) <= 1:
        results = []
        for job in jobs:
            results.append(update_one(ws, source, job, target, explicit, dry_run))
            progress(results[-1])
        return results
    by_slug: dict[str, Outcome] = {}
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        futures = {pool.submit(update_one, ws, source, job, target, explicit, dry_run): job for job in jobs}
        for fut in as_completed(futures):
            job = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # the worker process itself died
                outcome = Outcome(job.slug, path=display_path(job.instance), reason=f"the update process died: {exc}")
            by_slug[job.slug] = outcome
            progress(outcome)
    return [by_slug[job.slug] for job in jobs]
