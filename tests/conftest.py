"""Shared fixtures of the kit's tests.

- `template_repo`: a git snapshot of this checkout's template as it is on disk (committed
  or not), so tests always exercise the working tree, in CI and on a developer's machine.
- `kit`: runs the real `kit` console script in a subprocess, with a given workspace.
- `rendered`: renders a region once per session (real copier, real git) for read-only tests.
- `instance_env` / `run_instance_pytest`: run a rendered instance's own code and tests with the
  app's dependencies from this virtualenv (the app package itself comes from the instance).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REGIONS = ROOT / "regions"
BIN = Path(sys.executable).parent
KIT = str(BIN / "kit")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Kit Tests",
    "GIT_AUTHOR_EMAIL": "tests@kit.invalid",
    "GIT_COMMITTER_NAME": "Kit Tests",
    "GIT_COMMITTER_EMAIL": "tests@kit.invalid",
}
SLUGS = sorted(p.stem for p in REGIONS.glob("*.yml"))
# Debian's chromium, headless, as the browser tests drive it through Playwright.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def submit(page, target) -> None:
    """Click what submits a form (a selector or a Playwright locator) and wait for the next page.

    Playwright's click returns once the navigation has started, not when the next page has
    loaded; a check made right after it can read the old page (a flaky test on a busy machine).
    """
    locator = page.locator(target) if isinstance(target, str) else target
    with page.expect_navigation(wait_until="load"):
        locator.click()


def git(repo: Path, *args: str) -> str:
    """Run git in repo and return its stdout; fails the test on error."""
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env={**os.environ, **GIT_IDENTITY}
    )
    assert proc.returncode == 0, f"git {' '.join(args)} failed: {proc.stderr}"
    return proc.stdout


def snapshot_template(dest: Path) -> Path:
    """Copy copier.yml and template/ as they are on disk into a fresh git repo at dest."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "copier.yml", dest / "copier.yml")
    shutil.copytree(
        ROOT / "template",
        dest / "template",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info", "var", ".venv"),
    )
    git(dest, "init", "--quiet", "--initial-branch=main")
    git(dest, "add", "-A")
    git(dest, "commit", "--quiet", "-m", "template snapshot")
    return dest


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> Path:
    return snapshot_template(tmp_path_factory.mktemp("template") / "repo")


@dataclass
class KitRun:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def kit_env(template_repo, tmp_path) -> dict:
    return {
        **os.environ,
        **GIT_IDENTITY,
        "KIT_TEMPLATE": str(template_repo),
        "KIT_REGIONS": str(REGIONS),
        "KIT_INSTANCES": str(tmp_path / "instances"),
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }


@pytest.fixture
def kit(kit_env):
    """Run the real `kit` command; returns its exit code and output."""

    def _run(*args: str, env: dict | None = None, cwd: Path | None = None, input: str | None = None) -> KitRun:
        proc = subprocess.run(
            [KIT, *args], capture_output=True, text=True, env={**kit_env, **(env or {})}, cwd=cwd or ROOT, input=input
        )
        return KitRun(proc.returncode, proc.stdout, proc.stderr)

    return _run


@pytest.fixture(scope="session")
def rendered(template_repo, tmp_path_factory):
    """Render a region once per session; returns the instance path. Do not modify it."""
    cache: dict[str, Path] = {}
    base = tmp_path_factory.mktemp("rendered")

    def _render(slug: str) -> Path:
        if slug not in cache:
            env = {**os.environ, **GIT_IDENTITY, "KIT_TEMPLATE": str(template_repo), "KIT_REGIONS": str(REGIONS)}
            dest = base / slug
            proc = subprocess.run([KIT, "new", slug, "--dest", str(dest)], capture_output=True, text=True, env=env)
            assert proc.returncode == 0, proc.stderr
            cache[slug] = dest
        return cache[slug]

    return _render


def instance_env(instance: Path, data: Path) -> dict:
    """Environment to run an instance's app from its source with this venv's packages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIBAHBANSOS_")}
    env.update(
        PYTHONPATH=str(instance / "src"),
        HIBAHBANSOS_HOME=str(instance),
        HIBAHBANSOS_DATA=str(data),
        HIBAHBANSOS_SECRET_KEY="kit-tests-secret",
        HIBAHBANSOS_AUDIT_KEY="kit-tests-audit",
        PATH=f"{BIN}:{os.environ['PATH']}",
    )
    return env


def hibahbansos(instance: Path, data: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """Run the instance's `hibahbansos` CLI (from its own source)."""
    return subprocess.run(
        [sys.executable, "-m", "hibahbansos.cli", *args],
        capture_output=True,
        text=True,
        env=instance_env(instance, data),
        cwd=instance,
        input=input,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    instance: Path
    data: Path
    proc: subprocess.Popen


def start_server(instance: Path, data: Path, seed: bool = False) -> Server:
    """Migrate (and optionally seed) the instance's database and serve it with gunicorn."""
    for args in (("migrate",), ("seed-demo",)) if seed else (("migrate",),):
        proc = hibahbansos(instance, data, *args)
        assert proc.returncode == 0, proc.stderr
    port = free_port()
    log = open(data / "gunicorn.log", "w")  # noqa: SIM115 - closed by stop_server
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "hibahbansos.wsgi:app"],
        env=instance_env(instance, data),
        cwd=instance,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log = log  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as res:
                if res.status == 200:
                    return Server(url, instance, data, proc)
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise AssertionError(f"gunicorn did not answer: {(data / 'gunicorn.log').read_text()[-2000:]}")


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
    server.proc.log.close()  # type: ignore[attr-defined]


@pytest.fixture
def served(rendered, tmp_path):
    """Serve a rendered region's app on a free port; yields a Server, stops it afterwards."""
    servers: list[Server] = []

    def _serve(slug: str, seed: bool = False) -> Server:
        data = tmp_path / f"data-{slug}"
        data.mkdir()
        server = start_server(rendered(slug), data, seed=seed)
        servers.append(server)
        return server

    yield _serve
    for s in servers:
        stop_server(s)


# --- real servers for the deploy tests (tests/testhost/) ------------------------------------------


@pytest.fixture(scope="session")
def testhost_network(request):
    """The bridge, apt proxy and DNS the test servers use; fails (never skips) without the host tools."""
    from testhost import harness

    problem = harness.missing_tools()
    if problem:
        pytest.fail(f"cannot boot test servers: {problem}", pytrace=False)
    harness.network_up()
    # Only a session that used the network takes it down (in pytest_sessionfinish, after every
    # xdist worker is done): another pytest run on this machine may be using it meanwhile.
    request.config.stash[_USED_TESTHOSTS] = True
    return harness


_USED_TESTHOSTS = pytest.StashKey[bool]()


def pytest_testnodedown(node, error):
    # xdist controller: a worker that booted servers reports it back through its workeroutput.
    if getattr(node, "workeroutput", {}).get("used_testhosts"):
        node.config.stash[_USED_TESTHOSTS] = True


def pytest_sessionfinish(session):
    used = session.config.stash.get(_USED_TESTHOSTS, False)
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # an xdist worker: tell the controller, leave the network up
        worker_output["used_testhosts"] = used
        return
    if used:
        from testhost import harness

        harness.network_down()
