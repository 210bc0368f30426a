"""Copier's render, done in one process for many regions: each template version read once.

`copier copy` costs about a second per region (a clone of the template, a git describe, a
scan of the files). The kit renders the same output in milliseconds: a template version is
read once from git (`git ls-tree` and `git cat-file --batch`, so never a dirty working tree),
its Jinja files are compiled once, and each region's answers render in memory into a `Tree`
that is written to disk or straight into git.

The output is byte-identical to copier's for the features this template uses (tests compare
the two for every region). A template that uses anything else (tasks, Jinja extensions,
symlinks, conditional or secret questions, `_copier_conf` values that name temporary paths)
raises `Unsupported`, and the kit renders that version with copier itself.
"""

from __future__ import annotations

import os
import subprocess
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

import jinja2
import pathspec
import yaml
from jinja2.sandbox import SandboxedEnvironment
from packaging.version import Version

from kit import git
from kit.versions import TemplateRef

# The settings (copier.yml keys without their underscore) this renderer implements exactly.
# Messages are only printed by copier; migrations run on update (kit/migrations.py).
SUPPORTED_SETTINGS = {
    "subdirectory",
    "templates_suffix",
    "answers_file",
    "envops",
    "exclude",
    "skip_if_exists",
    "migrations",
    "min_copier_version",
    "message_before_copy",
    "message_after_copy",
    "message_before_update",
    "message_after_update",
}
_PATHSPEC_STYLE = "gitignore" if Version(pathspec.__version__) >= Version("1.0.0") else "gitwildmatch"


class Unsupported(Exception):
    """The template uses a copier feature this renderer does not reproduce; render it with copier."""


@dataclass(frozen=True, slots=True)
class File:
    """One rendered file: its bytes and whether it is executable."""

    data: bytes
    executable: bool = False

    @property
    def mode(self) -> str:
        return "100755" if self.executable else "100644"


@dataclass
class Tree:
    """A rendered instance in memory: files by posix path, and the folders copier creates."""

    files: dict[str, File] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)

    def write(self, dest: Path) -> None:
        """Write every folder and file under `dest` (which must exist)."""
        for d in sorted(self.dirs):
            (dest / d).mkdir(parents=True, exist_ok=True)
        for rel, f in self.files.items():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.data)
            if f.executable:
                target.chmod(target.stat().st_mode | 0o111)

    @classmethod
    def read(cls, root: Path, skip: Callable[[str], bool] = lambda rel: False) -> Tree:
        """The files and folders under `root` (not following symlinks), except those `skip` names."""
        tree = cls()
        for dirpath, dirnames, filenames in os.walk(root):
            base = Path(dirpath).relative_to(root)
            dirnames[:] = [d for d in dirnames if not skip((base / d).as_posix())]
            for d in dirnames:
                tree.dirs.add((base / d).as_posix())
            for name in filenames:
                rel = (base / name).as_posix()
                if skip(rel):
                    continue
                path = Path(dirpath) / name
                tree.files[rel] = File(path.read_bytes(), bool(path.stat().st_mode & 0o100))
        return tree


@dataclass(frozen=True, slots=True)
class _Source:
    """A file of the template at one commit."""

    path: str  # relative to the repository root, posix
    data: bytes
    executable: bool


def _read_commit(repo: Path, sha: str) -> tuple[dict[str, _Source], set[str]]:
    """Every file of the commit (path -> source) and every folder, from git's object store."""
    listing = git.run(repo, "ls-tree", "-r", "-t", "-z", "--full-tree", sha).stdout
    entries, dirs = [], set()
    for record in listing.split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode, kind, obj = meta.split()
        if kind == "tree":
            dirs.add(path)
        elif kind == "blob" and mode == "120000":
            raise Unsupported(f"symlink {path}")
        elif kind == "blob":
            entries.append((path, obj, mode == "100755"))
        else:
            raise Unsupported(f"submodule {path}")
    exe = git.require_git()
    proc = subprocess.run(
        [exe, "-C", str(repo), "cat-file", "--batch"],
        input="".join(f"{obj}\n" for _, obj, _ in entries).encode(),
        capture_output=True,
        check=True,
    )
    out, pos, files = proc.stdout, 0, {}
    for path, _obj, executable in entries:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        start = header_end + 1
        files[path] = _Source(path, out[start : start + size], executable)
        pos = start + size + 1
    return files, dirs


