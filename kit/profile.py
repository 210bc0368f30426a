"""The region profile: the one typed definition of everything that differs between regions.

`kit validate`, `kit new`, `kit update` and `kit deploy` all read profiles through this model,
and the instance's `region.yml` is its normalised dump, so the app never sees a profile that
did not pass these checks. `regions/schema.json` is exported from it (`kit schema`).

Checks that need the file (slug equals the file name, the logo exists) read `ProfileContext`
from pydantic's validation context. A validator that locates its problem deeper than its own
field puts the rest of the path in the error's `subloc` context; `kit.regions` appends it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kit import wilayah

SLUG_RE = r"^[a-z][a-z0-9-]{1,39}$"
HEX_COLOR_RE = r"^#[0-9a-fA-F]{6}$"
HOSTNAME_RE = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$"
CODE_RE = r"^[A-Z][A-Z0-9-]{1,23}$"
# Kode rekening (Permendagri 90/2019): account group digits separated by dots, e.g. 5.1.05.05.01.0001
BUDGET_LINE_RE = r"^[0-9](\.[0-9]{1,4}){2,6}$"
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$"


@dataclass(frozen=True, slots=True)
class ProfileContext:
    """What the checks need to know about the file a profile came from."""

    file_stem: str | None = None
    assets_dir: Path | None = None


def _fail(kind: str, message: str, subloc: tuple = ()) -> PydanticCustomError:
    return PydanticCustomError(kind, message, {"subloc": list(subloc)} if subloc else None)


class Strict(BaseModel):
    """Base for every section: unknown keys are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Code = Annotated[
    str,
    Field(
        pattern=CODE_RE,
        description="Upper-case code: letters, digits and dashes, e.g. DINSOS",
    ),
]
Rupiah = Annotated[int, Field(gt=0, description="Amount in whole Rupiah")]
BudgetLine = Annotated[
    str,
    Field(pattern=BUDGET_LINE_RE, description="Kode rekening of the budget line, e.g. 5.1.05.05.01.0001"),
]


class Opd(Strict):
    """A regional government agency (Organisasi Perangkat Daerah)."""

    code: Code
    name: str = Field(min_length=3, description="Full official name, e.g. Dinas Sosial")
    short: str = Field(min_length=2, max_length=30, description="Short name, e.g. Dinsos")


class Branding(Strict):
    """How the region's app looks: colours, logo and the app's own name."""

    app_name: str = Field(
        default="Sistem Informasi Hibah dan Bansos",
        description="Name of the app shown in the header, e.g. Sabilulungan in Kota Bandung",
    )
    primary_color: str = Field(pattern=HEX_COLOR_RE, description="Main colour, #rrggbb")
    secondary_color: str = Field(pattern=HEX_COLOR_RE, description="Accent colour, #rrggbb")
    logo: str = Field(description="Logo file name under regions/assets/<slug>/ (SVG or PNG)")

    @field_validator("logo")
    @classmethod
    def _logo_file(cls, value: str, info: ValidationInfo) -> str:
        if "/" in value or "\\" in value or value.startswith("."):
            raise _fail("logo_name", "give only the file name; put the file in regions/assets/<slug>/")
        if not value.lower().endswith((".svg", ".png")):
            raise _fail("logo_type", f"logo {value!r} must be an .svg or .png file")
        ctx = info.context
        if isinstance(ctx, ProfileContext) and ctx.assets_dir is not None and not (ctx.assets_dir / value).is_file():
            raise _fail(
                "logo_missing", f"file {_display(ctx.assets_dir / value)} does not exist; add it or fix the name"
            )
        return value


class Contact(Strict):
    """The public contact of the office that runs hibah and bansos."""

    office: str = Field(description="Office name, e.g. Bagian Kesejahteraan Rakyat Setda")
    address: str
    phone: str = Field(pattern=r"^[0-9+() -]{6,20}$")
    email: str = Field(pattern=EMAIL_RE)


LETSENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"


