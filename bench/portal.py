"""Benchmark: the public recipient list with 50,000 proposals, against /healthz in the same run.

    .venv/bin/python bench/portal.py [--proposals 50000] [--seconds 15] [--rounds 5] [--connections 8]

Builds a throw-away instance of regions/tasikmalaya.yml in a temporary folder (the app from
template/src, the profile normalised by the kit), fills its database with organisations and
proposals spread over three budget years and every state, serves it with gunicorn (2 workers,
as `hibahbansos serve` does), and loads it from a concurrent client: first `/healthz`, then
the recipient page with rotating filters (OPD, programme, name search) and keyset pages. Prints
requests per second, p50 and p95 latency of both and their ratio; the target is a recipient
page throughput of at least 0.3 of /healthz. The client is `wrk` when installed (Debian's
package), else a Python client with threads. Not a test: timings never decide pass/fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "template" / "src"))


def make_instance(home: Path) -> dict:
    """region.yml from the kit's normalised profile, plus the logo; returns the profile."""
    from kit.regions import load_one

    profile = load_one(ROOT / "regions", "tasikmalaya").model_dump(mode="json")
    home.mkdir(parents=True)
    (home / "region.yml").write_text(yaml.safe_dump(profile, sort_keys=False, allow_unicode=True))
    (home / "branding").mkdir()
    logo = profile["branding"]["logo"]
    shutil.copy(ROOT / "regions" / "assets" / "tasikmalaya" / logo, home / "branding" / logo)
    return profile


