"""The deployed side of `kit status`: the server's deploy receipt and the app's health, over SSH.

Each deploy writes `/srv/<slug>/deploy-receipt.json` (docs/architecture.md, "Deploy receipt").
One short SSH session per region runs a small python3 program on the server (python3 is there:
Ansible needs it) that reads the receipt and asks the app's /healthz through the local web
server, and prints both as JSON. Nothing is written on the server.

The client is the system's OpenSSH in batch mode (keys and agents as the maintainer has them;
`KIT_SSH_CONFIG` names an ssh_config file to use instead of the default), with a short
connect timeout so a fleet with unreachable servers still answers quickly.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from dataclasses import asdict, dataclass

from kit.profile import Profile

CONNECT_TIMEOUT = 5  # seconds for the TCP and SSH handshake
TOTAL_TIMEOUT = 15  # seconds for the whole session

NO_SERVER = "no server"
UNREACHABLE = "unreachable"
NOT_DEPLOYED = "not deployed"
DEPLOYED = "deployed"
ERROR = "error"

# Runs on the server: argv is slug, domain. Prints one JSON object.
PROBE = r"""
import json, ssl, sys, urllib.error, urllib.request
slug, domain = sys.argv[1], sys.argv[2]
out = {}
try:
    with open("/srv/%s/deploy-receipt.json" % slug, encoding="utf-8") as fh:
        out["receipt"] = json.load(fh)
except FileNotFoundError:
    out["receipt"] = None
except Exception as exc:
    out["receipt_error"] = "%s: %s" % (type(exc).__name__, exc)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
req = urllib.request.Request("https://127.0.0.1/healthz", headers={"Host": domain})
try:
    with urllib.request.urlopen(req, timeout=4, context=ctx) as res:
        out["health"] = {"code": res.status, "body": json.loads(res.read())}
except urllib.error.HTTPError as exc:
    try:
        body = json.loads(exc.read())
    except Exception:
        body = None
    out["health"] = {"code": exc.code, "body": body}
except Exception as exc:
    out["health"] = {"error": str(getattr(exc, "reason", exc))}
print(json.dumps(out))
"""


@dataclass
class Deployed:
    """What the server says: the state, the receipt's fields, the app's health."""

    state: str
    template_version: str | None = None
    app_version: str | None = None
    deployed_at: str | None = None
    health: str | None = None
    detail: str = ""
    receipt: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        if self.state == DEPLOYED:
            return f"{self.template_version} ({self.deployed_at or 'date unknown'})"
        return self.state + (f": {self.detail}" if self.detail else "")


def ssh_command(profile: Profile) -> list[str]:
    """The ssh invocation that runs the probe on the region's server."""
    assert profile.server is not None
    cmd = [shutil.which("ssh") or "ssh"]
    config = os.environ.get("KIT_SSH_CONFIG")
    if config:
        cmd += ["-F", config]
    cmd += [
        "-p",
        str(profile.server.port),
        "-o",
        "BatchMode=yes",
        "-o",
        f"ConnectTimeout={CONNECT_TIMEOUT}",
        "-o",
        "ServerAliveInterval=5",
        "-o",
        "ServerAliveCountMax=1",
        f"{profile.server.user}@{profile.server.host}",
    ]
    remote = ["python3", "-c", PROBE, profile.slug, profile.site.domain]
    return [*cmd, " ".join(shlex.quote(part) for part in remote)]


def read(profile: Profile) -> Deployed:
    """The region's deployed version and health; never raises (problems become the state)."""
    if profile.server is None:
        return Deployed(NO_SERVER)
    if shutil.which("ssh") is None:
        return Deployed(ERROR, detail="ssh is not installed (apt-get install openssh-client)")
    try:
        proc = subprocess.run(
            ssh_command(profile), capture_output=True, text=True, timeout=TOTAL_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return Deployed(UNREACHABLE, detail=f"no answer within {TOTAL_TIMEOUT} s")
    if proc.returncode == 255:  # ssh's own failure: network, DNS, host key, authentication
        lines = proc.stderr.strip().splitlines()
        return Deployed(UNREACHABLE, detail=lines[-1] if lines else "ssh failed")
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return Deployed(
            ERROR, detail=f"the probe failed on the server: {lines[-1] if lines else 'exit ' + str(proc.returncode)}"
        )
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Deployed(ERROR, detail="the server's answer was not JSON")
    if "receipt_error" in data:
        return Deployed(ERROR, detail=f"unreadable receipt: {data['receipt_error']}")
    receipt = data.get("receipt")
    if not receipt:
        return Deployed(NOT_DEPLOYED, detail=f"no /srv/{profile.slug}/deploy-receipt.json")
    return Deployed(
        DEPLOYED,
        template_version=receipt.get("template_version"),
        app_version=receipt.get("app_version"),
        deployed_at=receipt.get("deployed_at"),
        health=_health(data.get("health") or {}),
        receipt=receipt,
    )


def _health(h: dict) -> str:
    if "error" in h:
        return f"down: {h['error']}"
    body = h.get("body") if isinstance(h.get("body"), dict) else {}
    if h.get("code") == 200 and body.get("status") == "ok":
        return "ok"
    pending = (body.get("database") or {}).get("pending_migrations") or []
    return f"{body.get('status') or 'failing'} (HTTP {h.get('code')})" + (
        f", {len(pending)} pending migration(s)" if pending else ""
    )
