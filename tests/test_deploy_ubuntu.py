"""`kit deploy` to Ubuntu 24.04, the roles' second target: a real noble server (systemd-nspawn).

One server, booted for this module, with ufw installed but inactive as on Ubuntu's server images.
The Debian 12 life cycle (faults, rollback, backups, fleet) is tests/test_deploy.py; this module
checks what differs on Ubuntu: Python 3.12 (the bundle's cp312 wheels), ufw beside the kit's
nftables firewall, the same hardened unit and HTTPS site, and an idempotent second deploy.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from deploylib import (
    assert_firewall_drops_other_ports,
    fetch,
    home_page_region,
    make_workspace,
    receipt,
    unit_properties,
)

# A group of its own: xdist runs it on another worker, beside the Debian deploy tests.
pytestmark = [pytest.mark.deploy, pytest.mark.slow, pytest.mark.xdist_group("deploy-ubuntu")]

SLUG = "alpha"
UBUNTU_ARCHIVE = "http://archive.ubuntu.com/ubuntu"  # testhost.sh's MIRROR for DISTRO=ubuntu


@pytest.fixture(scope="module")
def uws(testhost_network, template_repo, tmp_path_factory):
    harness = testhost_network
    # The server is built from Ubuntu's archive (Debian's are the only ones this kind of machine is
    # promised). Reachable here; where it is not, say so rather than fail the Debian suite with it.
    try:
        urllib.request.urlopen(f"{UBUNTU_ARCHIVE}/dists/noble/Release", timeout=15).close()
    except OSError as exc:
        pytest.skip(f"Ubuntu's archive {UBUNTU_ARCHIVE} is not reachable from this machine ({exc}); no Ubuntu server")
    # Clear of test_deploy.py's three servers, should xdist put both groups on one worker.
    (server,) = harness.boot([harness.worker_base() + 10], distro="ubuntu")
    try:
        root = tmp_path_factory.mktemp("deploy-ubuntu")
        workspace = make_workspace(root, {SLUG: server}, template_repo, harness.key_path())
        # Ubuntu's server images ship ufw, inactive; a minimal root filesystem does not.
        server.ssh("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ufw", timeout=600)
        yield workspace
    finally:
        server.down()


def test_the_server_is_ubuntu_24_04_with_python_3_12(uws):
    server = uws.servers[SLUG]
    release = dict(line.split("=", 1) for line in server.ssh("cat /etc/os-release").stdout.split("\n") if "=" in line)
    assert release["ID"] == "ubuntu" and release["VERSION_ID"] == '"24.04"'
    assert server.ssh("python3 -c 'import sys; print(sys.version_info[:2])'").stdout.strip() == "(3, 12)"


def test_fresh_ubuntu_server_gets_the_region_over_https(uws):
    server = uws.servers[SLUG]
    res = uws.kit("deploy", SLUG)
    assert res.returncode == 0, res.output
    assert res.recap()[SLUG]["failed"] == 0
    assert home_page_region(server.ip) == "Pemerintah Kabupaten Tasikmalaya"
    status, headers, body = fetch(f"https://{server.ip}/healthz")
    assert status == 200 and json.loads(body)["database"]["ok"] is True
    assert headers["X-Frame-Options"] == "DENY"
    status, headers, _ = fetch(f"http://{server.ip}/masuk")
    assert status == 301 and headers["Location"] == f"https://{server.ip}/masuk"
    # the release's virtualenv runs Ubuntu's Python 3.12, from the bundle's cp312 wheels
    venv_python = server.ssh(f"/srv/{SLUG}/current/venv/bin/python -c 'import sys; print(sys.version_info[:2])'")
    assert venv_python.stdout.strip() == "(3, 12)"
    assert receipt(server)["release"] == server.ssh(f"basename $(readlink /srv/{SLUG}/current)").stdout.strip()


def test_ubuntu_server_is_hardened_and_firewalled_like_debian(uws):
    server = uws.servers[SLUG]
    props = unit_properties(server, "hibahbansos", "User", "NoNewPrivileges", "ProtectSystem", "ActiveState")
    assert props == {
        "User": "hibahbansos",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ActiveState": "active",
    }
    # ufw would load rules of its own beside the kit's: the deploy stopped and disabled it
    assert server.ssh("systemctl is-enabled ufw", check=False).stdout.strip() == "disabled"
    assert_firewall_drops_other_ports(server)
    assert server.ssh("readlink /etc/localtime").stdout.strip() == "/usr/share/zoneinfo/Asia/Jakarta"
    assert 'Unattended-Upgrade "1"' in server.ssh("cat /etc/apt/apt.conf.d/20auto-upgrades").stdout


def test_second_deploy_on_ubuntu_changes_nothing(uws):
    server = uws.servers[SLUG]
    before = server.ssh("systemctl show -p MainPID --value hibahbansos nginx").stdout.split()
    res = uws.kit("deploy", SLUG)
    assert res.returncode == 0, res.output
    assert res.recap()[SLUG]["changed"] == 0, res.output
    assert server.ssh("systemctl show -p MainPID --value hibahbansos nginx").stdout.split() == before