class Site(Strict):
    """Where the public reaches the app, and how its TLS certificate is obtained."""

    domain: str = Field(pattern=HOSTNAME_RE, description="Host name, lower case, e.g. hibah.tasikmalayakab.go.id")
    tls: Literal["self-signed", "provided", "acme"] = Field(
        default="self-signed",
        description="self-signed (default), provided (certificate and key in the region's vault) or acme (certbot)",
    )
    acme_email: str | None = Field(default=None, pattern=EMAIL_RE, description="Contact for the ACME account")
    acme_directory: str = Field(
        default=LETSENCRYPT,
        pattern=r"^https://[^\s/]+(/\S*)?$",
        description="ACME directory URL (https); default Let's Encrypt. Try "
        "https://acme-staging-v02.api.letsencrypt.org/directory first, or another ACME CA",
    )

    @model_validator(mode="after")
    def _acme_needs_email(self) -> Site:
        if self.tls == "acme" and not self.acme_email:
            raise _fail("acme_email", "tls: acme needs acme_email: an address for expiry notices", ("acme_email",))
        return self


class HibahProgramme(Strict):
    """A hibah category: grants to organisations, evaluated by one or more technical OPD."""

    code: Code
    name: str
    budget_line: BudgetLine
    ceiling: Rupiah = Field(description="Yearly ceiling (pagu) in Rupiah; approvals never exceed it")
    opd: list[Code] = Field(min_length=1, description="Codes of the OPD that evaluate proposals in this category")


class BansosProgramme(Strict):
    """A bansos type: social assistance in money or goods."""

    code: Code
    name: str
    budget_line: BudgetLine
    ceiling: Rupiah = Field(description="Yearly ceiling (pagu) in Rupiah")
    planned: bool = Field(
        default=True, description="true: direncanakan; false: tidak dapat direncanakan (e.g. disasters)"
    )
    form: Literal["money", "goods"]
    amount_per_recipient: Rupiah = Field(description="Rupiah per recipient (for goods: the value of one package)")
    goods: str | None = Field(default=None, description="What a goods package holds, e.g. Beras 10 kg")
    recipients: list[Literal["individual", "family", "group", "organisation"]] = Field(
        default=["individual"], min_length=1
    )
    opd: Code = Field(description="Code of the OPD that runs the programme, usually Dinas Sosial")

    @model_validator(mode="after")
    def _form_fits(self) -> BansosProgramme:
        if self.form == "goods" and not self.goods:
            raise _fail("goods", "form: goods needs goods: what one package holds", ("goods",))
        if self.form == "money":
            wrong = [r for r in self.recipients if r not in ("individual", "family")]
            if wrong:
                raise _fail(
                    "recipients",
                    f"bansos in money goes to individuals or families only, not {', '.join(wrong)}; use form: goods",
                    ("recipients",),
                )
        return self


class Programmes(Strict):
    """What the region funds: hibah categories and bansos types."""

    hibah: list[HibahProgramme] = Field(default_factory=list)
    bansos: list[BansosProgramme] = Field(default_factory=list)


class Rules(Strict):
    """Eligibility rules. Defaults follow the regulations; a region may relax or tighten them."""

    min_org_age_years: int = Field(default=3, ge=0, le=20, description="Years since legal registration")
    require_domicile: bool = Field(default=True, description="Organisation domiciled in the region")
    require_secretariat: bool = Field(default=True, description="Permanent secretariat in the region")
    allow_consecutive_funding: bool = Field(
        default=False, description="May an organisation funded last year apply again"
    )
    block_overdue_lpj: bool = Field(default=True, description="An overdue LPJ blocks new proposals")
    lpj_due_month: int = Field(default=1, ge=1, le=12, description="LPJ due month in the year after the budget year")
    lpj_due_day: int = Field(default=10, ge=1, le=31, description="LPJ due day of that month")

    @model_validator(mode="after")
    def _due_date_exists(self) -> Rules:
        try:
            dt.date(2027, self.lpj_due_month, self.lpj_due_day)
        except ValueError:
            raise _fail("lpj_due", f"{self.lpj_due_day}/{self.lpj_due_month} is not a date", ("lpj_due_day",)) from None
        return self


