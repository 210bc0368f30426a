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

from kit import __version__
from kit.errors import EXIT_ERROR, KitError, ProfileError
from kit.workspace import Workspace

app = typer.Typer(
    help="Hibah & Bansos kit: validate region profiles, render, update and deploy instances.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # tracebacks with locals could show personal data
    add_completion=False,
)


class _Console:
    """rich's Console, imported on first use: `kit validate`, which CI runs on every change over
    every profile, prints plain lines and so starts without rich (about 30 ms of its 0.7 s)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, **self._options)
        return getattr(self._console, name)


out = _Console()
err = _Console(stderr=True)


def _echo(message: str, error: bool = False, label: bool = False) -> None:
    """One plain line (colour only on a terminal), with a red `Error:` label when asked."""
    if label:
        message = typer.style("Error:", fg="red") + " " + message
    typer.echo(message, err=error)


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
            _echo(str(p), error=True, label=True)
        bad = len({p.file for p in problems})
        summary = f"{len(items)} profile(s) checked, {len(items) - bad} valid"
        if problems:
            summary += f", {len(problems)} problem(s) in {bad} file(s)"
        _echo(summary, error=bool(problems))
    if problems:
        raise typer.Exit(EXIT_ERROR)


@app.command()
@boundary
def new(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The region, e.g. tasikmalaya (regions/<slug>.yml).")],
    dest: Annotated[Path | None, typer.Option(help="Where to render (default: instances/<slug>/).")] = None,
    ref: Annotated[
        str | None,
        typer.Option(help="Template git ref (tag, branch or commit); default: the newest release tag, else HEAD."),
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
    out.print("  python3 -m venv .venv && .venv/bin/pip install -e '.[test]'", markup=False, soft_wrap=True)
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
    from rich.table import Table

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


def _fleet_jobs(ws: Workspace, slugs: list[str], everyone: bool) -> list:
    """The regions a fleet command works on: those named, or every rendered instance."""
    from kit.regions import load_all
    from kit.update import Job

    wanted = list(dict.fromkeys(slugs))
    if everyone:
        found = (
            sorted(p.name for p in ws.instances.iterdir() if (p / ".copier-answers.yml").is_file())
            if ws.instances.is_dir()
            else []
        )
        wanted += [s for s in found if s not in wanted]
    if not wanted:
        return []
    loaded = {item.slug: item for item in load_all(ws.regions, wanted)}
    return [
        Job(slug, ws.instance(slug), loaded[slug].profile, [str(p) for p in loaded[slug].problems]) for slug in wanted
    ]


def _progress(total: int, label: str):
    """A rich progress bar on stderr when it is a terminal; otherwise nothing."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if total <= 1 or not err.is_terminal:
        return None
    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True
    )


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
def update(
    ctx: typer.Context,
    slugs: Annotated[list[str] | None, typer.Argument(help="Regions to update.")] = None,
    everyone: Annotated[bool, typer.Option("--all", help="Every rendered instance in the instances folder.")] = False,
    ref: Annotated[
        str | None, typer.Option(help="Template version (tag, branch or commit); default: the newest release.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change and conflict; touch nothing.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", help="text, or json for CI.")] = Format.text,
    jobs: Annotated[int | None, typer.Option(help="Regions updated at once (default: one per CPU core).")] = None,
) -> None:
    """Re-render instances at a newer template version and their current profile, keeping local edits.

    Exit 0 when every region is updated or already current, 3 when a region has conflicts left
    to resolve, 1 when a region failed.
    """
    import os

    from kit import versions
    from kit.errors import EXIT_CONFLICT, UsageError
    from kit.render import TemplateSource
    from kit.update import CONFLICTED, FAILED, RESULTS, update_many

    ws = workspace(ctx)
    if not slugs and not everyone:
        raise UsageError("name the regions to update (kit update tasikmalaya) or pass --all")
    source = TemplateSource.open(ws)
    target = versions.target(source.repo, ref)
    work = _fleet_jobs(ws, slugs or [], everyone)
    if not work:
        raise KitError(f"no rendered instances in {ws.instances}; render one with `kit new SLUG`")
    bar = _progress(len(work), "Updating")
    if bar is not None:
        bar.start()
        task = bar.add_task("update", total=len(work))
    try:
        outcomes = update_many(
            ws,
            source,
            work,
            target,
            explicit=ref is not None,
            dry_run=dry_run,
            workers=jobs or os.cpu_count() or 1,
            progress=(lambda o: bar.advance(task)) if bar is not None else (lambda o: None),
        )
    finally:
        if bar is not None:
            bar.stop()
    counts = {r: sum(1 for o in outcomes if o.result == r) for r in RESULTS}
    if fmt is Format.json:
        print(
            json.dumps(
                {
                    "target": target.described,
                    "dry_run": dry_run,
                    "counts": counts,
                    "regions": [o.as_dict() for o in outcomes],
                },
                indent=2,
            )
        )
    elif len(outcomes) == 1 and not everyone:
        _report_one(outcomes[0], dry_run)
    else:
        _report_table(outcomes, target.described, dry_run, counts)
    if counts[FAILED]:
        raise typer.Exit(EXIT_ERROR)
    if counts[CONFLICTED]:
        raise typer.Exit(EXIT_CONFLICT)


