"""Every error the kit raises, in one place, and the exit codes the CLI turns them into.

The CLI prints each as a red `Error: ...` line on stderr; nothing here carries a traceback
or the personal data an instance holds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONFLICT = 3


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in one profile, located as precisely as the YAML allows."""

    file: str
    line: int | None
    field: str
    message: str
    column: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.field}: {self.message}"

    def as_dict(self) -> dict:
        return asdict(self)


class KitError(Exception):
    """A failure the user can fix; its message says how."""

    exit_code = EXIT_ERROR


class UsageError(KitError):
    """The command line itself is wrong."""

    exit_code = EXIT_USAGE


class ProfileError(KitError):
    """One or more region profiles are invalid; `problems` lists each of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RenderError(KitError):
    """Rendering an instance failed; nothing was left behind."""


class GitError(KitError):
    """git is missing or a git command failed."""
