"""`kit`: the command line of the fleet. Commands are thin: parse, call, print.

One exception boundary: a KitError becomes a red `Error: ...` on stderr and its exit code
(1 for errors, 2 for usage, 3 for update conflicts); Ansible's exit code passes through.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kit import __version__
from kit.errors import EXIT_ERROR, KitError, ProfileError
from kit.workspace import Workspace

app = typer.Typer(
    help="Hibah & Bansos kit: validate region profiles, render, update and deploy instances.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # tracebacks with locals could show personal data
    add_completion=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class Format(StrEnum):
    text = "text"
    json = "json"


def boundary(fn: Callable) -> Callable:
    """Turn KitError into `Error: ...` lines and the error's exit code."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ProfileError as exc:
            for problem in exc.problems:
                err.print(f"[red]Error:[/red] {problem}", soft_wrap=True, markup=True)
            raise typer.Exit(exc.exit_code) from None
        except KitError as exc:
            err.print(f"[red]Error:[/red] {exc}", soft_wrap=True, markup=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[red]Error:[/red] interrupted; nothing was left half-done", markup=True)
            raise typer.Exit(130) from None

    return wrapped


def workspace(ctx: typer.Context) -> Workspace:
    return ctx.obj


@app.callback()
def main(
    ctx: typer.Context,
    template: Annotated[str | None, typer.Option(help="Template repository (path or URL) [env: KIT_TEMPLATE]")] = None,
    regions: Annotated[Path | None, typer.Option(help="Folder of region profiles [env: KIT_REGIONS]")] = None,
    instances: Annotated[Path | None, typer.Option(help="Folder of rendered instances [env: KIT_INSTANCES]")] = None,
    version: Annotated[bool, typer.Option("--version", help="Show the kit's version and exit.")] = False,
) -> None:
    if version:
        out.print(f"kit {__version__}")
        raise typer.Exit(0)
    ctx.obj = Workspace.from_env(template, regions, instances)


@app.command()
@boundary
def validate(
    ctx: typer.Context,
    slugs: Annotated[list[str] | None, typer.Argument(help="Regions to check; all when none are named.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text, or json for CI.")] = Format.text,
) -> None:
    """Check region profiles; report every problem in every file, one line each."""
    from kit.regions import load_all

    ws = workspace(ctx)
    items = load_all(ws.regions, slugs or [])
    problems = [p for item in items for p in item.problems]
    if fmt is Format.json:
        print(
            json.dumps(
                {
                    "checked": len(items),
                    "valid": sum(1 for i in items if i.profile),
                    "problems": [p.as_dict() for p in problems],
                },
                indent=2,
            )
        )
    else:
        for p in problems:
            err.print(f"[red]Error:[/red] {p}", soft_wrap=True, markup=True)
        bad = len({p.file for p in problems})
        summary = f"{len(items)} profile(s) checked, {len(items) - bad} valid"
        if problems:
            summary += f", {len(problems)} problem(s) in {bad} file(s)"
        (err if problems else out).print(summary)
    if problems:
        raise typer.Exit(EXIT_ERROR)


@app.command()
@boundary
def new(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The region, e.g. tasikmalaya (regions/<slug>.yml).")],
    dest: Annotated[Path | None, typer.Option(help="Where to render (default: instances/<slug>/).")] = None,
    ref: Annotated[
        str | None, typer.Option(help="Template git ref (tag, branch or commit); default: the template's HEAD.")
    ] = None,
) -> None:
    """Validate a profile, render its instance with Copier, git-commit it, print next steps."""
    from kit.regions import display_path, load_one
    from kit.render import new_instance

    ws = workspace(ctx)
    profile = load_one(ws.regions, slug)
    result = new_instance(ws, profile, dest or ws.instance(slug), ref)
    for note in result.warnings:
        err.print(f"[yellow]Warning:[/yellow] {note}", soft_wrap=True, markup=True)
    where = display_path(result.path)
    out.print(f"Rendered {profile.name} into {where} (template {(result.template_commit or 'unversioned')[:12]}).")
    out.print("Next steps:")
    out.print(f"  cd {where}")
    out.print("  python3 -m venv .venv && .venv/bin/pip install -e '.[test]'", markup=False)
    out.print("  .venv/bin/hibahbansos migrate && .venv/bin/hibahbansos seed-demo")
    out.print("  .venv/bin/hibahbansos serve          # http://127.0.0.1:8000")


@app.command("list")
@boundary
def list_regions(
    ctx: typer.Context,
    fmt: Annotated[Format, typer.Option("--format", help="text, or json.")] = Format.text,
) -> None:
    """A table of the regions: slug, name, kind, kode, timezone, domain, server."""
    from kit.regions import load_all

    items = load_all(workspace(ctx).regions)
    rows = []
    for item in items:
        p = item.profile
        if p is None:
            rows.append(
                {
                    "slug": item.slug,
                    "name": "(invalid: run kit validate)",
                    "kind": "",
                    "kode": "",
                    "timezone": "",
                    "domain": "",
                    "server": "",
                }
            )
            continue
        server = f"{p.server.user}@{p.server.host}:{p.server.port}" if p.server else "-"
        rows.append(
            {
                "slug": p.slug,
                "name": p.name,
                "kind": p.kind,
                "kode": p.kode,
                "timezone": p.timezone,
                "domain": p.site.domain,
                "server": server,
            }
        )
    if fmt is Format.json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} region(s)")
    for col in ("slug", "name", "kind", "kode", "timezone", "domain", "server"):
        table.add_column(col, no_wrap=col in ("slug", "kode"))
    for row in rows:
        table.add_row(*row.values())
    out.print(table)


