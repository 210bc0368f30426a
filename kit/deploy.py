"""`kit deploy`, `kit rollback`, `kit backup`, `kit restore`: the kit's side of the Ansible runs.

The kit checks what it can on the control machine (profiles, secrets, instance, reachability),
builds the release bundle, writes a throw-away inventory whose host variables come from the
profiles (the region's vault is copied there still encrypted), and runs `ansible-playbook` on
the playbooks in `playbooks/`, streaming its output and passing its exit code through.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kit import bundle as bundles
from kit import git, secrets
from kit.errors import KitError, ProfileError
from kit.profile import Profile
from kit.regions import display_path, load_all
from kit.workspace import ROOT, Workspace

PLAYBOOKS = ROOT / "playbooks"
# Profile settings that only the deploy reads; changing them needs no re-render of the instance.
DEPLOY_ONLY = (("server",), ("backup",), ("site", "tls"), ("site", "acme_email"), ("site", "acme_directory"))


class DeployError(KitError):
    """Something on the control machine stops the deploy before Ansible runs."""


@dataclass
class Target:
    """One region to act on: its profile, files and (for a deploy) its bundle."""

    profile: Profile
    profile_path: Path
    vault: Path
    instance: Path | None = None
    bundle: bundles.Bundle | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.profile.slug

    @property
    def address(self) -> str:
        assert self.profile.server is not None
        return f"{self.profile.server.host}:{self.profile.server.port}"


def select(ws: Workspace, slugs: list[str], all_regions: bool) -> list[Target]:
    """The valid profiles to act on, each with a server; raises ProfileError/DeployError."""
    from kit.errors import UsageError

    if all_regions and slugs:
        raise UsageError("give region slugs or --all, not both")
    if not all_regions and not slugs:
        raise UsageError("name at least one region (kit deploy SLUG...) or use --all")
    items = load_all(ws.regions, [] if all_regions else slugs)
    problems = [p for item in items for p in item.problems]
    if problems:
        raise ProfileError(problems)
    targets = []
    for item in items:
        profile = item.profile
        assert profile is not None
        if profile.server is None:
            if all_regions:
                continue  # a region without a server is not deployed yet; --all skips it
            raise DeployError(
                f"{display_path(item.path)}: server: no server section; add server: with host: (and port:, user:) to deploy {profile.slug}"
            )
        targets.append(Target(profile, item.path, secrets.vault_path(ws.regions, profile.slug)))
    if not targets:
        raise DeployError(f"no profile in {display_path(ws.regions)} has a server: section; nothing to deploy")
    seen: dict[str, str] = {}
    for t in targets:
        if t.address in seen:
            raise DeployError(
                f"{seen[t.address]} and {t.slug} both deploy to {t.address}; each region needs its own server"
            )
        seen[t.address] = t.slug
    return targets


def profile_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stale_fields(profile: Profile, instance: Path) -> list[str]:
    """Top-level profile fields whose rendered value in region.yml differs from the profile."""
    try:
        rendered = yaml.safe_load((instance / "region.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return ["region.yml (missing or unreadable)"]
    wanted = profile.model_dump(mode="json")
    for data in (wanted, rendered):
        for path in DEPLOY_ONLY:
            parent = data
            for key in path[:-1]:
                parent = parent.get(key) if isinstance(parent, dict) else None
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
    keys = set(wanted) | set(rendered)
    return sorted(k for k in keys if wanted.get(k) != rendered.get(k))


def _stale_branding(ws: Workspace, slug: str, instance: Path) -> list[str]:
    source = ws.assets / slug
    if not source.is_dir():
        return []
    changed = []
    for f in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = f.relative_to(source)
        there = instance / "branding" / rel
        if not there.is_file() or there.read_bytes() != f.read_bytes():
            changed.append(f"branding/{rel}")
    return changed


def ensure_instance(ws: Workspace, target: Target, log: Callable[[str], None]) -> Path:
    """The region's committed, up-to-date instance; rendered with `kit new` code when missing.

    Raises DeployError when it has uncommitted changes or was rendered from an older profile.
    """
    from kit.render import new_instance

    path = ws.instance(target.slug)
    shown = display_path(path)
    if not path.exists():
        log(f"{target.slug}: no instance at {shown}; rendering it (as `kit new {target.slug}` would)")
        new_instance(ws, target.profile, path)
    if not git.is_repo(path):
        raise DeployError(
            f"{shown} is not a git repository; render the region with `kit new {target.slug}` into an empty folder"
        )
    dirty = git.is_dirty(path)
    if dirty:
        listed = ", ".join(dirty[:4]) + (" ..." if len(dirty) > 4 else "")
        raise DeployError(
            f"{shown} has uncommitted changes ({listed}); the deploy ships committed work only: "
            f"commit them (git -C {shown} commit -am '...') or discard them"
        )
    stale = _stale_fields(target.profile, path) + _stale_branding(ws, target.slug, path)
    if stale:
        raise DeployError(
            f"{shown} was rendered from an older {display_path(target.profile_path)} ({', '.join(stale[:6])} differ); "
            f"run `kit update {target.slug}` to bring the instance up to date, then deploy"
        )
    return path


def check_reachable(targets: list[Target], timeout: float = 8.0) -> list[str]:
    """One message per server whose SSH port does not accept a TCP connection."""

    def probe(t: Target) -> str | None:
        server = t.profile.server
        assert server is not None
        try:
            with socket.create_connection((server.host, server.port), timeout=timeout):
                return None
        except socket.gaierror:
            why = "the host name does not resolve"
        except ConnectionRefusedError:
            why = "connection refused (is sshd running, and on this port?)"
        except TimeoutError:
            why = f"no answer within {timeout:.0f} s (server down, wrong address or a firewall)"
        except OSError as exc:
            why = exc.strerror or str(exc)
        return (
            f"{t.slug}: cannot reach the server at {server.host} port {server.port}: {why}; "
            f"check server.host and server.port in {display_path(t.profile_path)}"
        )

    with ThreadPoolExecutor(max_workers=min(16, len(targets))) as pool:
        return [m for m in pool.map(probe, targets) if m]


def _host_vars(t: Target, extra: dict) -> dict:
    p = t.profile
    server = p.server
    assert server is not None
    hv = {
        "ansible_host": server.host,
        "ansible_port": server.port,
        "ansible_user": server.user,
        # Debian 12 and Ubuntu 24.04 both have it; naming it skips interpreter discovery.
        "ansible_python_interpreter": "/usr/bin/python3",
        "base_timezone": p.timezone,
        "base_min_free_mb": server.min_free_mb,
        "base_ssh_port": server.port,
        "app_slug": p.slug,
        "app_region_name": p.name,
        "app_releases_keep": server.releases_keep,
        "app_profile_sha256": profile_sha256(t.profile_path),
        "web_domain": p.site.domain,
        "web_tls": p.site.tls,
        "web_acme_email": p.site.acme_email or "",
        "web_acme_directory": p.site.acme_directory,
        "web_upload_max_mb": p.uploads.max_mb,
        "backup_time": p.backup.time,
        "backup_keep_days": p.backup.keep_days,
    }
    if t.bundle is not None:
        b = t.bundle
        hv.update(
            app_bundle=str(b.path),
            app_release=b.release,
            app_release_info={
                "release": b.release,
                "instance_commit": b.instance_commit,
                "template_version": b.template_version,
                "app_version": b.app_version,
            },
        )
    hv.update(extra)
    return hv


def write_inventory(folder: Path, targets: list[Target], extra: dict | None = None) -> Path:
    """Inventory + host variables from the profiles; each region's vault copied (still encrypted)."""
    hosts = {t.slug: {} for t in targets}
    inventory = folder / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"regions": {"hosts": hosts}}}}, sort_keys=False))
    for t in targets:
        hv_dir = folder / "host_vars" / t.slug
        hv_dir.mkdir(parents=True)
        (hv_dir / "main.yml").write_text(yaml.safe_dump(_host_vars(t, extra or {}), sort_keys=True))
        shutil.copyfile(t.vault, hv_dir / "vault.yml")
    return inventory


