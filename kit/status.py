"""`kit status` and `kit diff`: where each region stands against upstream and its own profile.

Local customisations are measured against a pristine render of the version the instance is
on, with the answers it recorded: the render is made in memory (milliseconds) and compared
with the instance's files (tracked and untracked, ignored files left out), so the numbers hold
whatever the instance's git history looks like, and nothing in the instance is written.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from kit import git, versions
from kit.errors import KitError
from kit.profile import Profile
from kit.regions import display_path
from kit.render import TemplateSource, answers_tree, branding_files, profile_answers
from kit.renderer import File
from kit.update import ANSWERS, _find_base
from kit.versions import TemplateRef
from kit.workspace import Workspace


@dataclass
class Standing:
    """One region's row of `kit status`."""

    slug: str
    instance: str = ""
    rendered: str | None = None  # the template version the instance is on
    newest: str | None = None
    behind: bool | None = None
    profile_changed: bool | None = None
    local_files: int | None = None
    changed_files: list[str] = field(default_factory=list)
    note: str = ""
    deployed: dict | None = None  # filled by kit.receipts

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Comparison:
    """An instance against its pristine render."""

    recorded: dict
    ref: TemplateRef
    pristine: dict[str, File]
    actual: dict[str, File]
    pristine_branding: dict[str, File]

    @property
    def changed(self) -> list[str]:
        return sorted(p for p in set(self.pristine) | set(self.actual) if self.pristine.get(p) != self.actual.get(p))


def _recorded(inst: Path) -> dict:
    proc = git.run(inst, "show", f"HEAD:{ANSWERS}", check=False)
    text = proc.stdout if proc.returncode == 0 else None
    if text is None:
        raise KitError(f"{display_path(inst)} is not a rendered instance: no committed {ANSWERS}")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not data.get("_commit"):
        raise KitError(f"{display_path(inst)}/{ANSWERS} records no template version (_commit)")
    return data


def compare(ws: Workspace, source: TemplateSource, slug: str, inst: Path) -> Comparison:
    """The instance's files and its pristine render side by side. Raises KitError."""
    if not (inst / ".git").is_dir():
        raise KitError(f"no instance at {display_path(inst)}; render it with `kit new {slug}`")
    recorded = _recorded(inst)
    try:
        ref = versions.resolve(source.repo, str(recorded["_commit"]))
    except KitError:
        raise KitError(
            f"template version {recorded['_commit']} of {display_path(inst)} is not in {source.url}"
        ) from None
    answers = {k: v for k, v in recorded.items() if not k.startswith("_")}
    tree = answers_tree(source, ref, answers, slug)
    pristine = {p: f for p, f in tree.files.items() if not p.startswith("branding/")}
    # the branding the kit last put there: from the pristine render when the branch has it
    base = _find_base(inst)
    if base is not None:
        branding = {p: File(data, exe) for p, (data, exe) in git.read_blobs(inst, base, ("branding",)).items()}
    else:
        branding = branding_files(ws, slug)
    pristine.update(branding)
    listed = git.run(inst, "ls-files", "-z", "--cached", "--others", "--exclude-standard").stdout.split("\0")
    actual = {}
    for rel in dict.fromkeys(p for p in listed if p):
        path = inst / rel
        if path.is_file() and not path.is_symlink():
            actual[rel] = File(path.read_bytes(), bool(path.stat().st_mode & 0o100))
    return Comparison(recorded, ref, pristine, actual, branding)


def standing(
    ws: Workspace, source: TemplateSource, slug: str, profile: Profile | None, newest: TemplateRef
) -> Standing:
    """One region's status row; never raises (a problem becomes the row's note)."""
    inst = ws.instance(slug)
    row = Standing(slug, instance=display_path(inst), newest=newest.described)
    if not (inst / ANSWERS).is_file():
        row.note = "not rendered"
        return row
    try:
        cmp = compare(ws, source, slug, inst)
    except KitError as exc:
        row.note = str(exc)
        return row
    row.rendered = cmp.ref.described
    row.behind = cmp.ref.sha != newest.sha and (
        git.run(source.repo, "merge-base", "--is-ancestor", cmp.ref.sha, newest.sha, check=False).returncode == 0
    )
    changed = cmp.changed
    row.local_files, row.changed_files = len(changed), changed
    if profile is None:
        row.note = "profile invalid: run kit validate"
    else:
        row.profile_changed = cmp.recorded.get("region") != profile_answers(profile)[
            "region"
        ] or cmp.pristine_branding != branding_files(ws, slug)
    return row


def unified(cmp: Comparison) -> str:
    """The local customisations as a git-style unified diff (a: pristine render, b: the instance)."""
    chunks = []
    for rel in cmp.changed:
        old, new = cmp.pristine.get(rel), cmp.actual.get(rel)
        head = f"diff --git a/{rel} b/{rel}\n"
        if old is not None and new is not None and old.executable != new.executable:
            head += f"old mode {old.mode}\nnew mode {new.mode}\n"
        elif old is None:
            head += f"new file mode {new.mode}\n"
        elif new is None:
            head += f"deleted file mode {old.mode}\n"
        if old is not None and new is not None and old.data == new.data:
            chunks.append(head)
            continue
        a, b = _text(old), _text(new)
        if a is None or b is None:
            chunks.append(
                head
                + f"Binary files {'a/' + rel if old else '/dev/null'} and {'b/' + rel if new else '/dev/null'} differ\n"
            )
            continue
        lines = difflib.unified_diff(
            a, b, fromfile=f"a/{rel}" if old else "/dev/null", tofile=f"b/{rel}" if new else "/dev/null", n=3
        )
        body = []
        for line in lines:
            body.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        chunks.append(head + "".join(body))
    return "".join(chunks)


def _text(f: File | None) -> list[str] | None:
    if f is None:
        return []
    if b"\0" in f.data[:8000]:
        return None
    try:
        return f.data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None