class Document(Strict):
    """One entry of a document checklist."""

    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,30}$")]
    name: str
    required: bool = True


def _default_hibah_documents() -> list[Document]:
    return [
        Document(code="proposal", name="Proposal kegiatan bermaterai"),
        Document(code="rab", name="Rencana Anggaran Biaya (RAB)"),
        Document(code="akta", name="Akta pendirian organisasi"),
        Document(code="sk_kemenkumham", name="SK pengesahan badan hukum Kemenkumham"),
        Document(code="npwp", name="NPWP organisasi"),
        Document(code="domisili", name="Surat keterangan domisili"),
        Document(code="rekening", name="Surat keterangan rekening bank"),
        Document(code="ktp_pengurus", name="KTP ketua, sekretaris dan bendahara"),
        Document(code="foto_sekretariat", name="Foto sekretariat", required=False),
    ]


class Documents(Strict):
    """Document checklists that applicants upload."""

    hibah: list[Document] = Field(default_factory=_default_hibah_documents, min_length=1)

    @field_validator("hibah")
    @classmethod
    def _unique(cls, value: list[Document]) -> list[Document]:
        _no_duplicates([d.code for d in value], "document code")
        return value


class Uploads(Strict):
    """Limits on uploaded files."""

    max_mb: int = Field(default=10, ge=1, le=100, description="Largest upload in MiB")


class Email(Strict):
    """Outgoing mail. Without smtp_host, messages stay in the app's outbox. The password lives in the vault."""

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    sender: str | None = Field(default=None, pattern=EMAIL_RE)


# The hibah workflow's staff actions and the roles that may take them. The app
# (hibahbansos/hibah/workflow.py) holds the default table; tests/test_workflow_profile.py keeps
# these names in step with it.
WorkflowAction = Literal[
    "start_check",
    "route_to_opd",
    "return_incomplete",
    "reject_admin",
    "recommend",
    "request_revision",
    "reject_opd",
    "forward_to_tapd",
    "reject_consideration",
    "tapd_agree",
    "reject_tapd",
    "approve",
    "reject_head",
    "sign_nphd",
    "disburse",
    "return_lpj",
    "verify_lpj",
    "close",
]
StaffRole = Literal["desk", "opd_reviewer", "consideration", "tapd", "head", "finance", "admin"]