def _report_one(o, dry_run: bool) -> None:
    from kit.update import CONFLICTED, CURRENT, FAILED

    if o.result == FAILED:
        raise KitError(o.reason)
    if o.result == CURRENT:
        note = f"; {o.reason}" if o.reason else ""
        out.print(f"{o.slug} is already current (template {o.from_version}){note}.", markup=False, soft_wrap=True)
        return
    step = (
        f"template {o.from_version} -> {o.to_version}"
        if o.from_version != o.to_version
        else f"profile (template {o.to_version})"
    )
    for cmd in o.migrations:
        out.print(f"Ran migration: {cmd}", markup=False, soft_wrap=True)
    if o.result == CONFLICTED:
        verb = "would conflict" if dry_run else "has conflicts"
        err.print(
            f"Conflict: {o.slug} {verb} updating {step}; your local edits and upstream changed the same lines in:",
            markup=False,
        )
        for path in o.conflicts:
            err.print(f"  {path}", markup=False, soft_wrap=True)
        if dry_run:
            err.print(
                "Dry run: nothing was changed. Run without --dry-run to start the update and resolve them.",
                markup=False,
            )
            return
        files = " ".join(o.conflicts)
        err.print(f"Nothing is committed yet. To finish, in {o.path}:", markup=False, soft_wrap=True)
        err.print(
            "  1. edit each file above: keep what is right between <<<<<<< and >>>>>>>, delete the markers",
            markup=False,
        )
        err.print(f"  2. git add {files}", markup=False, soft_wrap=True)
        err.print(
            "  3. git commit --no-edit      (the update's commit message is prepared)", markup=False, soft_wrap=True
        )
        err.print("To abandon the update instead: git merge --abort", markup=False, soft_wrap=True)
        return
    if dry_run:
        out.print(
            f"Dry run: {o.slug} would update {step}; {len(o.changed)} file(s) would change, no conflicts:", markup=False
        )
        for path in o.changed:
            out.print(f"  {path}", markup=False, soft_wrap=True)
        return
    out.print(
        f"Updated {o.slug}: {step}, {len(o.changed)} file(s) changed; committed {o.commit[:12]} in {o.path}.",
        markup=False,
    )


def _report_table(outcomes: list, target: str, dry_run: bool, counts: dict) -> None:
    from rich.table import Table

    from kit.update import CONFLICTED, FAILED, UPDATED

    title = f"kit update{' --dry-run' if dry_run else ''} -> {target}"
    table = Table(title=title)
    for col in ("region", "result", "version", "detail"):
        table.add_column(col, overflow="fold")
    for o in outcomes:
        version = (
            f"{o.from_version} -> {o.to_version}"
            if o.from_version and o.from_version != o.to_version
            else (o.to_version or "")
        )
        if o.result == UPDATED:
            detail = f"{len(o.changed)} file(s)" + ("; profile changed" if o.profile_changed else "")
        elif o.result == CONFLICTED:
            detail = "conflicts: " + ", ".join(o.conflicts)
        elif o.result == FAILED:
            detail = o.reason
        else:
            detail = o.reason
        result = f"would be {o.result}" if dry_run and o.result == UPDATED else o.result
        table.add_row(o.slug, result, version, detail)
    out.print(table)
    out.print(f"{len(outcomes)} region(s): " + ", ".join(f"{n} {r}" for r, n in counts.items()), soft_wrap=True)
    if counts[CONFLICTED] and not dry_run:
        out.print(
            "Resolve each conflict in its instance, then `git add` the files and `git commit --no-edit`; or `git merge --abort`."
        )


profile_app = typer.Typer(help="Region profiles: create one for any province or kabupaten/kota.", no_args_is_help=True)
app.add_typer(profile_app, name="profile")