def ansible_playbook() -> str:
    """The ansible-playbook beside this Python, else on PATH; raises DeployError."""
    local = Path(sys.executable).with_name("ansible-playbook")
    if local.is_file():
        return str(local)
    found = shutil.which("ansible-playbook")
    if not found:
        raise DeployError(
            "ansible-playbook is not installed; install the kit with pip install -e . (it brings ansible-core)"
        )
    return found


@dataclass
class RunOptions:
    """How to run ansible-playbook: the user's options, passed through."""

    vault_password_file: Path
    ssh_key: Path | None = None
    check: bool = False
    diff: bool = False
    tags: str | None = None
    extra_vars: dict = field(default_factory=dict)


def run_playbook(playbook: str, targets: list[Target], opts: RunOptions, host_extra: dict | None = None) -> int:
    """Run one playbook against the targets, streaming its output; returns its exit code."""
    with tempfile.TemporaryDirectory(prefix="kit-inventory-") as tmp:
        inventory = write_inventory(Path(tmp), targets, host_extra)
        cmd = [ansible_playbook(), "-i", str(inventory), str(PLAYBOOKS / playbook)]
        cmd += ["--vault-password-file", str(opts.vault_password_file)]
        if opts.ssh_key:
            cmd += ["--private-key", str(opts.ssh_key)]
        if opts.check:
            cmd.append("--check")
        if opts.diff:
            cmd.append("--diff")
        if opts.tags:
            cmd += ["--tags", opts.tags]
        if opts.extra_vars:
            extra = Path(tmp) / "kit-vars.json"
            extra.write_text(json.dumps(opts.extra_vars))
            cmd += ["--extra-vars", f"@{extra}"]
        env = {**os.environ, "ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg")}
        if sys.stdout.isatty() and "NO_COLOR" not in env:
            env.setdefault("ANSIBLE_FORCE_COLOR", "1")
        sys.stdout.flush()
        # Same process group: Ctrl+C (or a killed terminal) stops ansible-playbook with the kit.
        proc = subprocess.Popen(cmd, env=env, cwd=str(PLAYBOOKS))
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.wait()
            raise