class Workflow(Strict):
    """The hibah proposal workflow: who takes each step, and which optional steps a region uses.

    The steps follow the regulations (see the app's README); a region that merges desks gives
    an action to other roles here, e.g. `actions: {forward_to_tapd: [tapd]}`. The applicant's own
    steps (submit, resubmit, withdraw, submit_lpj) always stay with the applicant, and the
    inspector is read-only everywhere.
    """

    actions: dict[WorkflowAction, list[StaffRole]] = Field(
        default_factory=dict,
        description="Roles allowed to take an action, replacing the default for that action; e.g. {approve: [head]}",
    )
    skip_consideration: bool = Field(
        default=False, description="true: the OPD recommendation goes straight to TAPD (no separate consideration team)"
    )
    max_tranches: int = Field(default=3, ge=1, le=12, description="Most disbursement tranches (SP2D) per grant")
    ageing_warn_days: int = Field(default=14, ge=1, le=365, description="Work queues mark items waiting this many days")
    ageing_alert_days: int = Field(default=30, ge=1, le=730, description="... and alert at this many days")

    @field_validator("actions")
    @classmethod
    def _roles_given(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for action, roles in value.items():
            if not roles:
                raise _fail(
                    "workflow_roles",
                    f"action {action} needs at least one role; drop the entry to keep the default",
                    (action,),
                )
        return value

    @model_validator(mode="after")
    def _ageing_order(self) -> Workflow:
        if self.ageing_alert_days < self.ageing_warn_days:
            raise _fail("ageing", "ageing_alert_days must be at least ageing_warn_days", ("ageing_alert_days",))
        return self


class Server(Strict):
    """The server `kit deploy` ships the instance to."""

    host: str = Field(description="Host name or IP address")
    port: int = Field(default=22, ge=1, le=65535, description="SSH port")
    user: str = Field(default="deploy", pattern=r"^[a-z_][a-z0-9_-]{0,31}$", description="SSH user with sudo")
    releases_keep: int = Field(
        default=3, ge=2, le=20, description="Releases kept on the server (the current one and those to roll back to)"
    )
    min_free_mb: int = Field(
        default=1024, ge=100, le=1_000_000, description="Free MiB the deploy needs under /srv and /var before it starts"
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        ip = re.fullmatch(r"([0-9]{1,3}\.){3}[0-9]{1,3}", value)
        if ip and all(int(p) < 256 for p in value.split(".")):
            return value
        if re.fullmatch(HOSTNAME_RE, value) or re.fullmatch(r"^[a-z0-9][a-z0-9-]{0,62}$", value):
            return value
        raise _fail("host", f"{value!r} is neither a host name nor an IPv4 address")


class Backup(Strict):
    """Nightly backups on the server: database and uploads, in one archive."""

    time: str = Field(
        default="02:30",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="When the nightly backup runs, HH:MM in the region's time zone",
    )
    keep_days: int = Field(default=14, ge=1, le=3650, description="Days a nightly backup is kept")


class Profile(Strict):
    """A region: who it is, how it looks, what it funds, its rules and its server."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        title="Region profile",
        json_schema_extra={"$id": "https://hibahbansos.example/regions/schema.json"},
    )

    slug: str = Field(pattern=SLUG_RE, description="Short name, equal to the file name: tasikmalaya")
    name: str = Field(description="Official name as in the Kemendagri list, e.g. Kabupaten Tasikmalaya")
    kind: Literal["kabupaten", "kota", "provinsi"]
    kode: str = Field(description='Kemendagri kode wilayah, quoted: "32.06" (kabupaten/kota) or "32" (provinsi)')
    province: str = Field(description="Province name as in the Kemendagri list")
    head_title: str | None = Field(
        default=None, description="Bupati / Wali Kota / Gubernur; derived from kind when absent"
    )
    seat: str = Field(description="Seat of government (ibu kota), e.g. Singaparna")
    timezone: Literal["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"] = Field(
        description="Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT)"
    )
    locale: Literal["id", "en"] = Field(default="id", description="Default interface language")
    budget_year: int = Field(ge=2017, le=2100, description="Budget year (tahun anggaran) proposals are taken for")
    branding: Branding
    contact: Contact
    site: Site
    opd: list[Opd] = Field(min_length=1, description="The region's agencies")
    programmes: Programmes
    rules: Rules = Field(default_factory=Rules)
    documents: Documents = Field(default_factory=Documents)
    uploads: Uploads = Field(default_factory=Uploads)
    email: Email = Field(default_factory=Email)
    workflow: Workflow = Field(default_factory=Workflow)
    server: Server | None = Field(default=None, description="Deploy target; kit deploy needs it")
    backup: Backup = Field(default_factory=Backup)

    @field_validator("slug")
    @classmethod
    def _slug_is_file_name(cls, value: str, info: ValidationInfo) -> str:
        ctx = info.context
        if isinstance(ctx, ProfileContext) and ctx.file_stem is not None and value != ctx.file_stem:
            raise _fail(
                "slug_file",
                f"slug {value!r} differs from the file name {ctx.file_stem}.yml; rename one so they match",
            )
        return value

    @field_validator("kode", mode="before")
    @classmethod
    def _kode_is_text(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = f"{value:05.2f}" if isinstance(value, float) else str(value)
            raise _fail("kode_type", f'kode must be quoted text such as "{shown}"; YAML reads {value} as a number')
        return value

    @field_validator("kode")
    @classmethod
    def _kode_exists(cls, value: str, info: ValidationInfo) -> str:
        if not wilayah.KODE_PATTERN.match(value):
            raise _fail(
                "kode_format", f'{value!r} is not a kode wilayah; write "PP.KK" (e.g. "32.06") or "PP" for a province'
            )
        official = wilayah.lookup(value)
        if official is None:
            hint = _suggest_kode(info.data.get("name"))
            raise _fail("kode_unknown", f"kode {value} is not in the Kemendagri list{hint}")
        name, kind = info.data.get("name"), info.data.get("kind")
        if name is not None and wilayah.normalise_name(name) != wilayah.normalise_name(official.name):
            raise _fail(
                "kode_other",
                f"kode {value} is {official.name}, not {name}{_suggest_kode(name)}",
            )
        if kind is not None and kind != official.kind:
            raise _fail(
                "kode_kind",
                f"kode {value} is a {official.kind} (kabupaten 01-69, kota 71-99, provinsi 2 digits), "
                f"but kind is {kind}; set kind: {official.kind}",
            )
        return value

    @field_validator("province")
    @classmethod
    def _province(cls, value: str, info: ValidationInfo) -> str:
        official = wilayah.lookup(info.data.get("kode") or "")
        if official is not None and wilayah.normalise_name(value) != wilayah.normalise_name(official.province):
            raise _fail(
                "province",
                f"kode {official.kode} lies in {official.province}, not {value}; set province: {official.province}",
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_fits(cls, value: str, info: ValidationInfo) -> str:
        official = wilayah.lookup(info.data.get("kode") or "")
        if official is not None and value != official.timezone:
            raise _fail(
                "timezone",
                f"{official.province} uses {official.timezone}, not {value}; set timezone: {official.timezone}",
            )
        return value

    @field_validator("opd")
    @classmethod
    def _unique_opd(cls, value: list[Opd]) -> list[Opd]:
        _no_duplicates([o.code for o in value], "OPD code", field="code")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Profile:
        if self.head_title is None:
            self.head_title = wilayah.HEAD_TITLES[self.kind]
        opd_codes = {o.code for o in self.opd}
        for i, prog in enumerate(self.programmes.hibah):
            for j, code in enumerate(prog.opd):
                if code not in opd_codes:
                    raise _fail(
                        "opd_ref",
                        f"OPD {code} is not in the opd list; add it there or fix the code",
                        ("programmes", "hibah", i, "opd", j),
                    )
        for i, prog in enumerate(self.programmes.bansos):
            if prog.opd not in opd_codes:
                raise _fail(
                    "opd_ref",
                    f"OPD {prog.opd} is not in the opd list; add it there or fix the code",
                    ("programmes", "bansos", i, "opd"),
                )
        codes = [p.code for p in self.programmes.hibah] + [p.code for p in self.programmes.bansos]
        seen: set[str] = set()
        for i, code in enumerate(codes):
            if code in seen:
                section, idx = (
                    ("hibah", i) if i < len(self.programmes.hibah) else ("bansos", i - len(self.programmes.hibah))
                )
                raise _fail(
                    "programme_dup",
                    f"programme code {code} is used twice; programme codes must be unique",
                    ("programmes", section, idx, "code"),
                )
            seen.add(code)
        planned = sum(p.ceiling for p in self.programmes.bansos if p.planned)
        unplanned = sum(p.ceiling for p in self.programmes.bansos if not p.planned)
        if unplanned > planned:
            raise _fail(
                "unplanned_ceiling",
                f"unplanned bansos ceilings total Rp{unplanned:,} but planned ones only Rp{planned:,}; "
                "the unplanned ceiling may not exceed the planned one",
                ("programmes", "bansos"),
            )
        return self


def _no_duplicates(values: list[str], what: str, field: str | None = None) -> None:
    seen: dict[str, int] = {}
    for i, v in enumerate(values):
        if v in seen:
            raise _fail(
                "duplicate",
                f"duplicate {what} {v} (first used at index {seen[v]}); each {what} must be unique",
                (i, field) if field else (i,),
            )
        seen[v] = i


def _suggest_kode(name: str | None) -> str:
    if not name:
        return ""
    matches = wilayah.search(name)
    if len(matches) == 1:
        return f"; {matches[0].name} is {matches[0].kode}"
    return ""


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def json_schema() -> dict:
    """The JSON Schema of a profile, for editors (regions/schema.json)."""
    return Profile.model_json_schema()