@app.command()
@boundary
def schema(
    ctx: typer.Context,
    check: Annotated[
        bool, typer.Option(help="Exit 1 if regions/schema.json is out of date instead of writing it.")
    ] = False,
) -> None:
    """Write the profile's JSON Schema to regions/schema.json (for editor autocompletion)."""
    from kit.profile import json_schema

    target = workspace(ctx).regions / "schema.json"
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if check:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            raise KitError(f"{target} is out of date; run `kit schema` and commit it")
        out.print(f"{target} is up to date")
        return
    target.write_text(text, encoding="utf-8")
    out.print(f"wrote {target}")


# --- deploy and friends ------------------------------------------------------------------------

VaultOpt = Annotated[
    Path | None,
    typer.Option("--vault-password-file", help="File holding the vault password [env: KIT_VAULT_PASSWORD_FILE]"),
]
SshKeyOpt = Annotated[
    Path | None, typer.Option("--ssh-key", help="SSH private key [env: KIT_SSH_KEY]; default: your SSH config")
]


def _note(message: str) -> None:
    out.print(message, markup=False, soft_wrap=True)


def _exit_with(rc: int, what: str) -> None:
    if rc != 0:
        err.print(
            f"[red]Error:[/red] {what} failed (ansible-playbook exit {rc}); the messages above say why", markup=True
        )
    raise typer.Exit(rc)


@app.command()
@boundary
def deploy(
    ctx: typer.Context,
    slugs: Annotated[list[str] | None, typer.Argument(help="Regions to deploy.")] = None,
    all_regions: Annotated[
        bool, typer.Option("--all", help="Every region whose profile has a server: section.")
    ] = False,
    check: Annotated[bool, typer.Option("--check", help="Show what would change; change nothing.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show the changes to files on the servers.")] = False,
    tags: Annotated[
        str | None, typer.Option("--tags", help="Only these parts: base, web, app, backup (comma-separated).")
    ] = None,
    ssh_key: SshKeyOpt = None,
    vault_password_file: VaultOpt = None,
    canary: Annotated[int, typer.Option(help="Fleet: servers in the first batch.", min=1)] = 1,
    wave: Annotated[str, typer.Option(help="Fleet: size of each later batch, a number or a percentage.")] = "25%",
    max_fail: Annotated[
        int, typer.Option(help="Fleet: stop when more than this percentage of a batch fails.", min=0, max=100)
    ] = 0,
) -> None:
    """Ship regions' instances to their servers with Ansible; passes ansible-playbook's exit code through."""
    from kit import deploy as dep
    from kit import secrets

    ws = workspace(ctx)
    targets = dep.select(ws, slugs or [], all_regions)
    pw_file = secrets.password_file(vault_password_file)
    opts = dep.RunOptions(pw_file, dep.ssh_key(ssh_key), check, diff, tags)
    dep.prepare(ws, targets, pw_file, build=True, log=_note)
    opts.extra_vars = dep.deploy_vars(targets, canary, wave, max_fail)
    for t in targets:
        assert t.bundle is not None
        _note(
            f"{t.slug}: release {t.bundle.release} (app {t.bundle.app_version}) -> {t.profile.server.user}@{t.address}"
        )  # type: ignore[union-attr]
    rc = dep.run_playbook("site.yml", targets, opts)
    _exit_with(rc, "deploy" if len(targets) == 1 else f"deploy of {len(targets)} regions")


@app.command()
@boundary
def rollback(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The region to roll back.")],
    ssh_key: SshKeyOpt = None,
    vault_password_file: VaultOpt = None,
) -> None:
    """Go back to the release deployed before the current one (and its database, if a migration changed it)."""
    from kit import deploy as dep
    from kit import secrets

    ws = workspace(ctx)
    targets = dep.select(ws, [slug], False)
    pw_file = secrets.password_file(vault_password_file)
    dep.prepare(ws, targets, pw_file, build=False, log=_note)
    opts = dep.RunOptions(pw_file, dep.ssh_key(ssh_key), extra_vars=dep.stamp_vars())
    _exit_with(dep.run_playbook("rollback.yml", targets, opts), "rollback")


