"""Release bundles: everything a server needs to run one release, in one tarball, with no PyPI.

A bundle holds the instance's own files (region.yml, .copier-answers.yml, branding/, overrides/)
as of its committed HEAD, `release.json` describing the release, and `wheels/`: the app and every
dependency as wheels, for each Python the supported servers run (Debian 12: 3.11, Ubuntu 24.04:
3.12). Regional servers often sit on restricted networks, so they install with `pip --no-index`.

The wheelhouse depends only on the app's code (`pyproject.toml` and `src/`), which is identical
in every region of one template version, so it is built once and shared by the whole fleet. The
bundle is byte-for-byte reproducible from the instance's commit: a redeploy of the same commit
uploads nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from kit import git
from kit.errors import KitError

# Pythons of the supported server distributions; compiled dependencies are fetched for each.
SERVER_PYTHONS = {"3.11": "Debian 12", "3.12": "Ubuntu 24.04"}
SERVER_PLATFORMS = ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_28_x86_64")
# The instance files a release needs at run time (the code itself comes from the wheel).
HOME_FILES = ("region.yml", ".copier-answers.yml", "branding", "overrides")
FORMAT = 1  # bump when the bundle layout changes, so old cache entries are not reused


class BundleError(KitError):
    """The bundle could not be built; the message says what to fix."""


@dataclass(frozen=True)
class Bundle:
    """A built bundle and what the receipt on the server will say about it."""

    path: Path
    release: str
    instance_commit: str
    template_version: str
    app_version: str


def cache_dir() -> Path:
    """Where wheelhouses and bundles are kept between runs (KIT_CACHE, else ~/.cache)."""
    env = os.environ.get("KIT_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hibahbansos-kit"
    return base.expanduser()


def release_id(instance: Path, commit: str) -> str:
    """The release name: commit time (UTC) and short hash, so names sort in deploy order."""
    stamp = int(git.run(instance, "show", "-s", "--format=%ct", commit).stdout.strip())
    when = dt.datetime.fromtimestamp(stamp, dt.UTC)
    return f"{when:%Y%m%d%H%M%S}-{commit[:10]}"


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)


def _pip_failure(what: str, proc: subprocess.CompletedProcess) -> BundleError:
    lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip() and "is ignored" not in ln]
    detail = " | ".join(lines[-4:]) if lines else f"exit {proc.returncode}"
    return BundleError(f"{what} failed: {detail}")


def _wheel_key(instance: Path, commit: str) -> str:
    trees = [git.run(instance, "rev-parse", f"{commit}:{p}").stdout.strip() for p in ("pyproject.toml", "src")]
    raw = json.dumps(
        {"format": FORMAT, "trees": trees, "pythons": sorted(SERVER_PYTHONS), "platforms": SERVER_PLATFORMS}
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def _is_pure(wheel: Path) -> bool:
    return wheel.name.endswith("-none-any.whl")


def build_wheelhouse(instance: Path, commit: str, log=print) -> Path:
    """Wheels of the app and its dependencies for every server Python; cached by the app's code.

    Raises BundleError when pip cannot build or download a wheel (the message names it).
    """
    key = _wheel_key(instance, commit)
    target = cache_dir() / "wheels" / key
    if (target / ".complete").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log("Building the wheelhouse (the app and its dependencies; once per template version)...")
    with tempfile.TemporaryDirectory(prefix="kit-wheels-", dir=target.parent) as tmp:
        src = Path(tmp) / "src"
        wheels = Path(tmp) / "wheels"
        src.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(instance), "archive", "--format=tar", commit, "pyproject.toml", "src"],
            capture_output=True,
        )
        if archive.returncode != 0:
            raise BundleError(f"git archive of {instance} failed: {archive.stderr.decode(errors='replace').strip()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(src, filter="data")
        proc = _pip("wheel", "--quiet", "--wheel-dir", str(wheels), str(src))
        if proc.returncode != 0:
            raise _pip_failure("pip wheel (the app and its dependencies)", proc)
        compiled = [w for w in wheels.glob("*.whl") if not _is_pure(w)]
        pins = sorted({"{}=={}".format(*w.name.split("-")[:2]) for w in compiled})
        for version, distro in SERVER_PYTHONS.items():
            if not pins:
                break
            abi = "cp" + version.replace(".", "")
            args = ["download", "--quiet", "--only-binary=:all:", "--no-deps", "--dest", str(wheels)]
            args += [
                "--python-version",
                version,
                "--implementation",
                "cp",
                "--abi",
                abi,
                "--abi",
                "abi3",
                "--abi",
                "none",
            ]
            for platform in SERVER_PLATFORMS:
                args += ["--platform", platform]
            proc = _pip(*args, *pins)
            if proc.returncode != 0:
                raise _pip_failure(f"downloading compiled wheels for Python {version} ({distro}, x86_64)", proc)
        (wheels / ".complete").write_text(key + "\n")
        if target.exists():  # another run finished first; its wheels are equivalent
            shutil.rmtree(target)
        os.rename(wheels, target)
    return target


def _answers_commit(text: str) -> str:
    try:
        answers = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return "unknown"
    return str(answers.get("_commit") or "unknown")


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: int, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, mode
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mtime, info.mode = tarfile.DIRTYPE, mtime, 0o755
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    tar.addfile(info)


def build(instance: Path, slug: str, log=print) -> Bundle:
    """The bundle of the instance's HEAD, built once and cached; raises BundleError."""
    commit = git.run(instance, "rev-parse", "HEAD").stdout.strip()
    release = release_id(instance, commit)
    wheels = build_wheelhouse(instance, commit, log)
    app_wheels = sorted(wheels.glob("hibahbansos-*.whl"))
    if not app_wheels:
        raise BundleError(f"the wheelhouse {wheels} has no hibahbansos wheel; delete it and deploy again")
    app_version = app_wheels[0].name.split("-")[1]
    files = git.run(instance, "ls-tree", "-r", "--name-only", commit, "--", *HOME_FILES).stdout.splitlines()
    answers = git.run(instance, "show", f"{commit}:.copier-answers.yml", check=False).stdout
    meta = {
        "slug": slug,
        "release": release,
        "instance_commit": commit,
        "template_version": _answers_commit(answers),
        "app_version": app_version,
    }
    path = cache_dir() / "bundles" / slug / f"{release}.tar"
    digest = hashlib.sha256(json.dumps([meta, files, wheels.name]).encode()).hexdigest()[:16]
    stamp = path.with_suffix(".key")
    if path.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return Bundle(path, release, commit, meta["template_version"], app_version)
    path.parent.mkdir(parents=True, exist_ok=True)
    mtime = int(git.run(instance, "show", "-s", "--format=%ct", commit).stdout.strip())
    partial = path.with_name(f".{path.name}.partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, "release.json", (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode(), mtime)
        dirs: set[str] = set()
        for name in sorted(files):
            for parent in reversed(Path(name).parents[:-1]):
                if str(parent) not in dirs:
                    dirs.add(str(parent))
                    _add_dir(tar, str(parent), mtime)
            blob = subprocess.run(
                ["git", "-C", str(instance), "show", f"{commit}:{name}"], capture_output=True, check=True
            )
            _add(tar, name, blob.stdout, mtime)
        _add_dir(tar, "wheels", mtime)
        for wheel in sorted(wheels.glob("*.whl")):
            _add(tar, f"wheels/{wheel.name}", wheel.read_bytes(), mtime)
    os.replace(partial, path)
    stamp.write_text(digest + "\n")
    return Bundle(path, release, commit, meta["template_version"], app_version)
