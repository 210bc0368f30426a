"""Deploy timings against real Debian 12 servers booted on this machine (tests/testhost/).

Measures, with the real `kit deploy`:
  1. the first deploy to a fresh server (this is also the fleet baseline, N=1);
  2. the no-op redeploy (goal: under 20 s, changed=0) with pipelining and SSH connection reuse
     on (the kit's settings), with each switched off, and both off (interleaved rounds, medians);
  3. the same four no-op variants over a slow link: SSH goes through a relay in this process
     (tests/testhost/relay.py) that holds every chunk for 40 ms each way (80 ms round trip, a regional office's link;
     this kernel has no netem), which is where connection reuse and pipelining pay;
  4. fleet deploys to 2 and 4 fresh servers at once, as ratios to N=1 measured in the same run.

Run as root: `.venv/bin/python bench/deploy.py` (about 15 minutes on 2 cores). Figures only;
nothing here passes or fails.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
# A network of its own (10.215.0.0/24): a test run that ends meanwhile takes its own network down.
os.environ.setdefault("TESTHOST_NET", "215")
from testhost import harness  # noqa: E402
from testhost.relay import Relay  # noqa: E402

KIT = str(Path(sys.executable).with_name("kit"))
BASE = 40  # server indexes 40.. : clear of the tests' 2..
ROUNDS = 3  # no-op redeploys per variant
SSH_REUSE = "-o ControlMaster=auto -o ControlPersist=60s"
# ControlPath=none: with only ControlMaster=no, ssh still joins a master left by an earlier run
# (ansible adds its ControlPath whenever "controlpersist" appears in the arguments).
SSH_NO_REUSE = "-o ControlMaster=no -o ControlPath=none"
SSH_COMMON = "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR"
RTT = 0.080  # the slow link's round trip, seconds
NAMES = [
    ("Kabupaten Tasikmalaya", "32.06"),
    ("Kabupaten Garut", "32.05"),
    ("Kabupaten Bandung", "32.04"),
    ("Kabupaten Bogor", "32.01"),
]


def snapshot_template(dest: Path) -> Path:
    shutil.copy2(ROOT / "copier.yml", dest / "copier.yml")
    shutil.copytree(
        ROOT / "template", dest / "template", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "var", ".venv")
    )
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@kit.invalid"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*ident, "commit", "-qm", "bench snapshot"]):
        subprocess.run(["git", "-C", str(dest), *args], check=True)
    return dest


def workspace(root: Path, servers: list[harness.TestServer], via: list[Relay] | None = None) -> dict:
    regions = root / "regions"
    (regions / "assets").mkdir(parents=True, exist_ok=True)
    base = yaml.safe_load((ROOT / "regions" / "tasikmalaya.yml").read_text())
    for i, server in enumerate(servers):
        slug = f"bench{i}"
        name, kode = NAMES[i]
        data = dict(base, slug=slug, name=name, kode=kode, site={"domain": f"{slug}.hibahbansos.test"})
        data["server"] = {"host": server.ip, "port": 22, "user": "deploy"}
        if via:
            data["server"].update(host="127.0.0.1", port=via[i].port)
        shutil.copytree(ROOT / "regions" / "assets" / "tasikmalaya", regions / "assets" / slug, dirs_exist_ok=True)
        (regions / f"{slug}.yml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    for stale in regions.glob("*.yml"):
        if int(stale.stem.removeprefix("bench")) >= len(servers):
            stale.unlink()
    return {
        **os.environ,
        "KIT_TEMPLATE": str(root / "template"),
        "KIT_REGIONS": str(regions),
        "KIT_INSTANCES": str(root / "instances"),
        "KIT_CACHE": str(root / "cache"),
        "KIT_VAULT_PASSWORD_FILE": str(root / "vault-pass"),
        "KIT_SSH_KEY": str(harness.key_path()),
        "ANSIBLE_SSH_ARGS": f"{SSH_REUSE} {SSH_COMMON}",
        "ANSIBLE_NOCOLOR": "1",
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@kit.invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@kit.invalid",
    }


def kit(env: dict, *args: str, **extra_env: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([KIT, *args], env={**env, **extra_env}, capture_output=True, text=True)
    took = time.perf_counter() - start
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        sys.exit(f"kit {' '.join(args)} failed (exit {proc.returncode}):\n{out[-4000:]}")
    return took, out


def changed(out: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", out.split("PLAY RECAP")[-1]))


def fleet(root: Path, n: int) -> tuple[float, str, list[harness.TestServer], dict]:
    servers = harness.boot(list(range(BASE, BASE + n)))
    env = workspace(root, servers)
    for i in range(n):
        if not (root / "regions" / f"bench{i}.secrets.vault").exists():
            kit(env, "secrets", "init", f"bench{i}")
    # A first build of the bundles is not what is measured: the wheelhouse is cached per template.
    took, out = kit(env, "deploy", "--all", "--canary", str(n))
    return took, out, servers, env


def noop_rounds(env: dict, where: str) -> list[tuple[str, float, str]]:
    """No-op redeploys of bench0 with pipelining and SSH reuse on, each off, both off (medians)."""
    variants = [
        (f"no-op redeploy, {where}pipelining + SSH reuse (kit default)", {}),
        (f"no-op redeploy, {where}pipelining off", {"ANSIBLE_PIPELINING": "False"}),
        (f"no-op redeploy, {where}SSH reuse off", {"ANSIBLE_SSH_ARGS": f"{SSH_NO_REUSE} {SSH_COMMON}"}),
        (
            f"no-op redeploy, {where}both off",
            {"ANSIBLE_PIPELINING": "False", "ANSIBLE_SSH_ARGS": f"{SSH_NO_REUSE} {SSH_COMMON}"},
        ),
    ]
    # Interleaved rounds, median of each: the machine is shared, and load drifts over minutes.
    times: dict[str, list[float]] = {label: [] for label, _ in variants}
    counts: dict[str, set[int]] = {label: set() for label, _ in variants}
    for _ in range(ROUNDS):
        for label, extra in variants:
            took, out = kit(env, "deploy", "bench0", **extra)
            times[label].append(took)
            counts[label].add(changed(out))
    base = statistics.median(times[variants[0][0]])
    rows = []
    for label, _ in variants:
        took = statistics.median(times[label])
        spread = f"{min(times[label]):.1f}-{max(times[label]):.1f}"
        rows.append(
            (label, took, f"changed={sorted(counts[label])}  x{took / base:.2f}  (median of {ROUNDS}: {spread} s)")
        )
        print(*rows[-1], flush=True)
    return rows


def main() -> None:
    problem = harness.missing_tools()
    if problem:
        sys.exit(problem)
    harness.network_up()
    root = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    (root / "template").mkdir()
    snapshot_template(root / "template")
    (root / "vault-pass").write_text("bench\n")
    rows: list[tuple[str, float, str]] = []
    try:
        # Warm the wheelhouse and bundle cache so every figure below is the deploy itself.
        servers = harness.boot([BASE])
        env = workspace(root, servers)
        kit(env, "secrets", "init", "bench0")
        subprocess.run([KIT, "deploy", "bench0", "--check"], env=env, capture_output=True)
        for s in servers:
            s.down()

        took1, out, servers, env = fleet(root, 1)
        rows.append(("first deploy, fresh server (fleet N=1)", took1, f"changed={changed(out)}"))
        print(*rows[-1], flush=True)
        rows += noop_rounds(env, "")
        link = Relay(servers[0].ip, 22, delay=RTT / 2)
        slow = workspace(root, servers, via=[link])
        kit(slow, "deploy", "bench0")  # the receipt records the new address, the firewall its port: once
        rows += noop_rounds(slow, f"{RTT * 1000:.0f} ms link, ")
        for s in servers:
            s.down()
        for n in (2, 4):
            took, out, servers, env = fleet(root, n)
            rows.append(
                (
                    f"fleet deploy, {n} fresh servers at once",
                    took,
                    f"changed={changed(out)}  x{took / took1:.2f} of N=1",
                )
            )
            print(*rows[-1], flush=True)
            for s in servers:
                s.down()
    finally:
        for i in range(BASE, BASE + 4):
            harness.TestServer(i).down()
        harness.network_down()
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{'what':66} {'seconds':>8}  notes")
    for label, took, note in rows:
        print(f"{label:66} {took:8.1f}  {note}")


if __name__ == "__main__":
    main()