def ssh_key(given: Path | None) -> Path | None:
    """The SSH key from --ssh-key or KIT_SSH_KEY (else the user's SSH config decides)."""
    chosen = given or (Path(os.environ["KIT_SSH_KEY"]) if os.environ.get("KIT_SSH_KEY") else None)
    if chosen is None:
        return None
    chosen = chosen.expanduser()
    if not chosen.is_file():
        raise DeployError(f"SSH key {chosen} does not exist; fix --ssh-key / KIT_SSH_KEY")
    return chosen.resolve()


def prepare(ws: Workspace, targets: list[Target], pw_file: Path, *, build: bool, log: Callable[[str], None]) -> None:
    """Check each target's secrets and reachability; build its instance and bundle when deploying.

    Raises SecretsError, DeployError or BundleError, before anything changes on any server.
    """
    for t in targets:
        secrets.read(t.vault, pw_file)  # missing vault or wrong password: fail here, not in Ansible
    if build:
        for t in targets:
            t.instance = ensure_instance(ws, t, log)
            t.bundle = bundles.build(t.instance, t.slug, log)
    problems = check_reachable(targets)
    if problems:
        raise DeployError("\n".join(problems))


def deployer() -> str:
    """Who deploys, for the receipt: user@host of the control machine (KIT_DEPLOYED_BY overrides)."""
    if os.environ.get("KIT_DEPLOYED_BY"):
        return os.environ["KIT_DEPLOYED_BY"]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def deploy_vars(targets: list[Target], canary: int, wave: str, max_fail: int) -> dict:
    """Play-level variables: rolling batches (canary first, then waves) and the failure limit."""
    serial: list[int | str] = [canary, wave] if len(targets) > canary else [len(targets)]
    return {"kit_serial": serial, "kit_max_fail_percentage": max_fail, **stamp_vars()}


def stamp_vars() -> dict:
    """Who acts and when, for the receipt on the server."""
    return {
        "kit_deployed_by": deployer(),
        "kit_deployed_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }


# --- backups ---------------------------------------------------------------------------------


def check_backup_file(path: Path, slug: str) -> dict:
    """Open a backup archive made by the server's backup job; raises DeployError when it is unusable.

    Checks that it is a tar with manifest.json naming this region, and that its database passes
    SQLite's integrity check, so a restore never starts from a damaged file.
    """
    shown = display_path(path)
    if not path.is_file():
        raise DeployError(f"{shown} does not exist")
    try:
        with tarfile.open(path) as tar:
            names = tar.getnames()
            if "manifest.json" not in names or "hibahbansos.db" not in names:
                raise DeployError(f"{shown} is not a backup made by the kit (no manifest.json or hibahbansos.db in it)")
            manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
            with tempfile.TemporaryDirectory(prefix="kit-restore-check-") as tmp:
                tar.extract("hibahbansos.db", tmp, filter="data")
                conn = sqlite3.connect(Path(tmp) / "hibahbansos.db")
                try:
                    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
                finally:
                    conn.close()
    except (tarfile.TarError, OSError, json.JSONDecodeError, sqlite3.DatabaseError) as exc:
        raise DeployError(f"{shown} cannot be read as a backup: {exc}") from None
    if manifest.get("slug") != slug:
        raise DeployError(
            f"{shown} is a backup of {manifest.get('slug')!r}, not of {slug}; restore it to its own region"
        )
    if result != "ok":
        raise DeployError(f"the database in {shown} is damaged (integrity check: {result}); use another backup")
    return manifest