@app.command()
@boundary
def backup(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The region to back up.")],
    dest: Annotated[Path, typer.Option(help="Folder on this machine for the backup.")] = Path("backups"),
    latest: Annotated[
        bool, typer.Option("--latest", help="Fetch the newest existing backup instead of making one now.")
    ] = False,
    ssh_key: SshKeyOpt = None,
    vault_password_file: VaultOpt = None,
) -> None:
    """Back up a region's database and uploads now and fetch the archive to this machine."""
    from kit import deploy as dep
    from kit import secrets
    from kit.regions import display_path

    ws = workspace(ctx)
    targets = dep.select(ws, [slug], False)
    pw_file = secrets.password_file(vault_password_file)
    dep.prepare(ws, targets, pw_file, build=False, log=_note)
    folder = (dest.expanduser() / slug).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    before = set(folder.glob("backup-*.tar.gz"))
    opts = dep.RunOptions(pw_file, dep.ssh_key(ssh_key))
    rc = dep.run_playbook(
        "backup.yml", targets, opts, {"backup_fetch_dest": str(folder) + "/", "backup_make_new": not latest}
    )
    if rc == 0:
        new = sorted(set(folder.glob("backup-*.tar.gz")) - before) or sorted(folder.glob("backup-*.tar.gz"))[-1:]
        for path in new:
            out.print(f"backup of {slug}: {display_path(path)}", markup=False)
    _exit_with(rc, "backup")


@app.command()
@boundary
def restore(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The region to restore.")],
    file: Annotated[Path, typer.Argument(help="A backup archive made by `kit backup` (backup-*.tar.gz).")],
    ssh_key: SshKeyOpt = None,
    vault_password_file: VaultOpt = None,
) -> None:
    """Replace a region's database and uploads with those of a backup (the current state is backed up first)."""
    from kit import deploy as dep
    from kit import secrets

    ws = workspace(ctx)
    targets = dep.select(ws, [slug], False)
    manifest = dep.check_backup_file(file, slug)
    pw_file = secrets.password_file(vault_password_file)
    dep.prepare(ws, targets, pw_file, build=False, log=_note)
    _note(f"restoring {slug} from {file.name} (made {manifest.get('created_at', '?')})")
    opts = dep.RunOptions(pw_file, dep.ssh_key(ssh_key))
    rc = dep.run_playbook("restore.yml", targets, opts, {"backup_restore_file": str(file.resolve())})
    _exit_with(rc, "restore")


secrets_app = typer.Typer(help="A region's secrets, in an ansible-vault file beside its profile.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")


@secrets_app.command("init")
@boundary
def secrets_init(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The region.")],
    vault_password_file: VaultOpt = None,
) -> None:
    """Generate a region's secrets once (Flask secret key, audit key, first administrator's password)."""
    from kit import secrets
    from kit.regions import display_path, load_one

    ws = workspace(ctx)
    load_one(ws.regions, slug)
    path = secrets.init(ws.regions, slug, secrets.password_file(vault_password_file))
    _note(f"wrote {display_path(path)} (encrypted): secret_key, audit_key, admin_username, admin_password")
    _note(
        f"The first administrator is '{secrets.ADMIN_USERNAME}'; see the password with `kit secrets show {slug} admin_password`."
    )
    _note("Keep the vault password safe: without it these secrets cannot be read.")


@secrets_app.command("show")
@boundary
def secrets_show(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The region.")],
    key: Annotated[
        str | None, typer.Argument(help="Print this secret's value; without it, list the names only.")
    ] = None,
    vault_password_file: VaultOpt = None,
) -> None:
    """List the names of a region's secrets, or print one value when you ask for it by name."""
    from kit import secrets

    ws = workspace(ctx)
    vault = secrets.read(secrets.vault_path(ws.regions, slug), secrets.password_file(vault_password_file))
    if key is None:
        for name in sorted(vault.values):
            _note(name.removeprefix("vault_"))
        return
    value = vault.get(key)
    if value is None:
        raise KitError(
            f"{vault.path.name} has no secret {key!r}; names: {', '.join(sorted(k.removeprefix('vault_') for k in vault.values))}"
        )
    print(value)


@secrets_app.command("set")
@boundary
def secrets_set(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The region.")],
    key: Annotated[str, typer.Argument(help="tls_certificate, tls_private_key, smtp_password or admin_password.")],
    from_file: Annotated[Path, typer.Option("--from-file", help="Read the value from this file ('-' for stdin).")],
    vault_password_file: VaultOpt = None,
) -> None:
    """Put a value you were given (certificate, key, SMTP password) into a region's vault."""
    import sys as _sys

    from kit import secrets
    from kit.regions import display_path

    ws = workspace(ctx)
    if str(from_file) == "-":
        value = _sys.stdin.read()
    else:
        try:
            value = from_file.expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise KitError(f"cannot read {from_file}: {exc.strerror}") from None
    path = secrets.set_value(ws.regions, slug, key, value, secrets.password_file(vault_password_file))
    _note(f"set {key} in {display_path(path)}")
