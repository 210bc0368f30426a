"""The few git operations the kit needs, with errors that say what to do."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from kit.errors import GitError

# Commits made by the kit need an identity even on a fresh machine without git config.
_IDENTITY = ("-c", "user.name=Hibah Bansos Kit", "-c", "user.email=kit@hibahbansos.invalid")


def require_git() -> str:
    """Path of the git executable; raises GitError when git is not installed."""
    exe = shutil.which("git")
    if exe is None:
        raise GitError("git is not installed or not on PATH; install it (apt-get install git) and try again")
    return exe


def run(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run git in `repo`; raises GitError with git's own message on failure."""
    exe = require_git()
    proc = subprocess.run([exe, "-C", str(repo), *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise GitError(f"git {args[0]} failed in {repo}: {msg[-1] if msg else 'exit ' + str(proc.returncode)}")
    return proc


def has_identity(repo: Path) -> bool:
    return bool(run(repo, "config", "user.email", check=False).stdout.strip())


def commit_all(repo: Path, message: str) -> str:
    """Stage everything and commit; returns the new commit's hash."""
    run(repo, "add", "-A")
    identity = () if has_identity(repo) else _IDENTITY
    run(repo, *identity, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message)
    return run(repo, "rev-parse", "HEAD").stdout.strip()


def init(repo: Path) -> None:
    run(repo, "init", "--quiet", "--initial-branch=main")


def is_repo(path: Path) -> bool:
    return (path / ".git").exists()


def resolve_ref(repo: Path, ref: str) -> str | None:
    """Commit hash of `ref` in `repo`, or None when it does not exist."""
    proc = run(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return proc.stdout.strip() or None


def is_dirty(repo: Path, paths: tuple[str, ...] = ()) -> list[str]:
    """Files with uncommitted changes (limited to `paths` when given)."""
    out = run(repo, "status", "--porcelain", "--", *paths).stdout
    return [line[3:] for line in out.splitlines() if line.strip()]


def tags(repo: Path) -> list[str]:
    return run(repo, "tag", "--list").stdout.split()