@profile_app.command("init")
@boundary
def profile_init(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="The region's name: Bandung, 'Kota Bandung', 'Kab. Garut', 'Jawa Barat'.")
    ] = None,
    kode: Annotated[
        str | None, typer.Option(help="Kemendagri kode, to pick one of several regions with that name, e.g. 32.73.")
    ] = None,
    slug: Annotated[str | None, typer.Option(help="File name (regions/<slug>.yml); default from the name.")] = None,
) -> None:
    """Create regions/<slug>.yml from the official list, the rest marked (fill in) for `kit validate`."""
    import sys

    from kit import scaffold
    from kit.errors import UsageError
    from kit.regions import display_path

    ws = workspace(ctx)
    region, found = scaffold.choose(name, kode)
    if region is None:
        if not sys.stdin.isatty():
            raise UsageError(scaffold.choices_text(name or "", found))
        out.print(f"{name!r} matches {len(found)} regions:", markup=False, soft_wrap=True)
        for i, r in enumerate(found, start=1):
            out.print(f"  {i}. {r.name} ({r.kode}, {r.province})", markup=False, soft_wrap=True)
        pick = 0
        while not 1 <= pick <= len(found):
            pick = typer.prompt(f"Which one? [1-{len(found)}]", type=int)
        region = found[pick - 1]
    path = scaffold.write_profile(ws.regions, region, slug)
    shown = display_path(path)
    out.print(f"Wrote {shown} for {region.name} ({region.kode}, {region.province}).", markup=False, soft_wrap=True)
    out.print(
        f"Next: replace each (fill in) in it, add the logo to regions/assets/{path.stem}/, then `kit validate {path.stem}`.",
        markup=False,
        soft_wrap=True,
    )


def _all_slugs(ws: Workspace) -> list[str]:
    from kit.regions import profile_paths

    slugs = {p.stem for p in profile_paths(ws.regions)}
    if ws.instances.is_dir():
        slugs |= {p.name for p in ws.instances.iterdir() if (p / ".copier-answers.yml").is_file()}
    return sorted(slugs)


