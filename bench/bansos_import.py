"""Benchmark of the bansos import: a million realistic rows against a floor measured in the same run.

    .venv/bin/python bench/bansos_import.py [--region tasikmalaya] [--rows 1000000] [--keep DIR]

1. Renders the region with the real kit (as `kit new` does) into a temporary folder.
2. Writes a CSV of N people in families across the region's villages (valid NIKs, birth
   dates and sexes), with 1% invalid rows (bad NIK, or a birth date or sex that contradicts
   the NIK) and 0.5% duplicates (half the same NIK again, half the same person under another
   NIK with a spelling variant of the name).
3. Floor: the rows parsed in advance (outside the timing), then written with plain
   `sqlite3.executemany` in one transaction into `bansos_persons` created by the app's own
   migrations, so with the same indexes (unique NIK, KK, dedup key, area) and the same FTS5
   triggers. Measured before and after the import (the shared machine's load drifts); the
   import is compared with the mean, and CPU time is printed too.
4. The import: `hibahbansos bansos import FILE` in a child process on a fresh database; wall
   time and the child's peak RSS (its VmHWM, sampled from /proc until it exits).
5. Latency on the full table: NIK lookups and name searches, p50 and p95.

Prints the figures; the goals are import <= 3x the floor and peak RSS < 500 MB. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def render(region: str, dest: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import GIT_IDENTITY, snapshot_template

    repo = snapshot_template(dest / "template-repo")
    env = {**os.environ, **GIT_IDENTITY, "KIT_TEMPLATE": str(repo), "KIT_REGIONS": str(ROOT / "regions")}
    instance = dest / region
    proc = subprocess.run(
        [str(BIN / "kit"), "new", region, "--dest", str(instance)], capture_output=True, text=True, env=env
    )
    if proc.returncode:
        sys.exit(f"kit new failed: {proc.stderr}")
    return instance


def env_for(instance: Path, data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIBAHBANSOS_")}
    env.update(
        PYTHONPATH=str(instance / "src"),
        HIBAHBANSOS_HOME=str(instance),
        HIBAHBANSOS_DATA=str(data),
        HIBAHBANSOS_SECRET_KEY="bench",
        HIBAHBANSOS_AUDIT_KEY="bench",
    )
    return env


def generate(path: Path, region_kode: str, rows: int, seed: int = 11) -> dict:
    """Write the CSV; returns how many rows of each kind it holds."""
    from hibahbansos.bansos import demo

    rng = random.Random(seed)
    invalid = duplicates = 0
    recent: list[dict] = []
    with open(path, "w", encoding="utf-8", newline="") as fh:
        import csv

        writer = csv.DictWriter(fh, fieldnames=demo.HEADER)
        writer.writeheader()
        for n, person in enumerate(demo.people(region_kode, rows, seed=seed), start=1):
            roll = rng.random()
            if roll < 0.01:
                invalid += 1
                kind = n % 3
                if kind == 0:
                    person["NIK"] = person["NIK"][:15]  # 15 digits
                elif kind == 1:
                    day = int(person["TGL_LAHIR"][:2])
                    person["TGL_LAHIR"] = f"{day % 28 + 1:02d}" + person["TGL_LAHIR"][2:]  # contradicts the NIK
                else:
                    person["JNS_KEL"] = "P" if person["JNS_KEL"] == "L" else "L"
            elif roll < 0.015 and recent:
                duplicates += 1
                twin = dict(rng.choice(recent))
                if n % 2:
                    twin["ALAMAT"] = twin["ALAMAT"] + " (pindah rumah)"  # same NIK again: merged
                else:
                    twin["NIK"] = twin["NIK"][:-4] + "8" + twin["NIK"][-3:]  # another NIK: flagged
                    twin["NAMA"] = "H. " + twin["NAMA"] + ", S.Pd."
                person = twin
            else:
                recent.append(person)
                if len(recent) > 1000:
                    recent.pop(0)
            writer.writerow(person)
    return {"rows": rows, "invalid": invalid, "duplicates": duplicates}


def parse_all(instance: Path, csv_path: Path) -> list[tuple]:
    """Every row the import keeps, checked and unique by NIK, ready for executemany (untimed)."""
    from hibahbansos.bansos import areas, importer, recipients
    from hibahbansos.region import Region

    region = Region.load(instance / "region.yml")
    area = areas.for_region(region.kode)
    today = dt.date.today()
    parsed: dict[str, tuple] = {}
    rows = importer.read_rows(csv_path, "csv")
    layout = importer.find_layout(rows)
    for number, row in enumerate(rows, start=layout.header_row + 1):
        person, _ = recipients.check_row(importer._mapped(row, layout.mapping), area, today)
        if person is not None:
            parsed[person.nik] = (person.nik, *person.data(), "sha", number, None, "now", "now")
    return list(parsed.values())


def floor(database: Path, values: list[tuple]) -> tuple[float, float]:
    """(wall, CPU) seconds of a plain executemany of the rows into the app's own schema."""
    from hibahbansos import db as dbmod
    from hibahbansos import migrations
    from hibahbansos.bansos import importer, recipients

    conn = dbmod.connect(database)
    migrations.apply_all(conn)
    conn.execute(f"PRAGMA cache_size = -{importer.CACHE_KIB}")  # the same page cache the import uses
    cols = ("nik", *recipients.DATA_FIELDS, "source_sha", "source_row", "import_id", "created_at", "updated_at")
    sql = f"INSERT INTO bansos_persons ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    start, cpu = time.perf_counter(), time.process_time()
    conn.conn.execute("BEGIN")
    conn.conn.executemany(sql, values)
    conn.conn.commit()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    conn.close()
    return wall, cpu