def read_settings(repo: Path, sha: str) -> dict:
    """copier.yml of the template at `sha` as settings without their underscore (`migrations`...)."""
    for name in ("copier.yml", "copier.yaml"):
        proc = git.run(repo, "show", f"{sha}:{name}", check=False)
        if proc.returncode == 0:
            try:
                data = yaml.safe_load(proc.stdout) or {}
            except yaml.YAMLError:
                return {}
            return {k[1:]: v for k, v in data.items() if k.startswith("_")} if isinstance(data, dict) else {}
    return {}


def environment(settings: Mapping[str, Any], loader: jinja2.BaseLoader | None = None) -> SandboxedEnvironment:
    """A Jinja environment configured as copier configures it for the template's `_envops`.

    Raises Unsupported for settings copier itself would refuse or this module cannot match.
    """
    envops = dict(settings.get("envops") or {})
    envops.setdefault("keep_trailing_newline", True)
    undefined = envops.get("undefined")
    if undefined not in (None, "jinja2.StrictUndefined", "jinja2.Undefined"):
        raise Unsupported(f"envops.undefined {undefined}")
    # Strict even where the template is lenient: a name this renderer does not provide
    # (_folder_name, _copier_python...) must fail here and go to copier, not render empty.
    envops["undefined"] = jinja2.StrictUndefined
    try:
        return SandboxedEnvironment(
            loader=loader, extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"], **envops
        )
    except TypeError as exc:
        raise Unsupported(f"envops: {exc}") from None


def _load_config(files: dict[str, _Source]) -> dict:
    for name in ("copier.yml", "copier.yaml"):
        if name in files:
            try:
                data = yaml.safe_load(files[name].data.decode("utf-8")) or {}
            except (yaml.YAMLError, UnicodeDecodeError) as exc:  # copier's !include and friends
                raise Unsupported(f"{name}: {exc}") from None
            if not isinstance(data, dict):
                raise Unsupported(f"{name} is not a mapping")
            return data
    raise Unsupported("no copier.yml")


