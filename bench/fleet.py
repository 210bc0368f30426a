"""Fleet benchmarks: every figure against a baseline measured in the same run (ratios, not seconds).

    .venv/bin/python bench/fleet.py [--copier-sample 30] [--update-sample 20] [--full]

1. profiles for all 552 regions of the official list (`kit profile init`'s writer, filled in)
2. `kit validate` on all 552 vs a process that only loads the same YAML files   goal: < 1 s, <= 3x
3. `kit new` for one region vs `copier copy` of the same template                goal: <= 1.2x
4. `kit render --all` (552) vs a loop of `copier copy` CLI calls                 goal: >= 3x faster
   (and the ratio to the floor: plain jinja2 + shutil in one process)
5. `kit update --all` on 100 regions (10 with local edits) vs a loop of `copier update`  goal: >= 10x faster

The copier loops cost about 1 s and 4 s per call; unless --full, they are timed on a sample of
calls (spread over the regions, local edits in the same proportion) and scaled to the whole
loop, which is what a loop of independent calls costs. Each kit figure is a full run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
KIT, COPIER = str(BIN / "kit"), str(BIN / "copier")
IDENTITY = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@kit.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@kit.invalid",
}
FILL = [
    "Ibu Kota",
    '"#0b5394"',
    '"#f1c232"',
    "Bagian Kesejahteraan Rakyat Sekretariat Daerah",
    "Jl. Merdeka No. 1",
    '"(021) 3456789"',
    "kesra@{slug}.go.id",
    "hibahbansos.{slug}.go.id",
    "Dinas Sosial",
    "Bagian Kesejahteraan Rakyat Sekretariat Daerah",
    "Badan Pengelolaan Keuangan dan Aset Daerah",
    "5.1.05.05.01.0001",
    "5000000000",
    "5.1.06.03.01.0001",
    "2000000000",
    "15000000",
]


def sh(*cmd: str, cwd: Path | None = None, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **IDENTITY, **(env or {})}, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc


def timed(*cmd: str, **kw) -> float:
    start = time.perf_counter()
    sh(*cmd, **kw)
    return time.perf_counter() - start


def line(label: str, value: str) -> None:
    print(f"  {label:<58} {value}")


def make_template(dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "copier.yml", dest / "copier.yml")
    shutil.copytree(
        ROOT / "template",
        dest / "template",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "var", ".venv", "*.egg-info", ".pytest_cache"),
    )
    shutil.copytree(ROOT / "migrations", dest / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    sh("git", "init", "-q", "-b", "main", cwd=dest)
    sh("git", "add", "-A", cwd=dest)
    sh("git", "commit", "-qm", "template", cwd=dest)
    sh("git", "tag", "v0.1.0", cwd=dest)
    return dest


def make_profiles(regions: Path) -> list[str]:
    from kit import scaffold, wilayah

    logo = (ROOT / "regions/assets/tasikmalaya/logo.svg").read_bytes()
    slugs = []
    for region in wilayah.regions().values():
        slug = scaffold.slug_for(region)
        text = scaffold.profile_text(region, slug, budget_year=2027)
        parts = text.split(": (fill in)")
        text = parts[0] + "".join(": " + v.format(slug=slug) + rest for v, rest in zip(FILL, parts[1:], strict=True))
        (regions / f"{slug}.yml").write_text(text)
        (regions / "assets" / slug).mkdir(parents=True)
        (regions / "assets" / slug / "logo.svg").write_bytes(logo)
        slugs.append(slug)
    return slugs


LOAD_ONLY = """
import sys, yaml
from pathlib import Path
for p in sorted(Path(sys.argv[1]).glob("*.yml")):
    yaml.load(p.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
"""


def floor_render(template_dir: Path, profiles: list, dest: Path) -> float:
    """The same .jinja files rendered with plain jinja2, the rest copied with shutil, one process."""
    import jinja2

    from kit.render import profile_answers

    sub = template_dir / "template"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
    )
    files = [p for p in sub.rglob("*") if p.is_file()]
    start = time.perf_counter()
    for profile in profiles:
        answers = profile_answers(profile)
        ctx = {
            **answers,
            "_copier_answers": {"_commit": "v0.1.0", "_src_path": str(template_dir), **answers},
            "_copier_conf": {"answers_file": ".copier-answers.yml"},
        }
        out = dest / profile.slug
        for f in files:
            rel = f.relative_to(sub)
            if f.name.endswith(".jinja"):
                target = out / env.from_string(str(rel)[: -len(".jinja")]).render(ctx)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(env.get_template(f.relative_to(template_dir).as_posix()).render(ctx))
            else:
                target = out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, target)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copier-sample", type=int, default=30, help="copier copy calls timed for the render baseline")
    ap.add_argument("--update-sample", type=int, default=20, help="copier update calls timed for the update baseline")
    ap.add_argument("--full", action="store_true", help="time the whole copier loops instead of samples")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kit-bench-"))
    try:
        run(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args) -> None:
    from kit.regions import load_all

    print(f"kit fleet benchmark ({os.cpu_count()} CPU cores; machine shared: ratios, not seconds)")
    template = make_template(work / "template")
    regions = work / "regions"
    (regions / "assets").mkdir(parents=True)
    start = time.perf_counter()
    slugs = make_profiles(regions)
    print(f"\n1. profiles: {len(slugs)} written from the official list in {time.perf_counter() - start:.2f} s")
    env = {"KIT_TEMPLATE": str(template), "KIT_REGIONS": str(regions), "KIT_INSTANCES": str(work / "instances")}

    # 2. validate
    # Interleaved rounds, best of each (see section 3).
    validates, loads = [], []
    for _ in range(5):
        validates.append(timed(KIT, "validate", env=env))
        loads.append(timed(sys.executable, "-c", LOAD_ONLY, str(regions)))
    kit_validate, load_only = min(validates), min(loads)
    print(f"\n2. kit validate on all {len(slugs)} profiles (whole process, best of 5, interleaved)")
    line("kit validate", f"{kit_validate:.3f} s   goal < 1 s: {'met' if kit_validate < 1 else 'MISSED'}")
    line("baseline: a process that only loads the same YAML (libyaml)", f"{load_only:.3f} s")
    ratio = kit_validate / load_only
    line("ratio", f"{ratio:.2f}x   goal <= 3x: {'met' if ratio <= 3 else 'MISSED'}")

    # 3. kit new vs copier copy, one region
    data = work / "answers.yml"
    import yaml

    from kit.regions import load_one
    from kit.render import profile_answers

    bogor = load_one(regions, "bogor")
    data.write_text(yaml.safe_dump(profile_answers(bogor)))
    n = 0

    def kit_new() -> float:
        nonlocal n
        n += 1
        return timed(KIT, "new", "bogor", "--dest", str(work / f"new-{n}"), "--ref", "v0.1.0", env=env)

    def copier_copy() -> float:
        nonlocal n
        n += 1
        return timed(
            COPIER,
            "copy",
            "--defaults",
            "--data-file",
            str(data),
            "--vcs-ref",
            "v0.1.0",
            "-q",
            str(template),
            str(work / f"copy-{n}"),
        )

    # Interleaved rounds, best of each: the machine is shared and its load drifts over minutes,
    # which five of one then five of the other would turn into a bias.
    news, copies = [], []
    for _ in range(7):
        news.append(kit_new())
        copies.append(copier_copy())
    t_new, t_copy = min(news), min(copies)
    print("\n3. one region (whole process, best of 7, interleaved)")
    line("kit new bogor (validate, render, branding, git commit)", f"{t_new:.3f} s")
    line("baseline: copier copy of the same template", f"{t_copy:.3f} s")
    line("ratio", f"{t_new / t_copy:.2f}x   goal <= 1.2x: {'met' if t_new / t_copy <= 1.2 else 'MISSED'}")

    # 4. render the whole fleet for CI
    t_render = timed(KIT, "render", "--all", "--dest", str(work / "ci"), env=env)
    profiles = [item.profile for item in load_all(regions)]
    t_floor = floor_render(template, profiles, work / "floor")
    sample = slugs if args.full else slugs[:: max(1, len(slugs) // args.copier_sample)][: args.copier_sample]
    spent = 0.0
    for slug in sample:
        answers = work / f"answers-{slug}.yml"
        answers.write_text(yaml.safe_dump(profile_answers(load_one(regions, slug))))
        spent += timed(
            COPIER,
            "copy",
            "--defaults",
            "--data-file",
            str(answers),
            "--vcs-ref",
            "v0.1.0",
            "-q",
            str(template),
            str(work / "loop" / slug),
        )
    per_call = spent / len(sample)
    loop = per_call * len(slugs)
    print(f"\n4. rendering all {len(slugs)} regions for CI")
    line(
        "kit render --all (parallel over the cores)",
        f"{t_render:.2f} s  ({t_render / len(slugs) * 1000:.0f} ms per region)",
    )
    line(f"baseline: loop of copier copy CLI calls ({len(sample)} timed)", f"{loop:.1f} s  ({per_call:.2f} s per call)")
    line("speed-up", f"{loop / t_render:.1f}x   goal >= 3x: {'met' if loop / t_render >= 3 else 'MISSED'}")
    line(
        "floor: plain jinja2 + shutil, one process",
        f"{t_floor:.2f} s  ({t_floor / len(slugs) * 1000:.0f} ms per region)",
    )
    line("kit render / floor", f"{t_render / t_floor:.2f}x")

    # 5. kit update --all over 100 regions, 10 with local edits
    fleet = slugs[:100]
    instances = work / "instances"
    from kit.render import new_instance
    from kit.workspace import Workspace

    os.environ.update(IDENTITY)
    ws = Workspace.from_env(str(template), regions, instances)
    for i, slug in enumerate(fleet):
        inst = instances / slug
        new_instance(ws, load_one(regions, slug), inst, "v0.1.0")
        if i % 10 == 0:  # a local edit in one region of ten
            readme = inst / "README.md"
            readme.write_text(readme.read_text() + "\nKontak: Diskominfo\n")
            sh("git", "commit", "-qam", "local edit", cwd=inst)
    css = template / "template/src/hibahbansos/static/css/app.css"
    css.write_text(css.read_text() + "\n.v2 { color: inherit; }\n")
    (template / "template/babel.cfg").write_text((template / "template/babel.cfg").read_text() + "\n")
    sh("git", "commit", "-qam", "v0.2.0", cwd=template)
    sh("git", "tag", "v0.2.0", cwd=template)
    copies = work / "copies"
    sample = (
        fleet
        if args.full
        else [s for i, s in enumerate(fleet) if i % 10 == 0][: max(1, args.update_sample // 10)]
        + [s for i, s in enumerate(fleet) if i % 10][: args.update_sample - max(1, args.update_sample // 10)]
    )
    for slug in sample:
        shutil.copytree(instances / slug, copies / slug, symlinks=True)
    t_update = timed(KIT, "update", "--all", "--format", "json", env=env)
    spent = sum(timed(COPIER, "update", "--defaults", "--skip-tasks", "-q", cwd=copies / slug) for slug in sample)
    per_call = spent / len(sample)
    loop = per_call * len(fleet)
    print(f"\n5. kit update --all over {len(fleet)} regions (a new template version; local edits in 10)")
    line("kit update --all", f"{t_update:.2f} s  ({t_update / len(fleet) * 1000:.0f} ms per region)")
    line(
        f"baseline: loop of copier update CLI calls ({len(sample)} timed)", f"{loop:.1f} s  ({per_call:.2f} s per call)"
    )
    line("speed-up", f"{loop / t_update:.1f}x   goal >= 10x: {'met' if loop / t_update >= 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
