"""The few git operations the kit needs, with errors that say what to do."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
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
    # GIT_OPTIONAL_LOCKS=0: a read must not rewrite the index (dry runs leave every byte alone)
    out = run_env(repo, {"GIT_OPTIONAL_LOCKS": "0"}, "status", "--porcelain", "--", *paths).stdout.decode()
    return [line[3:] for line in out.splitlines() if line.strip()]


def tags(repo: Path) -> list[str]:
    return run(repo, "tag", "--list").stdout.split()


def run_env(
    repo: Path, env: dict[str, str], *args: str, check: bool = True, input: bytes | None = None
) -> subprocess.CompletedProcess:
    """Run git in `repo` with extra environment (and bytes in and out); raises GitError on failure."""
    exe = require_git()
    proc = subprocess.run([exe, "-C", str(repo), *args], capture_output=True, input=input, env={**os.environ, **env})
    if check and proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).decode(errors="replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed in {repo}: {msg[-1] if msg else 'exit ' + str(proc.returncode)}")
    return proc


def identity_env(repo: Path) -> dict[str, str]:
    """Author and committer for commits the kit makes: the repository's own, else the kit's."""
    if has_identity(repo):
        return {}
    name, email = "Hibah Bansos Kit", "kit@hibahbansos.invalid"
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def _quote(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def fast_import(
    repo: Path, ref: str, commits: list[tuple[dict, str | None, str]], env: dict[str, str] | None = None
) -> list[str]:
    """Write commits straight from memory with `git fast-import`; returns their hashes.

    Each commit is (files, parent, message) where files maps a posix path to an object with
    `.data` (bytes) and `.mode` ("100644" or "100755"), and parent is a hash, None, or the
    previous commit of the list ("-"). The last commit ends up at `ref`.
    """
    stamp = f"{int(time.time())} +0000"
    out = bytearray(f"reset {ref}\n".encode())  # a commit without parent is a root, whatever `ref` held
    for i, (files, parent, message) in enumerate(commits, start=1):
        msg = message.encode()
        out += f"commit {ref}\nmark :{i}\ncommitter Hibah Bansos Kit <kit@hibahbansos.invalid> {stamp}\n".encode()
        out += f"data {len(msg)}\n".encode() + msg + b"\n"
        if parent == "-":
            out += f"from :{i - 1}\n".encode()
        elif parent:
            out += f"from {parent}\n".encode()
        out += b"deleteall\n"
        for path in sorted(files):
            f = files[path]
            out += f"M {f.mode} inline {_quote(path)}\ndata {len(f.data)}\n".encode() + f.data + b"\n"
    out += b"done\n"
    with tempfile.TemporaryDirectory(prefix="kit-marks-") as tmp:
        marks_file = Path(tmp) / "marks"
        run_env(
            repo,
            env or {},
            "fast-import",
            "--quiet",
            "--force",
            "--done",
            f"--export-marks={marks_file}",
            input=bytes(out),
        )
        marks = marks_file.read_text(encoding="ascii")
    by_mark = dict(line[1:].split() for line in marks.splitlines() if line.startswith(":"))
    return [by_mark[str(i)] for i in range(1, len(commits) + 1)]


def read_blobs(repo: Path, sha: str, paths: tuple[str, ...] = ()) -> dict[str, tuple[bytes, bool]]:
    """Files of a commit (limited to `paths`): posix path -> (bytes, executable), symlinks excluded."""
    listing = run(repo, "ls-tree", "-r", "-z", "--full-tree", sha, "--", *paths).stdout
    entries = []
    for record in listing.split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode, kind, obj = meta.split()
        if kind == "blob" and mode != "120000":
            entries.append((path, obj, mode == "100755"))
    if not entries:
        return {}
    out = run_env(repo, {}, "cat-file", "--batch", input="".join(f"{o}\n" for _, o, _ in entries).encode()).stdout
    pos, files = 0, {}
    for path, _obj, executable in entries:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        files[path] = (out[header_end + 1 : header_end + 1 + size], executable)
        pos = header_end + 1 + size + 1
    return files
