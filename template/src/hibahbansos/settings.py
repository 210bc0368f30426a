"""Where an instance keeps its files, and the secrets it runs with.

- HOME: the instance folder with region.yml, branding/ and overrides/
  (`HIBAHBANSOS_HOME`, else the working directory or the source checkout that holds region.yml).
- DATA: database, uploads, backups and local secrets (`HIBAHBANSOS_DATA`, else HOME/var).
- Secrets: `HIBAHBANSOS_SECRET_KEY` and `HIBAHBANSOS_AUDIT_KEY` from the environment (the deploy
  puts them in a root-only environment file from the region's vault). On a developer machine,
  when they are absent, random ones are created once in DATA with mode 0600.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from hibahbansos.errors import ConfigError

REGION_FILE = "region.yml"
ANSWERS_FILE = ".copier-answers.yml"


def find_home() -> Path:
    """The instance folder; raises ConfigError when none can be found."""
    env = os.environ.get("HIBAHBANSOS_HOME")
    if env:
        home = Path(env).expanduser().resolve()
        if not (home / REGION_FILE).is_file():
            raise ConfigError(f"HIBAHBANSOS_HOME={env} has no {REGION_FILE}; point it at the instance folder")
        return home
    for candidate in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (candidate / REGION_FILE).is_file():
            return candidate
    raise ConfigError(f"no {REGION_FILE} here; run from the instance folder or set HIBAHBANSOS_HOME to it")


def data_dir(home: Path) -> Path:
    env = os.environ.get("HIBAHBANSOS_DATA")
    return Path(env).expanduser().resolve() if env else home / "var"


def template_version(home: Path) -> str:
    """The template version this instance was rendered from (copier's `_commit`)."""
    try:
        answers = yaml.safe_load((home / ANSWERS_FILE).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return "unknown"
    return str(answers.get("_commit") or "unknown")


def local_secret(data: Path, env_name: str, file_name: str) -> str:
    """A secret from the environment, else from DATA/<file_name>, created once if missing."""
    value = os.environ.get(env_name)
    if value:
        return value
    path = data / file_name
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    data.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


@dataclass(frozen=True)
class Paths:
    """The folders of one running instance."""

    home: Path
    data: Path

    @property
    def database(self) -> Path:
        return self.data / "hibahbansos.db"

    @property
    def uploads(self) -> Path:
        return self.data / "uploads"

    @property
    def backups(self) -> Path:
        return self.data / "backups"

    @property
    def branding(self) -> Path:
        return self.home / "branding"

    @property
    def overrides(self) -> Path:
        return self.home / "overrides"