def _vm_hwm(pid: int) -> int:
    """Peak resident memory of a running process in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def latencies(database: Path, samples: int = 1000) -> dict:
    from hibahbansos import db as dbmod
    from hibahbansos.bansos import recipients

    conn = dbmod.connect(database)
    rng = random.Random(5)
    top = conn.execute("SELECT MAX(id) FROM bansos_persons").fetchone()[0]
    picks = [
        conn.execute("SELECT nik, name FROM bansos_persons WHERE id >= ? LIMIT 1", [rng.randint(1, top)]).fetchone()
        for _ in range(samples)
    ]
    nik_times, name_times, hits = [], [], 0
    for nik, _ in picks:
        t = time.perf_counter()
        found = recipients.find_by_nik(conn, nik)
        nik_times.append(time.perf_counter() - t)
        hits += found is not None
    for _, name in picks:
        t = time.perf_counter()
        recipients.search(conn, name)
        name_times.append(time.perf_counter() - t)
    single = []
    for _, name in picks[:200]:
        t = time.perf_counter()
        recipients.search(conn, name.split()[-1])  # one common word: the worst case
        single.append(time.perf_counter() - t)
    conn.close()
    return {
        "nik": percentiles(nik_times),
        "name": percentiles(name_times),
        "word": percentiles(single),
        "hits": hits,
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="tasikmalaya")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="Work in this folder and keep it.")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-bansos-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        instance = render(args.region, work)
        sys.path.insert(0, str(instance / "src"))
        from hibahbansos.region import Region

        region = Region.load(instance / "region.yml")
        csv_path = work / "rows.csv"
        t = time.perf_counter()
        made = generate(csv_path, region.kode, args.rows)
        print(
            f"generated {made['rows']:,} rows ({made['invalid']:,} invalid, {made['duplicates']:,} duplicates), "
            f"{csv_path.stat().st_size / 1e6:.0f} MB CSV, in {time.perf_counter() - t:.0f} s"
        )

        values = parse_all(instance, csv_path)
        (work / "floor").mkdir()
        # The machine is shared and its load drifts over minutes: the floor is measured before
        # and after the import, and the import is compared with their mean.
        before = floor(work / "floor" / "before.db", values)
        print(
            f"floor: executemany of {len(values):,} pre-parsed rows, same indexes and FTS triggers: "
            f"{before[0]:.1f} s wall, {before[1]:.1f} s CPU"
        )

        data = work / "data"
        env = env_for(instance, data)
        migrate = subprocess.run(
            [sys.executable, "-m", "hibahbansos.cli", "migrate"], env=env, capture_output=True, text=True
        )
        if migrate.returncode:
            sys.exit(migrate.stderr)
        log = work / "import.log"
        with open(log, "w") as out:
            start = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-m", "hibahbansos.cli", "bansos", "import", str(csv_path)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            # The child's own high-water mark (VmHWM), sampled until it exits. Not getrusage:
            # Linux carries the forking parent's peak into the child's ru_maxrss across exec,
            # and this process holds the floor's parsed rows.
            peak_kb, status, usage = 0, 0, None
            while usage is None:
                pid, status, rusage = os.wait4(child.pid, os.WNOHANG)
                if pid:
                    usage = rusage
                    break
                peak_kb = max(peak_kb, _vm_hwm(child.pid))
                time.sleep(0.2)
            import_s = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        import_cpu = usage.ru_utime + usage.ru_stime  # CPU time is the child's own (maxrss is not)
        peak_mb = peak_kb / 1024
        after = floor(work / "floor" / "after.db", values)
        del values
        print(f"floor again after the import: {after[0]:.1f} s wall, {after[1]:.1f} s CPU")
        floor_s = (before[0] + after[0]) / 2
        floor_cpu = (before[1] + after[1]) / 2
        output = log.read_text()
        if child.returncode:
            sys.exit(output)
        print("\n".join(line for line in output.splitlines() if not line.startswith("  ...")))
        print(
            f"import: {import_s:.1f} s wall = {import_s / floor_s:.2f}x the mean floor (goal <= 3x; "
            f"{import_s / max(before[0], after[0]):.2f}x-{import_s / min(before[0], after[0]):.2f}x against either); "
            f"{args.rows / import_s:,.0f} rows/s"
        )
        print(
            f"import CPU (all threads): {import_cpu:.1f} s = {import_cpu / floor_cpu:.2f}x the floor's CPU "
            "(insensitive to the machine's load; the import also parses and checks every row)"
        )
        print(f"peak RSS of the import process: {peak_mb:.0f} MB (goal < 500 MB)")

        lat = latencies(data / "hibahbansos.db")
        print(
            f"NIK lookup ({lat['samples']} random, {lat['hits']} found): p50 {lat['nik'][0]:.3f} ms, p95 {lat['nik'][1]:.3f} ms"
        )
        print(f"name search (full names): p50 {lat['name'][0]:.2f} ms, p95 {lat['name'][1]:.2f} ms")
        print(f"name search (one common word, 50 results): p50 {lat['word'][0]:.2f} ms, p95 {lat['word'][1]:.2f} ms")
        db = sqlite3.connect(data / "hibahbansos.db")
        print(
            f"database: {(data / 'hibahbansos.db').stat().st_size / 1e6:.0f} MB, "
            f"{db.execute('SELECT COUNT(*) FROM bansos_persons').fetchone()[0]:,} people, "
            f"{db.execute('SELECT COUNT(*) FROM bansos_flags').fetchone()[0]:,} likely-duplicate flags"
        )
        db.close()
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
