"""Real Debian 12 and Ubuntu 24.04 servers for the deploy tests: systemd-nspawn containers in netns.

`testhost.sh` beside this file does the work (root filesystem cache, bridge, apt proxy, DNS,
boot, teardown); this module drives it from Python. Every server is booted fresh from the
cached root filesystem and answers SSH at 10.<NET>.0.<idx> as `deploy` (sudo) or root, with the
key `key_path()`. pytest-xdist workers get disjoint address ranges.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("testhost.sh")
NET = os.environ.get("TESTHOST_NET", "213")
# ssh options for throw-away servers: fresh host keys on every boot, so no known_hosts.
SSH_OPTS = [
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "BatchMode=yes",
    "-o", "ConnectTimeout=5",
]  # fmt: skip


class HarnessError(RuntimeError):
    """The harness could not boot or reach a server; the message says why."""


def sh(*args: str, idx: int | None = None, distro: str = "debian", check: bool = True) -> subprocess.CompletedProcess:
    """Run testhost.sh with this run's network; raises HarnessError with its output on failure."""
    env = dict(os.environ, NET=NET, DISTRO=distro)
    if idx is not None:
        env["IDX"] = str(idx)
    proc = subprocess.run([str(SCRIPT), *args], env=env, text=True, capture_output=True)
    if check and proc.returncode != 0:
        raise HarnessError(f"testhost.sh {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


def missing_tools() -> str | None:
    """None when the host can boot servers, else the message naming what to install."""
    if os.geteuid() != 0:
        return "the deploy tests boot servers with systemd-nspawn and need root"
    proc = sh("check", check=False)
    return None if proc.returncode == 0 else proc.stderr.strip()


def network_up() -> None:
    sh("net-up")


def network_down() -> None:
    sh("net-down", check=False)


def key_path() -> Path:
    return Path(sh("key").stdout.strip())


def host_ip() -> str:
    """The control machine's address on the servers' bridge."""
    return f"10.{NET}.0.1"


def add_dns_name(name: str, ip: str) -> None:
    """Make `name` resolve to `ip` for the servers (and anything asking the bridge's DNS)."""
    run = key_path().parent
    with (run / "hosts").open("a") as f:
        f.write(f"{ip} {name}\n")
    # dnsmasq reads its additional hosts files again on SIGHUP
    os.kill(int((run / "dnsmasq.pid").read_text()), signal.SIGHUP)


def worker_base() -> int:
    """First server index of this pytest-xdist worker (2 without xdist): 20 addresses each."""
    wid = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 2 + 20 * (int(wid[2:]) if wid.startswith("gw") else 0)


@dataclass
class TestServer:
    """One booted server."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    idx: int
    distro: str = "debian"  # or "ubuntu" (24.04)

    @property
    def ip(self) -> str:
        return f"10.{NET}.0.{self.idx}"

    @property
    def name(self) -> str:
        return f"testhost{self.idx}"

    def up(self) -> TestServer:
        sh("up", idx=self.idx, distro=self.distro)
        return self

    def down(self) -> None:
        sh("down", idx=self.idx, check=False)

    def ssh(
        self, command: str, check: bool = True, input: str | None = None, timeout: int = 120
    ) -> subprocess.CompletedProcess:
        """Run a shell command as root on the server."""
        proc = subprocess.run(
            ["ssh", "-i", str(key_path()), *SSH_OPTS, f"root@{self.ip}", command],
            text=True, capture_output=True, input=input, timeout=timeout,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise HarnessError(f"{self.name}: `{command}` failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
        return proc

    def reboot(self, timeout: float = 120) -> None:
        """Reboot the server (nspawn restarts it) and wait until SSH and systemd are up again."""
        self.ssh("systemctl reboot", check=False, timeout=30)
        time.sleep(3)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.ssh("systemctl is-system-running --wait", check=False, timeout=90)
            if proc.returncode == 0 or proc.stdout.strip() in ("running", "degraded"):
                return
            time.sleep(1)
        raise HarnessError(f"{self.name} did not come back within {timeout:.0f} s after the reboot")


def boot(indexes: list[int], distro: str = "debian") -> list[TestServer]:
    """Boot several fresh servers in parallel; on any failure, tear down those that came up."""
    servers = [TestServer(i, distro) for i in indexes]
    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        results = list(pool.map(lambda s: _try_up(s), servers))
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        for s in servers:
            s.down()
        raise failures[0]
    return servers


def _try_up(server: TestServer) -> TestServer | BaseException:
    try:
        return server.up()
    except BaseException as exc:  # reported by boot(), after cleaning up the others
        return exc
