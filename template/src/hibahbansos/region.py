"""The region's settings, read from the instance's `region.yml`.

`region.yml` is rendered by the kit from a validated profile (defaults filled in), so this
module only reads it; it never invents a regional value. Code everywhere else asks `Region`
instead of hard-coding a name, a colour or a rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from hibahbansos.errors import ConfigError


@dataclass(frozen=True)
class Region:
    """A read-only view of region.yml with a few derived values."""

    data: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None

    @classmethod
    def load(cls, path: Path) -> Region:
        """Read region.yml; raises ConfigError naming the file and the fix."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"{path} not found; run the app from its instance folder or set HIBAHBANSOS_HOME to it"
            ) from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML ({exc}); re-render it with `kit update`") from None
        if not isinstance(data, dict) or "slug" not in data:
            raise ConfigError(f"{path} is not a region profile; re-render it with `kit update`")
        return cls(data)

    @property
    def slug(self) -> str:
        return self.data["slug"]

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.data["timezone"])

    @property
    def short_name(self) -> str:
        """'Tasikmalaya' for 'Kabupaten Tasikmalaya'."""
        name = self.data["name"]
        for prefix in ("Kabupaten Administrasi ", "Kota Administrasi ", "Kabupaten ", "Kota ", "Provinsi "):
            if name.startswith(prefix):
                return name[len(prefix) :]
        return name

    @property
    def head_of_region(self) -> str:
        """'Bupati Tasikmalaya', 'Wali Kota Bandung'."""
        return f"{self.data['head_title']} {self.short_name}"

    @cached_property
    def opd_by_code(self) -> dict[str, dict]:
        return {o["code"]: o for o in self.data["opd"]}

    @property
    def hibah_programmes(self) -> list[dict]:
        return list(self.data["programmes"]["hibah"])

    @property
    def bansos_programmes(self) -> list[dict]:
        return list(self.data["programmes"]["bansos"])

    @property
    def rules(self) -> dict[str, Any]:
        return self.data["rules"]

    def lpj_due_date(self, budget_year: int) -> dt.date:
        """LPJ deadline for a grant of `budget_year`: a day of the following year (rule)."""
        rules = self.rules
        return dt.date(budget_year + 1, rules["lpj_due_month"], rules["lpj_due_day"])

    def now(self) -> dt.datetime:
        """The current time in the region's time zone."""
        return dt.datetime.now(self.tz)

    def today(self) -> dt.date:
        return self.now().date()
