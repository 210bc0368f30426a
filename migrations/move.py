"""Move files or folders inside an instance: the command behind copier `_migrations` for renames.

    python move.py OLD NEW [OLD NEW ...]

Run by `kit update` and by `copier update --trust` in the instance folder. A tracked path is
moved with `git mv` (so the move is staged with the update), an untracked one with a plain
rename. Nothing to move is fine (the region never had the file, or it was moved already);
a NEW that already exists is an error, so a region's file is never overwritten.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def tracked(path: str) -> bool:
    proc = subprocess.run(["git", "ls-files", "--error-unmatch", "--", path], capture_output=True, text=True)
    return proc.returncode == 0


def move(old: str, new: str) -> str:
    """Move one path; returns what was done. Raises SystemExit when NEW is taken."""
    src, dst = Path(old), Path(new)
    if not src.exists():
        return f"nothing to move at {old}"
    if dst.exists():
        raise SystemExit(f"Error: cannot move {old} to {new}: {new} exists already; merge the two by hand")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if tracked(old):
        subprocess.run(["git", "mv", "--", old, new], check=True)
    else:
        src.rename(dst)
    return f"moved {old} -> {new}"


def main(argv: list[str]) -> int:
    if not argv or len(argv) % 2:
        print("usage: move.py OLD NEW [OLD NEW ...]", file=sys.stderr)
        return 2
    for old, new in zip(argv[::2], argv[1::2], strict=True):
        print(move(old, new))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
