"""copier `_migrations`: commands a template version runs in each instance it updates.

Upstream renames and moves of files the template ships need nothing: the update's 3-way merge
follows renames. Files the template does not ship (a region's own `overrides/`) can only be
moved by a command, declared in copier.yml the way copier runs it on `copier update --trust`:

    _migrations:
      - version: v0.3.0
        command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/move.py",
                  "overrides/templates/old.html", "overrides/templates/new.html"]
        when: "{{ _stage == 'after' }}"    # the default

`kit update` selects and runs them exactly as copier does: entries whose `version` lies in
(old, new] by PEP 440, entries without `version` on every update, `when` rendered with the
stage, string commands through the shell and lists without it, in the instance folder, with
STAGE, VERSION_FROM, VERSION_TO, VERSION_PEP440_* and VERSION_CURRENT in the environment.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from packaging.version import Version

from kit import git
from kit.errors import KitError
from kit.renderer import environment
from kit.versions import TemplateRef


class MigrationError(KitError):
    """A migration command failed; the update was rolled back."""


@dataclass(frozen=True)
class Task:
    """One migration command to run at one stage."""

    command: str | list[str]
    when: str
    working_directory: str
    extra: dict[str, Any]

    def shown(self) -> str:
        return self.command if isinstance(self.command, str) else " ".join(str(p) for p in self.command)


def tasks(settings: Mapping[str, Any], stage: str, old: TemplateRef, new: TemplateRef) -> list[Task]:
    """The migrations of the template (settings of the new version) that apply to this update.

    Raises KitError for the legacy before/after format, which copier itself deprecates.
    """
    if old.version is None or new.version is None:
        return []  # copier runs none when either version is not PEP 440
    extra_base: dict[str, Any] = {
        "stage": stage,
        "version_from": old.described,
        "version_to": new.described,
        "version_pep440_from": old.version,
        "version_pep440_to": new.version,
    }
    found = []
    for entry in settings.get("migrations") or []:
        if isinstance(entry, dict) and ("before" in entry or "after" in entry):
            raise KitError(
                "copier.yml uses the legacy _migrations format (before:/after: lists); "
                "write each migration as {version:, command:, when:}"
            )
        if isinstance(entry, (str, list)):
            found.append(Task(entry, '{{ _stage == "after" }}', ".", dict(extra_base)))
            continue
        extra = dict(extra_base)
        if "version" in entry:
            current = Version(str(entry["version"]))
            if not (new.version >= current > old.version):
                continue
            extra.update(version_current=entry["version"], version_pep440_current=current)
        found.append(
            Task(
                entry["command"],
                entry.get("when", '{{ _stage == "after" }}'),
                str(entry.get("working_directory", ".")),
                extra,
            )
        )
    return found


@contextmanager
def checkout(repo: Path, sha: str) -> Iterator[Path]:
    """The template's files at `sha` in a temporary folder (copier's `_copier_conf.src_path`)."""
    tmp = Path(tempfile.mkdtemp(prefix="kit-template-checkout-"))
    try:
        archive = subprocess.run(
            [git.require_git(), "-C", str(repo), "archive", "--format=tar", sha], capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(
    found: list[Task],
    instance: Path,
    settings: Mapping[str, Any],
    answers: Mapping[str, Any],
    template_dir: Path,
    template_sha: str,
) -> list[str]:
    """Run the tasks in `instance` as copier would; returns the commands run.

    Raises MigrationError naming the command and its exit code when one fails.
    """
    env = environment(settings)
    base_ctx = {
        **answers,
        "_copier_conf": {
            "src_path": PurePath(template_dir),
            "dst_path": PurePath(instance),
            "answers_file": PurePath(str(settings.get("answers_file", ".copier-answers.yml"))),
            "vcs_ref_hash": template_sha,
            "sep": "/",
        },
        "_copier_python": sys.executable,
    }
    ran = []
    for task in found:
        extra = {f"_{k}": v for k, v in task.extra.items()}
        extra["_copier_operation"] = "update"
        ctx = {**base_ctx, **extra}
        if env.from_string(task.when).render(ctx).strip().lower() not in ("true", "1", "yes", "on", "y"):
            continue
        if isinstance(task.command, str):
            command: str | list[str] = env.from_string(task.command).render(ctx)
            shell = True
        else:
            command = [env.from_string(str(part)).render(ctx) for part in task.command]
            shell = False
        cwd = (instance / env.from_string(task.working_directory).render(ctx)).absolute()
        task_env = {**os.environ, **{k[1:].upper(): str(v) for k, v in extra.items()}}
        proc = subprocess.run(command, shell=shell, cwd=cwd, env=task_env, capture_output=True, text=True)  # noqa: S602 - copier runs string migrations through the shell too
        shown = command if isinstance(command, str) else " ".join(command)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise MigrationError(
                f"migration `{shown}` failed with exit {proc.returncode}"
                + (f": {detail[-1]}" if detail else "")
                + "; the instance was left as it was before the update"
            )
        ran.append(shown)
    return ran
