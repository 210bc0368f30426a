"""Where the kit finds the template, the region profiles and the rendered instances.

Defaults suit a checkout of this repository; each can be moved with an environment variable
(or the matching global option of `kit`), which is how the tests and other fleets use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Workspace:
    """The three places the kit works with."""

    template: str  # absolute path or URL of the template repository (copier's _src_path)
    regions: Path
    instances: Path

    @classmethod
    def from_env(
        cls,
        template: str | None = None,
        regions: Path | None = None,
        instances: Path | None = None,
    ) -> Workspace:
        tpl = template or os.environ.get("KIT_TEMPLATE") or str(ROOT)
        if "://" not in tpl and not tpl.startswith("git@"):
            # copier records the source verbatim: a relative path breaks updates run elsewhere
            tpl = str(Path(tpl).expanduser().resolve())
        return cls(
            template=tpl,
            regions=(regions or Path(os.environ.get("KIT_REGIONS") or ROOT / "regions")).resolve(),
            instances=(instances or Path(os.environ.get("KIT_INSTANCES") or ROOT / "instances")).resolve(),
        )

    @property
    def assets(self) -> Path:
        return self.regions / "assets"

    def instance(self, slug: str) -> Path:
        return self.instances / slug

    @property
    def template_is_local(self) -> bool:
        return "://" not in self.template and not self.template.startswith("git@")
