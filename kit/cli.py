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
