"""Template versions: PEP 440 git tags of the template repository, compared as copier does.

An instance records its version as copier's `_commit`: `git describe --tags --always` of the
commit it was rendered from (`v0.2.0` on a tag, `v0.2.0-3-g1a2b3c4` three commits later, a
bare hash in a repository without tags). The newest version is the highest PEP 440 tag that
is not a pre-release, the one plain `copier update` would pick.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from pathlib import Path

from packaging.version import InvalidVersion, Version

from kit import git
from kit.errors import KitError

_DESCRIBED = re.compile(r"^(?P<base>.+)-(?P<count>\d+)-g(?P<hash>[0-9a-f]+)$")


def parse(described: str | None) -> Version | None:
    """The PEP 440 version of a `_commit` value, or None for a bare hash or a non-version tag."""
    if not described:
        return None
    try:
        return Version(described)
    except InvalidVersion:
        pass
    match = _DESCRIBED.match(described)
    if match:
        try:
            return Version(f"{match['base']}.post{match['count']}+g{match['hash']}")
        except InvalidVersion:
            return None
    return None


@total_ordering
@dataclass(frozen=True)
class TemplateRef:
    """One commit of the template, as an instance records it and as git knows it."""

    described: str  # copier's `_commit`: git describe --tags --always
    sha: str

    @property
    def version(self) -> Version | None:
        return parse(self.described)

    def __lt__(self, other: TemplateRef) -> bool:
        mine, theirs = self.version, other.version
        if mine is None or theirs is None:
            return False
        return mine < theirs

    def __str__(self) -> str:
        return self.described


def release_tags(repo: Path) -> list[tuple[Version, str]]:
    """PEP 440 tags that are not pre-releases, oldest first."""
    found = []
    for tag in git.tags(repo):
        try:
            v = Version(tag)
        except InvalidVersion:
            continue
        if not v.is_prerelease:
            found.append((v, tag))
    return sorted(found)


def describe(repo: Path, sha: str) -> str:
    """copier's `_commit` for a commit of the template."""
    return git.run(repo, "describe", "--tags", "--always", sha).stdout.strip()


def resolve(repo: Path, ref: str) -> TemplateRef:
    """The template commit for a tag, branch, hash or recorded `_commit`; raises KitError if unknown."""
    sha = git.resolve_ref(repo, ref)
    if sha is None:
        known = [tag for _, tag in release_tags(repo)][-8:]
        hint = f"; known versions: {', '.join(known)}" if known else "; the template has no version tags yet"
        raise KitError(f"template ref {ref!r} does not exist in {repo}{hint}")
    return TemplateRef(describe(repo, sha), sha)


def newest(repo: Path) -> TemplateRef:
    """The newest release (highest PEP 440 tag), or HEAD when the template has no version tags."""
    tags = release_tags(repo)
    return resolve(repo, tags[-1][1] if tags else "HEAD")


def target(repo: Path, ref: str | None) -> TemplateRef:
    """What an update goes to: `ref` when given, else the newest release."""
    return resolve(repo, ref) if ref else newest(repo)