@app.command()
@boundary
def status(
    ctx: typer.Context,
    slugs: Annotated[list[str] | None, typer.Argument(help="Regions to show; all when none are named.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text, or json for CI.")] = Format.text,
    remote: Annotated[
        bool, typer.Option("--remote/--local", help="Read each server's deploy receipt over SSH.")
    ] = True,
    jobs: Annotated[int | None, typer.Option(help="Regions examined at once (default: one per CPU core).")] = None,
) -> None:
    """Per region: template version vs the newest, profile changed since the render, local edits, deployed version."""
    import os
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    from kit import receipts, versions
    from kit.regions import load_all
    from kit.render import TemplateSource
    from kit.status import standing

    ws = workspace(ctx)
    source = TemplateSource.open(ws)
    newest = versions.newest(source.repo)
    wanted = list(dict.fromkeys(slugs or _all_slugs(ws)))
    loaded = {item.slug: item for item in load_all(ws.regions, wanted)} if wanted else {}
    profiles = {s: loaded[s].profile for s in wanted}
    workers = min(jobs or os.cpu_count() or 1, max(1, len(wanted) // 4))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(standing, *zip(*[(ws, source, s, profiles[s], newest) for s in wanted], strict=True)))
    else:
        rows = [standing(ws, source, s, profiles[s], newest) for s in wanted]
    if remote:
        with ThreadPoolExecutor(max_workers=16) as pool:
            found = pool.map(lambda s: receipts.read(profiles[s]) if profiles[s] else None, wanted)
            for row, deployed in zip(rows, found, strict=True):
                row.deployed = deployed.as_dict() if deployed else None
    if fmt is Format.json:
        print(json.dumps({"newest": newest.described, "regions": [r.as_dict() for r in rows]}, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} region(s); newest template {newest.described}")
    for col in ("region", "template", "profile", "local edits", "deployed", "health"):
        table.add_column(col, overflow="fold")
    for r in rows:
        template = r.rendered or r.note
        if r.behind:
            template = f"{r.rendered} -> {r.newest} available"
        profile = "-" if r.profile_changed is None else ("changed" if r.profile_changed else "as rendered")
        local = "-" if r.local_files is None else f"{r.local_files} file(s)"
        dep = r.deployed or {}
        deployed = "-" if not remote else (_deployed_text(dep) if dep else "invalid profile")
        table.add_row(r.slug, template, profile, local, deployed, dep.get("health") or "-")
    out.print(table)


def _deployed_text(dep: dict) -> str:
    from kit.receipts import DEPLOYED

    if dep["state"] == DEPLOYED:
        return f"{dep['template_version']} ({dep['deployed_at'] or 'date unknown'})"
    return dep["state"] + (f": {dep['detail']}" if dep.get("detail") else "")


@app.command()
@boundary
def diff(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The region.")],
) -> None:
    """The region's local customisations: a unified diff against a pristine render of its version."""
    from kit.render import TemplateSource
    from kit.status import compare, unified

    ws = workspace(ctx)
    cmp = compare(ws, TemplateSource.open(ws), slug, ws.instance(slug))
    text = unified(cmp)
    if not text:
        err.print(
            f"No local customisations: {slug} matches the pristine render of template {cmp.ref.described}.",
            markup=False,
            soft_wrap=True,
        )
        return
    print(text, end="")


@app.command()
@boundary
def render(
    ctx: typer.Context,
    slugs: Annotated[list[str] | None, typer.Argument(help="Regions to render.")] = None,
    everyone: Annotated[bool, typer.Option("--all", help="Every region with a profile.")] = False,
    dest: Annotated[Path, typer.Option(help="Folder to render into, one sub-folder per region.")] = Path(
        "build/regions"
    ),
    ref: Annotated[
        str | None, typer.Option(help="Template git ref; default: the newest release tag, else HEAD.")
    ] = None,
    jobs: Annotated[int | None, typer.Option(help="Regions rendered at once (default: one per CPU core).")] = None,
) -> None:
    """Render regions as plain folders (no git) for CI: fast, in parallel, exactly what kit new makes."""
    import os

    from kit import versions
    from kit.batch import render_many
    from kit.errors import UsageError
    from kit.regions import fail_if_problems, load_all, profile_paths
    from kit.render import TemplateSource

    ws = workspace(ctx)
    if not slugs and not everyone:
        raise UsageError("name the regions to render, or pass --all")
    wanted = list(dict.fromkeys([*(slugs or []), *([p.stem for p in profile_paths(ws.regions)] if everyone else [])]))
    items = load_all(ws.regions, wanted)
    fail_if_problems(items)
    source = TemplateSource.open(ws)
    target = versions.resolve(source.repo, ref or "HEAD")
    dest = dest.absolute()
    taken = [s for s in wanted if (dest / s).exists() and any((dest / s).iterdir())]
    if taken:
        raise KitError(f"{dest} already holds {', '.join(taken[:5])}; render into an empty folder")
    failures = render_many(ws, source, target, [i.profile for i in items], dest, jobs or os.cpu_count() or 1)
    for slug, reason in failures:
        err.print(f"[red]Error:[/red] {slug}: {reason}", markup=True, soft_wrap=True)
    if failures:
        raise typer.Exit(EXIT_ERROR)
    out.print(
        f"Rendered {len(items)} region(s) into {dest} from template {target.described}.", markup=False, soft_wrap=True
    )


ci_app = typer.Typer(help="The fleet's CI: which regions a change touches; render and test them.", no_args_is_help=True)
app.add_typer(ci_app, name="ci")


@ci_app.command("plan")
@boundary
def ci_plan(
    ctx: typer.Context,
    base: Annotated[
        str | None, typer.Option(help="Git ref to compare with (the merge request's target); none: every region.")
    ] = None,
) -> None:
    """Print, as JSON, the regions a change since BASE needs rendered and tested, and why."""
    from kit.ci import plan

    print(json.dumps(plan(workspace(ctx).regions, base).as_dict(), indent=2))


@ci_app.command("test")
@boundary
def ci_test(
    ctx: typer.Context,
    slugs: Annotated[
        list[str] | None, typer.Argument(help="Regions to test; default: those `ci plan --base` names.")
    ] = None,
    base: Annotated[str | None, typer.Option(help="Git ref to compare with; none: every region.")] = None,
    shard: Annotated[str | None, typer.Option(help="This job's share, I/N (1-based), for a parallel matrix.")] = None,
) -> None:
    """Render each region (template HEAD) and run its app's own tests; exit 1 if any region fails."""
    from kit import versions
    from kit.ci import plan, test_region
    from kit.ci import shard as share
    from kit.regions import fail_if_problems, load_all
    from kit.render import TemplateSource

    ws = workspace(ctx)
    wanted = share(list(slugs) if slugs else plan(ws.regions, base).regions, shard)
    if not wanted:
        out.print(f"Nothing to test{' in shard ' + shard if shard else ''}.", markup=False)
        return
    items = load_all(ws.regions, wanted)
    fail_if_problems(items)
    source = TemplateSource.open(ws)
    ref = versions.resolve(source.repo, "HEAD")
    failed = []
    for item in items:
        result = test_region(ws, source, ref, item.profile)
        out.print(f"{'PASS' if result.ok else 'FAIL'} {result.slug}: {result.summary}", markup=False, soft_wrap=True)
        if not result.ok:
            failed.append(result)
            err.print(result.output, markup=False, soft_wrap=True)
    out.print(f"{len(items) - len(failed)} passed, {len(failed)} failed", markup=False)
    if failed:
        raise typer.Exit(EXIT_ERROR)


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