class TemplateVersion:
    """One commit of the template, ready to render any region's answers.

    Raises Unsupported (from `load` or `render`) when copier must do the work instead.
    """

    def __init__(self, url: str, ref: TemplateRef, files: dict[str, _Source], dirs: set[str]):
        self.url = url
        self.ref = ref
        raw = _load_config(files)
        self.settings = {k[1:]: v for k, v in raw.items() if k.startswith("_")}
        self.questions = {
            k: v if isinstance(v, dict) else {"default": v} for k, v in raw.items() if not k.startswith("_")
        }
        unknown = set(self.settings) - SUPPORTED_SETTINGS
        if unknown:
            raise Unsupported(f"copier settings {sorted(unknown)}")
        for name, spec in self.questions.items():
            if {"when", "secret"} & set(spec):
                raise Unsupported(f"question {name} uses when/secret")
        subdirectory = str(self.settings.get("subdirectory", "") or "").strip("/")
        if "{" in subdirectory:
            raise Unsupported("templated _subdirectory")
        self.suffix = self.settings.get("templates_suffix", ".jinja")
        if not self.suffix:
            raise Unsupported("empty _templates_suffix")
        self.answers_file = str(self.settings.get("answers_file", ".copier-answers.yml"))
        self.migrations: list = list(self.settings.get("migrations") or [])
        self._all_paths = set(files) | dirs
        prefix = f"{subdirectory}/" if subdirectory else ""
        self._sources = {p[len(prefix) :]: s for p, s in files.items() if p.startswith(prefix)}
        self._dirs = {d[len(prefix) :] for d in dirs if d.startswith(prefix)}
        exclude = self.settings.get("exclude")
        if exclude is None:
            exclude = (
                ()
                if subdirectory
                else ("copier.yaml", "copier.yml", "~*", "*.py[co]", "__pycache__", ".git", ".DS_Store", ".svn")
            )
        self._exclude = list(exclude)
        self._skip_if_exists = list(self.settings.get("skip_if_exists") or [])
        self.env = self._environment(files)
        self._compiled: dict[str, jinja2.Template] = {}
        self._path_templates: dict[str, jinja2.Template | None] = {}

    @classmethod
    def load(cls, repo: Path, url: str, ref: TemplateRef) -> TemplateVersion:
        """Read the template at `ref` from the git repository `repo` (recorded as `url`)."""
        files, dirs = _read_commit(repo, ref.sha)
        return cls(url, ref, files, dirs)

    def _environment(self, files: dict[str, _Source]) -> SandboxedEnvironment:
        def source(name: str) -> str | None:
            src = files.get(name)
            return None if src is None else src.data.decode("utf-8")

        return environment(self.settings, jinja2.FunctionLoader(source))

    # --- rendering ----------------------------------------------------------------------

    def context(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The Jinja context copier builds for these answers (the parts this renderer provides)."""
        missing = set(self.questions) - set(answers)
        if missing:
            raise Unsupported(f"no answer for {sorted(missing)}")
        recorded = {"_commit": self.ref.described, "_src_path": self.url}
        recorded.update((k, answers[k]) for k in self.questions)
        return {
            **answers,
            "_commit": self.ref.described,
            "_src_path": self.url,
            "_copier_answers": recorded,
            "_copier_conf": {
                "answers_file": PurePath(self.answers_file),
                "sep": os.sep,
                "vcs_ref_hash": self.ref.sha,
            },
        }

    def _string(self, text: str, ctx: Mapping[str, Any]) -> str:
        if "{" not in text:
            return text
        tpl = self._path_templates.get(text)
        if tpl is None:
            tpl = self._path_templates[text] = self.env.from_string(text)
        return tpl.render(ctx)

    def _matcher(self, patterns: list[str], ctx: Mapping[str, Any]) -> Callable[[str], bool]:
        lines = []
        for pattern in patterns:
            lines += self._string(str(pattern), ctx).splitlines()
        spec = pathspec.PathSpec.from_lines(_PATHSPEC_STYLE, (unicodedata.normalize("NFD", p) for p in lines))
        return spec.match_file

    def _validate(self, ctx: Mapping[str, Any]) -> None:
        for name, spec in self.questions.items():
            validator = spec.get("validator")
            if validator and self._string(str(validator), ctx).strip():
                raise Unsupported(f"answer {name} fails the template's validator")  # copier words the error

    def _dst_path(self, rel: str, is_template: bool, ctx: Mapping[str, Any]) -> str | None:
        """Where copier puts the template file `rel`, or None when it skips it."""
        parts = []
        for part in rel.split("/"):
            rendered = self._string(part, ctx)
            if rendered == self.answers_file:
                return self.answers_file
            if not rendered:
                return None
            parts.append(rendered)
        dst = "/".join(parts)
        # copier looks for a templated sibling of the *rendered* path at the template root
        if not is_template and f"{dst}{self.suffix}" in self._all_paths:
            return None
        return dst

    def skip_if_exists(self, answers: Mapping[str, Any]) -> Callable[[str], bool]:
        """copier's `_skip_if_exists` matcher for these answers."""
        return self._matcher(self._skip_if_exists, self.context(answers))

    def render(self, answers: Mapping[str, Any]) -> Tree:
        """The instance copier would render for `answers`; raises Unsupported on any doubt."""
        try:
            return self._render(answers)
        except Unsupported:
            raise
        except Exception as exc:  # a template error: copier reports it in its own words
            raise Unsupported(f"{type(exc).__name__}: {exc}") from None

    def _render(self, answers: Mapping[str, Any]) -> Tree:
        ctx = self.context(answers)
        self._validate(ctx)
        excluded = self._matcher(self._exclude, ctx)
        tree = Tree()
        for d in self._dirs:
            dst = self._dst_path(d, False, ctx) if d else None
            if dst and not excluded(dst):
                tree.dirs.add(dst)
        for rel, src in self._sources.items():
            is_template = rel.endswith(self.suffix)
            if is_template:
                rel = rel[: -len(self.suffix)]
            elif f"{rel}{self.suffix}" in self._sources:
                continue
            dst = self._dst_path(rel, is_template, ctx)
            if dst is None or excluded(dst):
                continue
            if is_template:
                tpl = self._compiled.get(src.path)
                if tpl is None:
                    tpl = self._compiled[src.path] = self.env.get_template(src.path)
                data = tpl.render(ctx).encode("utf-8")
            else:
                data = src.data
            tree.files[dst] = File(data, src.executable)
            parent = dst.rpartition("/")[0]
            while parent:
                tree.dirs.add(parent)
                parent = parent.rpartition("/")[0]
        return tree