def fill(database: Path, profile: dict, count: int, rng: random.Random) -> None:
    """Migrate, then insert `count` proposals (and one organisation per two proposals) in bulk."""
    from hibahbansos import db, migrations
    from hibahbansos.hibah.organisations import districts
    from hibahbansos.hibah.workflow import STATES

    conn = db.connect(database)
    migrations.apply_all(conn)
    programmes = profile["programmes"]["hibah"]
    year = profile["budget_year"]
    dists = districts(profile["kode"])
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    states = [s for s in STATES if s != "draft"]
    words = ("Masjid", "Musala", "Yayasan", "Pondok Pesantren", "Karang Taruna", "Kelompok Tani", "Paguyuban", "Klub")
    names = (
        "Al-Ikhlas",
        "Nurul Huda",
        "Mekar Sari",
        "Sri Mulya",
        "Al-Hidayah",
        "Tunas Harapan",
        "Sugih Mukti",
        "Al-Falah",
        "Bina Sejahtera",
        "Miftahul Ulum",
        "Karya Bakti",
        "At-Taqwa",
    )
    with conn.conn:
        conn.execute(
            "INSERT INTO users (id, username, full_name, password_hash, is_active, created_at)"
            " VALUES (1, 'bench', 'Bench', '!', 1, ?)",
            [now],
        )
        orgs = count // 2
        conn.conn.executemany(
            "INSERT INTO organisations (id, owner_id, name, kind, address, district_code, district_name, legal_number,"
            " legal_date, npwp, domiciled, has_secretariat, bank_code, bank_account, bank_holder, created_at, updated_at)"
            " VALUES (?, 1, ?, 'ormas', 'Jl. Raya', ?, ?, '1/2010', '2010-01-01', ?, 1, 1, '110', '123456', 'x', ?, ?)",
            [
                (i, f"{rng.choice(words)} {rng.choice(names)} {i}", *rng.choice(dists), f"{i:016d}", now, now)
                for i in range(1, orgs + 1)
            ],
        )
        rows = []
        for i in range(1, count + 1):
            state = rng.choice(states)
            prog = rng.choice(programmes)
            req = rng.randint(10, 300) * 1_000_000
            recipient = STATES[state].recipient
            approved = req if recipient else None
            rows.append(
                (
                    i,
                    f"HB-{year}-{i:010d}",
                    rng.randint(1, orgs),
                    rng.choice((year, year, year - 1, year - 2)),
                    prog["code"],
                    rng.choice(prog["opd"]),
                    f"Kegiatan {i}",
                    "Tujuan",
                    state,
                    int(recipient),
                    req,
                    approved,
                    approved if state in ("disbursed", "lpj_submitted", "closed") else 0,
                    f"{year + 1}-01-10" if recipient else None,
                    now,
                    now,
                )
            )
        conn.conn.executemany(
            "INSERT INTO proposals (id, tracking_no, organisation_id, applicant_id, budget_year, programme_code, opd_code,"
            " title, purpose, state, is_recipient, requested_amount, approved_amount, disbursed_amount, lpj_due_date,"
            " created_at, state_changed_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    conn.execute("ANALYZE")
    conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recipient_urls(profile: dict, count: int, rng: random.Random, distinct: int = 200) -> list[str]:
    """`distinct` filtered, paginated recipient pages as the public opens them."""
    year = profile["budget_year"]
    urls = []
    for _ in range(distinct):
        prog = rng.choice(profile["programmes"]["hibah"])
        params = [f"tahun={year}"]
        kind = rng.random()
        if kind < 0.35:
            params.append(f"opd={rng.choice(prog['opd'])}")
        elif kind < 0.7:
            params.append(f"program={prog['code']}")
        elif kind < 0.85:
            params.append(f"cari={rng.choice(('masjid', 'tani', 'nurul', 'yayasan'))}")
        if rng.random() < 0.6:
            params.append(f"setelah={rng.randint(count // 2, count)}")
        urls.append("/penerima?" + "&".join(params))
    return urls


def load_python(base: str, paths: list[str], seconds: float, connections: int) -> tuple[float, list[float], int]:
    """Threads that each send requests back to back; returns (req/s, latencies in ms, errors)."""
    host, port = base.split("//")[1].split(":")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        mine, i = [], n
        while time.monotonic() < deadline:
            path = paths[i % len(paths)]
            i += connections
            start = time.perf_counter()
            try:
                c = http.client.HTTPConnection(host, int(port), timeout=30)
                c.request("GET", path)
                res = c.getresponse()
                res.read()
                c.close()
                ok = res.status == 200
            except OSError:
                ok = False
            if ok:
                mine.append((time.perf_counter() - start) * 1000)
            else:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return len(latencies) / elapsed, latencies, errors[0]


WRK_SCRIPT = """
local paths = {%s}
local i = 0
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
end
init = function(args)
  i = offset or 0  -- each thread starts elsewhere in the list, so they do not repeat each other
end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%f %%f %%f %%d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


def load_wrk(
    base: str, paths: list[str], seconds: float, connections: int, tmp: Path
) -> tuple[float, float, float, int]:
    script = tmp / "paths.lua"
    script.write_text(WRK_SCRIPT % ", ".join(f'"{p}"' for p in paths))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "30s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    rps, p50, p95, errors = line.split()[1:]
    return float(rps), float(p50), float(p95), int(errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=15, help="load time per endpoint, split into the rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--urls",
        type=int,
        default=200,
        help="distinct recipient URLs to rotate through; many (e.g. 20000) defeat the page cache",
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    rng = random.Random(42)
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "python")
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmpdir:
        tmp = Path(tmpdir)
        home, data = tmp / "instance", tmp / "data"
        profile = make_instance(home)
        started = time.monotonic()
        fill(data / "hibahbansos.db", profile, args.proposals, rng)
        print(f"filled {args.proposals} proposals in {time.monotonic() - started:.1f} s")
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "template" / "src"),
            "HIBAHBANSOS_HOME": str(home),
            "HIBAHBANSOS_DATA": str(data),
            "HIBAHBANSOS_SECRET_KEY": "bench",
            "HIBAHBANSOS_AUDIT_KEY": "bench",
        }
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(tmp / "gunicorn.log", "w")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "hibahbansos.wsgi:app"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=2) as res:
                        if res.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit(
                            "gunicorn did not start: " + (tmp / "gunicorn.log").read_text()[-2000:]
                        ) from None
                    time.sleep(0.2)
            urls = recipient_urls(profile, args.proposals, rng, args.urls)
            for url in urls[:20]:  # warm up both workers' caches
                urllib.request.urlopen(base + url, timeout=30).read()
            # Alternate short rounds of both endpoints, so that a change in the machine's load
            # (it is shared) affects both alike; the ratio is taken per round.
            rounds: dict[str, list[tuple[float, float, float, int]]] = {"/healthz": [], "recipients": []}
            for _ in range(args.rounds):
                for name, paths in (("/healthz", ["/healthz"]), ("recipients", urls)):
                    seconds = args.seconds / args.rounds
                    if client == "wrk":
                        rounds[name].append(load_wrk(base, paths, seconds, args.connections, tmp))
                    else:
                        rps, lat, errors = load_python(base, paths, seconds, args.connections)
                        lat.sort()
                        rounds[name].append((rps, statistics.median(lat), lat[int(len(lat) * 0.95) - 1], errors))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log.close()
    print(
        f"client: {client}, {args.connections} connections, {args.rounds} alternating rounds of "
        f"{args.seconds / args.rounds:.0f} s per endpoint, gunicorn 2 workers, {args.proposals} proposals, "
        f"{args.urls} distinct recipient URLs"
    )
    print(f"{'endpoint':<12} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}   (medians of the rounds)")
    for name, runs in rounds.items():
        rps, p50, p95 = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"{name:<12} {rps:9.1f} {p50:8.1f} {p95:8.1f} {sum(r[3] for r in runs):7d}")
    ratios = [r[0] / h[0] for h, r in zip(rounds["/healthz"], rounds["recipients"], strict=True)]
    ratio = statistics.median(ratios)
    print("ratio per round: " + " ".join(f"{x:.2f}" for x in ratios))
    print(f"ratio recipients/healthz (median): {ratio:.2f} (target >= 0.30: {'met' if ratio >= 0.3 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
