"""What the deploy tests share: workspaces of profiles beside booted servers, and HTTPS probes."""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

from conftest import GIT_IDENTITY, KIT, REGIONS

REGION_DATA = {
    "alpha": {"name": "Kabupaten Tasikmalaya", "kind": "kabupaten", "kode": "32.06", "province": "Jawa Barat",
              "seat": "Singaparna", "timezone": "Asia/Jakarta"},
    "beta": {"name": "Kota Makassar", "kind": "kota", "kode": "73.71", "province": "Sulawesi Selatan",
             "seat": "Makassar", "timezone": "Asia/Makassar"},
    "gamma": {"name": "Kabupaten Garut", "kind": "kabupaten", "kode": "32.05", "province": "Jawa Barat",
              "seat": "Tarogong Kidul", "timezone": "Asia/Jakarta"},
}  # fmt: skip


@dataclass
class Run:
    returncode: int
    output: str
    stdout: str = ""

    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP counters per host."""
        found = {}
        for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", self.output.split("PLAY RECAP")[-1], re.M):
            found[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)}
        return found


@dataclass
class Workspace:
    root: Path
    env: dict
    servers: dict  # slug -> TestServer

    @property
    def regions(self) -> Path:
        return self.root / "regions"

    def instance(self, slug: str) -> Path:
        return self.root / "instances" / slug

    def kit(self, *args: str, timeout: int = 900) -> Run:
        proc = subprocess.run(
            [KIT, *args], env=self.env, cwd=self.root, capture_output=True, text=True, timeout=timeout
        )
        out = proc.stdout + proc.stderr
        print(f"$ kit {' '.join(args)}  -> exit {proc.returncode}\n{out[-6000:]}")
        return Run(proc.returncode, out, proc.stdout)

    def edit_profile(self, slug: str, change) -> None:
        path = self.regions / f"{slug}.yml"
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def make_profile(slug: str, host: str) -> dict:
    data = yaml.safe_load((REGIONS / "tasikmalaya.yml").read_text())
    data.update(REGION_DATA[slug])
    data["slug"] = slug
    data["branding"]["app_name"] = f"Hibah dan Bansos {REGION_DATA[slug]['name']}"
    data["site"] = {"domain": f"{slug}.hibahbansos.test"}
    data["server"] = {"host": host, "port": 22, "user": "deploy"}
    return data


def make_workspace(root: Path, by_slug: dict, template_repo: Path, key: Path) -> Workspace:
    """Profiles for the servers (slug -> TestServer) under root, the kit's environment, secrets made."""
    (root / "regions" / "assets").mkdir(parents=True)
    for slug, server in by_slug.items():
        shutil.copytree(REGIONS / "assets" / "tasikmalaya", root / "regions" / "assets" / slug)
        text = yaml.safe_dump(make_profile(slug, server.ip), sort_keys=False, allow_unicode=True)
        (root / "regions" / f"{slug}.yml").write_text(text)
    (root / "vault-pass").write_text("correct horse battery staple\n")
    env = {
        **os.environ,
        **GIT_IDENTITY,
        "KIT_TEMPLATE": str(template_repo),
        "KIT_REGIONS": str(root / "regions"),
        "KIT_INSTANCES": str(root / "instances"),
        "KIT_CACHE": str(root / "cache"),
        "KIT_VAULT_PASSWORD_FILE": str(root / "vault-pass"),
        "KIT_SSH_KEY": str(key),
        "KIT_DEPLOYED_BY": "tests@control",
        # Fresh host keys on every boot: no known_hosts for these throw-away servers.
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null "
        "-o StrictHostKeyChecking=no -o LogLevel=ERROR",
        "ANSIBLE_NOCOLOR": "1",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    workspace = Workspace(root, env, by_slug)
    for slug in by_slug:
        res = workspace.kit("secrets", "init", slug)
        assert res.returncode == 0, res.output
    return workspace


INSECURE = ssl.create_default_context()
INSECURE.check_hostname = False
INSECURE.verify_mode = ssl.CERT_NONE


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, data: bytes | None = None, headers: dict | None = None, opener=None):
    """(status, headers, body) without following redirects; TLS not verified (self-signed)."""
    opener = opener or urllib.request.build_opener(urllib.request.HTTPSHandler(context=INSECURE), NoRedirect)
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(req, timeout=15) as res:
            return res.status, res.headers, res.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode("utf-8", "replace")


def home_page_region(ip: str) -> str:
    status, _, body = fetch(f"https://{ip}/")
    assert status == 200, body[:500]
    return BeautifulSoup(body, "html.parser").select_one(".region-name").get_text(strip=True)


def receipt(server) -> dict:
    return json.loads(server.ssh("cat /srv/*/deploy-receipt.json").stdout)


def current_release(server, slug: str) -> str:
    return server.ssh(f"basename $(readlink /srv/{slug}/current)").stdout.strip()


def unit_properties(server, unit: str, *names: str) -> dict[str, str]:
    """`systemctl show UNIT -p NAME,...` on the server, as a dict."""
    out = server.ssh(f"systemctl show {unit} -p {','.join(names)}").stdout.split()
    return dict(line.split("=", 1) for line in out)


def assert_firewall_drops_other_ports(server) -> None:
    """A listener on port 8088 answers on the server itself, but not from outside: nftables drops it."""
    server.ssh("systemd-run --unit probe-listener python3 -m http.server 8088 --bind 0.0.0.0")
    try:
        probe = "sleep 1; python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:8088/').status)\""
        assert server.ssh(probe).stdout.strip() == "200"
        try:
            urllib.request.urlopen(f"http://{server.ip}:8088/", timeout=3)
        except OSError:
            pass
        else:
            raise AssertionError(f"port 8088 of {server.name} answers from outside")
    finally:
        server.ssh("systemctl stop probe-listener", check=False)
    assert "policy drop" in server.ssh("nft list chain inet filter input").stdout
