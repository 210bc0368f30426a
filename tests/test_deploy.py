"""`kit deploy` end to end: real Debian 12 servers (systemd-nspawn), real Ansible, real nginx.

Three servers boot once for this module. The tests run in file order and share them: each test
leaves its server deployed and serving, as the next one expects. alpha takes the single-region
life cycle (first deploy, no-op redeploy, faults, rollback, backup/restore, reboot); beta and
gamma join for the fleet deploy, the TLS variants and check mode.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from conftest import KIT, git
from deploylib import (
    INSECURE,
    REGION_DATA,
    NoRedirect,
    assert_firewall_drops_other_ports,
    current_release,
    fetch,
    home_page_region,
    make_workspace,
    receipt,
    unit_properties,
)

pytestmark = [pytest.mark.deploy, pytest.mark.slow, pytest.mark.xdist_group("deploy")]


@pytest.fixture(scope="module")
def ws(testhost_network, template_repo, tmp_path_factory):
    harness = testhost_network
    base = harness.worker_base()
    servers = harness.boot([base, base + 1, base + 2])
    try:
        root = tmp_path_factory.mktemp("deploy-ws")
        yield make_workspace(root, dict(zip(REGION_DATA, servers, strict=True)), template_repo, harness.key_path())
    finally:
        for s in servers:
            s.down()


# --- helpers ---------------------------------------------------------------------------------------

DUMP = r"""python3 - <<'EOF'
import hashlib, sqlite3
conn = sqlite3.connect("file:/srv/{slug}/shared/hibahbansos.db?mode=ro", uri=True)
print(hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest())
print(",".join(sorted(r[0] for r in conn.execute("select name from sqlite_master where type='table'"))))
EOF"""


def db_state(server, slug: str) -> tuple[str, list[str]]:
    """(SHA-256 of the database's SQL dump, its table names)."""
    digest, tables = server.ssh(DUMP.format(slug=slug)).stdout.split()
    return digest, tables.split(",")


def unit_pids(server) -> dict[str, str]:
    out = server.ssh(
        "for u in hibahbansos nginx; do systemctl show -p MainPID,ActiveEnterTimestampMonotonic --value $u | tr '\\n' ' '; echo; done"
    ).stdout.splitlines()
    return {"hibahbansos": out[0].strip(), "nginx": out[1].strip()}


def commit_change(instance: Path, path: str, transform, message: str) -> str:
    file = instance / path
    file.write_text(transform(file.read_text()))
    git(instance, "commit", "-qam", message)
    return git(instance, "rev-parse", "HEAD").strip()


def add_migrations(instance: Path, body: str, message: str) -> str:
    return commit_change(instance, "src/hibahbansos/migrations.py", lambda t: t + "\n\n" + body, message)


# --- the single-region life cycle (alpha) ------------------------------------------------------------


def test_fresh_server_gets_the_region_over_https(ws):
    server = ws.servers["alpha"]
    res = ws.kit("deploy", "alpha")
    assert res.returncode == 0, res.output
    assert res.recap()["alpha"]["failed"] == 0
    assert res.recap()["alpha"]["changed"] > 10
    # the region's home page, through nginx over HTTPS
    assert home_page_region(server.ip) == "Pemerintah Kabupaten Tasikmalaya"
    # the certificate is the self-signed one for the profile's domain
    pem = ssl.get_server_certificate((server.ip, 443))
    cert = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem, capture_output=True, text=True).stdout
    assert "CN = alpha.hibahbansos.test" in cert
    # HTTP redirects to HTTPS; security headers; health through nginx
    status, headers, _ = fetch(f"http://{server.ip}/masuk")
    assert status == 301 and headers["Location"] == f"https://{server.ip}/masuk"
    status, headers, body = fetch(f"https://{server.ip}/healthz")
    assert status == 200
    health = json.loads(body)
    assert health["region"] == "alpha" and health["database"]["ok"] is True
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in headers  # never with a self-signed certificate
    # static files come from nginx, straight from the release
    status, headers, body = fetch(f"https://{server.ip}/static/css/app.css")
    assert status == 200 and headers["Server"] == "nginx" and "Expires" in headers
    # the upload limit (uploads.max_mb: 10, one more MiB for the form) is nginx's
    status, _, _ = fetch(f"https://{server.ip}/masuk", data=b"x" * (12 * 1024 * 1024))
    assert status == 413
    # ... except the bansos import, which takes whole DTKS extracts: nginx lets it through and the
    # app answers (CSRF and login come first for this anonymous post)
    status, _, _ = fetch(f"https://{server.ip}/bansos/impor", data=b"x" * (12 * 1024 * 1024))
    assert status in (302, 400)
    # the receipt says what runs
    instance = ws.instance("alpha")
    rec = receipt(server)
    commit = git(instance, "rev-parse", "HEAD").strip()
    answers = yaml.safe_load((instance / ".copier-answers.yml").read_text())
    assert rec["slug"] == "alpha"
    assert rec["instance_commit"] == commit
    assert rec["release"].endswith("-" + commit[:10])
    assert rec["template_version"] == answers["_commit"]
    assert rec["app_version"] == health["app_version"]
    assert rec["profile_sha256"] == hashlib.sha256((ws.regions / "alpha.yml").read_bytes()).hexdigest()
    assert rec["deployed_by"] == "tests@control"
    assert current_release(server, "alpha") == rec["release"]


def test_server_is_set_up_as_the_profile_says(ws):
    server = ws.servers["alpha"]
    assert server.ssh("readlink /etc/localtime").stdout.strip() == "/usr/share/zoneinfo/Asia/Jakarta"
    timer = server.ssh("systemctl show hibahbansos-backup.timer -p TimersCalendar,ActiveState").stdout
    assert "OnCalendar=*-*-* 02:30:00" in timer and "ActiveState=active" in timer
    assert 'Unattended-Upgrade "1"' in server.ssh("cat /etc/apt/apt.conf.d/20auto-upgrades").stdout
    # gunicorn under its own user, hardened
    props = unit_properties(server, "hibahbansos", "User", "NoNewPrivileges", "ProtectSystem", "PrivateTmp", "Restart",
                            "ActiveState")  # fmt: skip
    assert props == {
        "User": "hibahbansos",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "Restart": "on-failure",
        "ActiveState": "active",
    }
    # secrets: root-only, and the app runs with the vault's keys (not generated ones in DATA)
    assert server.ssh("stat -c %a:%U /etc/hibahbansos/env").stdout.strip() == "600:root"
    assert server.ssh("ls /srv/alpha/shared").stdout.split()[:3] == ["backups", "hibahbansos.db", "uploads"]
    assert server.ssh("ls /srv/alpha/shared/secret_key /srv/alpha/shared/audit_key", check=False).returncode != 0
    # the firewall drops what is not SSH, HTTP or HTTPS
    assert_firewall_drops_other_ports(server)
    # the first administrator logs in with the password from the vault
    password = ws.kit("secrets", "show", "alpha", "admin_password").output.strip()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=INSECURE), urllib.request.HTTPCookieProcessor(jar), NoRedirect
    )
    _, _, body = fetch(f"https://{server.ip}/masuk", opener=opener)
    token = BeautifulSoup(body, "html.parser").select_one("input[name=csrf_token]")["value"]
    form = urllib.parse.urlencode({"csrf_token": token, "username": "admin", "password": password}).encode()
    status, headers, _ = fetch(
        f"https://{server.ip}/masuk", data=form, opener=opener, headers={"Referer": f"https://{server.ip}/masuk"}
    )
    assert status == 302 and headers["Location"] == "/"


def test_kit_status_reads_the_receipt_over_ssh(ws, testhost_network):
    server = ws.servers["alpha"]
    config = ws.root / "ssh_config"
    config.write_text(
        f"Host *\n  IdentityFile {testhost_network.key_path()}\n  StrictHostKeyChecking no\n"
        "  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
    )
    ws.env["KIT_SSH_CONFIG"] = str(config)
    try:
        res = ws.kit("status", "alpha", "--format", "json")
    finally:
        del ws.env["KIT_SSH_CONFIG"]
    assert res.returncode == 0, res.output
    (row,) = json.loads(res.stdout)["regions"]
    rec = receipt(server)
    assert row["deployed"]["state"] == "deployed"
    assert row["deployed"]["template_version"] == rec["template_version"]
    assert row["deployed"]["deployed_at"] == rec["deployed_at"]


def test_second_deploy_changes_and_restarts_nothing(ws):
    server = ws.servers["alpha"]
    before = unit_pids(server)
    rec_before = receipt(server)
    res = ws.kit("deploy", "alpha")
    assert res.returncode == 0, res.output
    assert res.recap()["alpha"]["changed"] == 0
    assert res.recap()["alpha"]["failed"] == 0
    assert unit_pids(server) == before
    assert receipt(server) == rec_before


SERVER_STATE = """set -e
cd /
sha1sum /etc/nftables.conf /etc/apt/apt.conf.d/20auto-upgrades /etc/hibahbansos/env /etc/hibahbansos/gunicorn.conf.py \
  /usr/local/sbin/hibahbansos /usr/local/sbin/hibahbansos-backup /etc/systemd/system/hibahbansos*.service \
  /etc/systemd/system/hibahbansos-backup.timer /etc/nginx/sites-available/hibahbansos.conf
stat -c '%n %U %G %a' /etc/hibahbansos/env /usr/local/sbin/hibahbansos-backup /srv/alpha /srv/alpha/shared \
  /srv/alpha/shared/uploads /srv/alpha/shared/backups/nightly /etc/hibahbansos/tls
readlink /etc/localtime /etc/nginx/sites-enabled/*
getent passwd hibahbansos
systemctl is-enabled nftables nginx hibahbansos hibahbansos-backup.timer
systemctl is-active nftables nginx hibahbansos hibahbansos-backup.timer
"""

# Hand changes a technician might make, one for each kind of thing the deploy reads before it
# decides to skip a task (files/server_state.py): a file's content, a file's mode, a folder's
# owner, a link, a link that must not exist, a user, a stopped and disabled unit.
DRIFT = """set -e
echo '# edited by hand' >> /etc/nftables.conf
echo 'APT::Periodic::Unattended-Upgrade "0";' > /etc/apt/apt.conf.d/20auto-upgrades
chmod 0644 /etc/hibahbansos/env
echo '# edited by hand' >> /usr/local/sbin/hibahbansos-backup
chown root:root /srv/alpha/shared/uploads
ln -sf /usr/share/zoneinfo/UTC /etc/localtime
rm /etc/nginx/sites-enabled/hibahbansos.conf
ln -s /etc/nginx/sites-available/default /etc/nginx/sites-enabled/default
chsh -s /bin/bash hibahbansos
systemctl disable --now hibahbansos-backup.timer
"""


def test_hand_changes_on_the_server_are_put_back(ws):
    server = ws.servers["alpha"]
    before = server.ssh(SERVER_STATE).stdout
    server.ssh(DRIFT)
    drifted = server.ssh(SERVER_STATE, check=False).stdout
    assert drifted != before
    res = ws.kit("deploy", "alpha")
    assert res.returncode == 0, res.output
    assert res.recap()["alpha"]["changed"] >= 10
    assert server.ssh(SERVER_STATE).stdout == before
    assert home_page_region(server.ip) == "Pemerintah Kabupaten Tasikmalaya"
    again = ws.kit("deploy", "alpha")
    assert again.returncode == 0, again.output
    assert again.recap()["alpha"]["changed"] == 0


def test_check_mode_shows_the_change_and_makes_none(ws):
    server = ws.servers["alpha"]
    timer_before = server.ssh("cat /etc/systemd/system/hibahbansos-backup.timer").stdout
    ws.edit_profile("alpha", lambda d: d.update(backup={"time": "03:15", "keep_days": 7}))
    try:
        res = ws.kit("deploy", "alpha", "--check", "--diff")
        assert res.returncode == 0, res.output
        assert "-OnCalendar=*-*-* 02:30:00" in res.output
        assert "+OnCalendar=*-*-* 03:15:00" in res.output
        assert server.ssh("cat /etc/systemd/system/hibahbansos-backup.timer").stdout == timer_before
    finally:
        ws.edit_profile("alpha", lambda d: d.pop("backup"))


FAILING_MIGRATIONS = """
@core()
def m900_deploy_probe(db):
    db.execute("CREATE TABLE deploy_probe (id INTEGER PRIMARY KEY)")


@core()
def m901_broken(db):
    raise RuntimeError("m901 is broken on purpose")
"""


def test_failing_migration_leaves_the_old_release_and_database(ws):
    server = ws.servers["alpha"]
    instance = ws.instance("alpha")
    good = git(instance, "rev-parse", "HEAD").strip()
    release_before = current_release(server, "alpha")
    db_before = db_state(server, "alpha")
    add_migrations(instance, FAILING_MIGRATIONS, "A migration that fails")
    try:
        res = ws.kit("deploy", "alpha")
    finally:
        git(instance, "reset", "-q", "--hard", good)
    assert res.returncode == 2, res.output
    assert "was NOT activated. Migrate the database failed" in res.output
    assert "m901 is broken on purpose" in res.output
    assert f"Release {release_before} still serves" in res.output
    assert "the database was restored from /srv/alpha/shared/backups/pre-deploy-" in res.output
    assert "Error: deploy failed (ansible-playbook exit 2)" in res.output
    assert current_release(server, "alpha") == release_before
    assert db_state(server, "alpha") == db_before  # deploy_probe (m900) rolled back too
    assert home_page_region(server.ip) == "Pemerintah Kabupaten Tasikmalaya"


def test_failing_health_check_leaves_the_old_release_and_database(ws):
    server = ws.servers["alpha"]
    instance = ws.instance("alpha")
    good = git(instance, "rev-parse", "HEAD").strip()
    release_before = current_release(server, "alpha")
    db_before = db_state(server, "alpha")
    add_migrations(instance, GOOD_MIGRATION, "Add the deploy_probe table")
    commit_change(
        instance,
        "src/hibahbansos/views/public.py",
        lambda t: t.replace('200 if database["ok"] else 503', "503"),
        "A release whose health check fails",
    )
    try:
        res = ws.kit("deploy", "alpha")
    finally:
        git(instance, "reset", "-q", "--hard", good)
    assert res.returncode == 2, res.output
    assert (
        "was NOT activated. Check the candidate is healthy and serves this region failed: "
        "the new release's /healthz answered HTTP 503: {"
    ) in res.output
    assert f"Release {release_before} still serves" in res.output
    assert current_release(server, "alpha") == release_before
    assert db_state(server, "alpha") == db_before
    assert home_page_region(server.ip) == "Pemerintah Kabupaten Tasikmalaya"


GOOD_MIGRATION = """
@core()
def m900_deploy_probe(db):
    db.execute("CREATE TABLE deploy_probe (id INTEGER PRIMARY KEY)")
"""


def test_interrupted_deploy_is_completed_by_the_next(ws):
    server = ws.servers["alpha"]
    instance = ws.instance("alpha")
    release_before = current_release(server, "alpha")
    add_migrations(instance, GOOD_MIGRATION, "Add the deploy_probe table")
    proc = subprocess.Popen(
        [KIT, "deploy", "alpha"], env=ws.env, cwd=ws.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "TASK [app : Migrate the database]" in line:
            os.killpg(proc.pid, signal.SIGKILL)  # the control machine dies mid-deploy
            break
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, "".join(seen)[-3000:]
    assert current_release(server, "alpha") == release_before
    res = ws.kit("deploy", "alpha")
    assert res.returncode == 0, res.output
    commit = git(instance, "rev-parse", "HEAD").strip()
    assert receipt(server)["instance_commit"] == commit
    assert current_release(server, "alpha").endswith(commit[:10])
    assert "deploy_probe" in db_state(server, "alpha")[1]
    assert home_page_region(server.ip) == "Pemerintah Kabupaten Tasikmalaya"
    state = json.loads(server.ssh("cat /srv/alpha/current/deploy-state.json").stdout)
    assert state["previous"] == release_before
    assert state["db_backup"].startswith("/srv/alpha/shared/backups/pre-deploy-")


def test_rollback_brings_back_the_previous_release_and_its_database(ws):
    server = ws.servers["alpha"]
    state = json.loads(server.ssh("cat /srv/alpha/current/deploy-state.json").stdout)
    newer = current_release(server, "alpha")
    res = ws.kit("rollback", "alpha")
    assert res.returncode == 0, res.output
    assert f"rolled back from {newer} to {state['previous']}" in res.output
    assert current_release(server, "alpha") == state["previous"]
    assert "deploy_probe" not in db_state(server, "alpha")[1]
    assert receipt(server)["release"] == state["previous"]
    assert home_page_region(server.ip) == "Pemerintah Kabupaten Tasikmalaya"
    # the database as it was before the rollback is kept
    server.ssh(f"test -s /srv/alpha/shared/backups/pre-rollback-{newer}.db")
    # the release the rollback went back to was the first: nothing earlier
    res = ws.kit("rollback", "alpha")
    assert res.returncode == 2
    assert f"release {state['previous']} has no earlier release to go back to (it was the first deploy)" in res.output
    # the instance goes back to what is deployed, for the tests after this one
    git(ws.instance("alpha"), "reset", "-q", "--hard", "HEAD~1")


def test_backup_wipe_restore_gives_identical_data(ws, tmp_path):
    server = ws.servers["alpha"]
    server.ssh("hibahbansos create-admin budi --name 'Budi Santoso' --password-file -", input="Rahasia-Kuat-123\n")
    server.ssh(
        "install -d -o hibahbansos -g hibahbansos /srv/alpha/shared/uploads/ab/cd && "
        "head -c 300000 /dev/urandom > /srv/alpha/shared/uploads/ab/cd/lampiran.pdf && "
        "chown hibahbansos: /srv/alpha/shared/uploads/ab/cd/lampiran.pdf"
    )
    # retention: nightly archives older than backup.keep_days (14) go when the job runs
    nightly = "/srv/alpha/shared/backups/nightly"
    server.ssh(
        f"touch -d '20 days ago' {nightly}/backup-20000101T000000Z.tar.gz && "
        f"touch -d '2 days ago' {nightly}/backup-20991231T000000Z.tar.gz"
    )
    uploads = "cd /srv/alpha/shared/uploads && find . -type f -exec sha256sum {} + | sort"
    db_before, files_before = db_state(server, "alpha"), server.ssh(uploads).stdout
    res = ws.kit("backup", "alpha", "--dest", str(tmp_path))
    assert res.returncode == 0, res.output
    (archive,) = (tmp_path / "alpha").glob("backup-*.tar.gz")
    kept = server.ssh(f"ls {nightly}").stdout.split()
    assert "backup-20000101T000000Z.tar.gz" not in kept and "backup-20991231T000000Z.tar.gz" in kept
    server.ssh(f"rm {nightly}/backup-20991231T000000Z.tar.gz")  # not a real archive: not the newest either
    assert f"backup of alpha: {archive}" in res.output
    # wipe: the database and the uploads are gone
    server.ssh("systemctl stop hibahbansos && rm -rf /srv/alpha/shared/hibahbansos.db* /srv/alpha/shared/uploads/*")
    res = ws.kit("restore", "alpha", str(archive))
    assert res.returncode == 0, res.output
    assert "audit chain intact" in res.output
    assert db_state(server, "alpha") == db_before
    assert server.ssh(uploads).stdout == files_before
    assert home_page_region(server.ip) == "Pemerintah Kabupaten Tasikmalaya"
    # a backup of another region is refused before anything happens
    res = ws.kit("restore", "beta", str(archive))
    assert res.returncode == 1
    assert f"{archive.name} is a backup of 'alpha', not of beta" in res.output


def test_not_enough_disk_stops_before_any_change(ws):
    server = ws.servers["alpha"]
    free = int(server.ssh("df --output=avail --block-size=1M /srv | tail -1").stdout)
    ws.edit_profile("alpha", lambda d: d["server"].update(min_free_mb=free + 50_000))
    try:
        res = ws.kit("deploy", "alpha")
    finally:
        ws.edit_profile("alpha", lambda d: d["server"].pop("min_free_mb"))
    assert res.returncode == 2
    assert re.search(
        rf"alpha: not enough disk space: \d+ MiB free on /, the deploy needs {free + 50_000} MiB "
        r"\(server.min_free_mb\). Nothing was changed.",
        res.output,
    ), res.output
    assert res.recap()["alpha"]["changed"] == 0


def test_unreachable_server_is_named_with_host_and_port(ws):
    server = ws.servers["alpha"]
    # the server's firewall drops port 2222: no answer at all
    ws.edit_profile("alpha", lambda d: d["server"].update(port=2222))
    try:
        res = ws.kit("deploy", "alpha")
        assert res.returncode == 1
        assert (
            f"Error: alpha: cannot reach the server at {server.ip} port 2222: no answer within 8 s "
            "(server down, wrong address or a firewall); check server.host and server.port in regions/alpha.yml"
        ) in res.output
        assert "PLAY" not in res.output  # stopped before Ansible
        # an address where nothing listens on that port refuses at once
        host = server.ip.rsplit(".", 1)[0] + ".1"
        ws.edit_profile("alpha", lambda d: d["server"].update(host=host))
        res = ws.kit("deploy", "alpha")
        assert res.returncode == 1
        assert (
            f"Error: alpha: cannot reach the server at {host} port 2222: connection refused (is sshd running"
            in res.output
        )
    finally:
        ws.edit_profile("alpha", lambda d: d["server"].update(host=server.ip, port=22))


def test_app_comes_back_after_reboot(ws):
    server = ws.servers["alpha"]
    server.reboot()
    deadline = time.monotonic() + 60
    while True:
        try:
            assert home_page_region(server.ip) == "Pemerintah Kabupaten Tasikmalaya"
            break
        except (OSError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    assert (
        server.ssh("systemctl is-active hibahbansos nginx nftables hibahbansos-backup.timer").stdout.split()
        == ["active"] * 4
    )
    assert "policy drop" in server.ssh("nft list chain inet filter input").stdout


# --- the fleet -----------------------------------------------------------------------------------------


def test_fleet_deploy_to_three_servers(ws):
    res = ws.kit("deploy", "--all", "--wave", "2")
    assert res.returncode == 0, res.output
    recap = res.recap()
    assert sorted(recap) == ["alpha", "beta", "gamma"]
    assert all(r["failed"] == 0 and r["unreachable"] == 0 for r in recap.values())
    # rolling: alpha alone first, then beta and gamma together
    batches = re.findall(r"TASK \[base : Check the distribution is supported\][^\n]*\n((?:ok: \[\w+\]\n)+)", res.output)
    assert [sorted(re.findall(r"\[(\w+)\]", b)) for b in batches] == [["alpha"], ["beta", "gamma"]]
    assert home_page_region(ws.servers["beta"].ip) == "Pemerintah Kota Makassar"
    assert home_page_region(ws.servers["gamma"].ip) == "Pemerintah Kabupaten Garut"
    assert ws.servers["beta"].ssh("readlink /etc/localtime").stdout.strip() == "/usr/share/zoneinfo/Asia/Makassar"
    assert receipt(ws.servers["gamma"])["slug"] == "gamma"


def test_provided_certificate_is_served(ws, tmp_path):
    server = ws.servers["gamma"]
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=gamma.example.go.id",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert ws.kit("secrets", "set", "gamma", "tls_certificate", "--from-file", str(cert)).returncode == 0
    assert ws.kit("secrets", "set", "gamma", "tls_private_key", "--from-file", str(key)).returncode == 0
    assert "PRIVATE KEY" not in (ws.regions / "gamma.secrets.vault").read_text()
    ws.edit_profile("gamma", lambda d: d["site"].update(tls="provided"))
    res = ws.kit("deploy", "gamma", "--tags", "web")
    assert res.returncode == 0, res.output
    assert "PRIVATE KEY" not in res.output
    served = ssl.get_server_certificate((server.ip, 443))
    assert ssl.PEM_cert_to_DER_cert(served) == ssl.PEM_cert_to_DER_cert(cert.read_text())
    status, headers, _ = fetch(f"https://{server.ip}/")
    assert status == 200 and headers["Strict-Transport-Security"] == "max-age=31536000"


def test_acme_in_check_mode(ws):
    """Let's Encrypt cannot be reached from here: check mode shows certbot would be installed and run."""
    server = ws.servers["beta"]
    ws.edit_profile("beta", lambda d: d["site"].update(tls="acme", acme_email="kominfo@makassarkota.go.id"))
    res = ws.kit("deploy", "beta", "--check", "--tags", "web")
    assert res.returncode == 0, res.output
    for task in (
        "Install certbot",
        "Create the ACME challenge folder",
        "Ask the ACME CA for a certificate for beta.hibahbansos.test",
        "Reload nginx after each renewal",
    ):
        assert re.search(rf"TASK \[web : {re.escape(task)}\] \**\nchanged: \[beta\]", res.output), task
    assert server.ssh("command -v certbot", check=False).returncode != 0  # check mode installed nothing


@pytest.fixture
def acme_ca(testhost_network, tmp_path):
    """Pebble, Let's Encrypt's test ACME server (Debian's pebble package), on the servers' bridge.

    It validates HTTP-01 for real: it resolves the domain through the bridge's DNS and fetches the
    challenge from the server's port 80. Its own HTTPS certificate comes from a throw-away CA.
    """
    pebble = shutil.which("pebble")
    if pebble is None:
        pytest.fail("pebble is not installed: apt-get install pebble", pytrace=False)
    ip = testhost_network.host_ip()

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp_path)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test ACME root",
            "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={ip}", "-keyout", "tls.key", "-out", "tls.csr")
    (tmp_path / "san.ext").write_text(f"subjectAltName=IP:{ip}\n")
    openssl("x509", "-req", "-in", "tls.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", "san.ext", "-out", "tls.pem")  # fmt: skip
    config = {
        "pebble": {
            "listenAddress": f"{ip}:14000",
            "managementListenAddress": f"{ip}:15000",
            "certificate": str(tmp_path / "tls.pem"),
            "privateKey": str(tmp_path / "tls.key"),
            "httpPort": 80,
            "tlsPort": 443,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    (tmp_path / "pebble.json").write_text(json.dumps(config))
    log = (tmp_path / "pebble.log").open("w")
    proc = subprocess.Popen(
        [pebble, "-config", str(tmp_path / "pebble.json"), "-dnsserver", f"{ip}:53"],
        env={**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"},
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((ip, 14000), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "pebble.log").read_text()) from None
                time.sleep(0.2)
        ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        with urllib.request.urlopen(f"https://{ip}:15000/roots/0", context=ctx, timeout=10) as res:
            root = res.read().decode()
        yield {"directory": f"https://{ip}:14000/dir", "tls_ca": (tmp_path / "ca.pem").read_text(), "root": root}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_acme_certificate_from_a_real_acme_server(ws, acme_ca, testhost_network):
    server = ws.servers["beta"]
    domain = "beta.hibahbansos.test"
    testhost_network.add_dns_name(domain, server.ip)
    # The server trusts the test ACME server's HTTPS, as it trusts Let's Encrypt's through its CA store.
    server.ssh(
        "cat > /usr/local/share/ca-certificates/test-acme.crt && update-ca-certificates", input=acme_ca["tls_ca"]
    )
    ws.edit_profile(
        "beta",
        lambda d: d["site"].update(
            tls="acme", acme_email="kominfo@makassarkota.go.id", acme_directory=acme_ca["directory"]
        ),
    )
    res = ws.kit("deploy", "beta", "--tags", "web")
    assert res.returncode == 0, res.output
    assert re.search(
        r"TASK \[web : Ask the ACME CA for a certificate for beta\.hibahbansos\.test\] \**\nchanged:", res.output
    )
    # nginx serves the issued chain: it verifies against the ACME CA's root, for the domain
    ctx = ssl.create_default_context(cadata=acme_ca["root"])
    with (
        socket.create_connection((server.ip, 443), timeout=10) as sock,
        ctx.wrap_socket(sock, server_hostname=domain) as tls,
    ):
        assert ("DNS", domain) in tls.getpeercert()["subjectAltName"]
    status, headers, body = fetch(f"https://{server.ip}/", headers={"Host": domain})
    assert status == 200 and "Pemerintah Kota Makassar" in body
    assert headers["Strict-Transport-Security"] == "max-age=31536000"  # a trusted certificate now
    assert server.ssh("test -x /etc/letsencrypt/renewal-hooks/deploy/reload-nginx", check=False).returncode == 0
    # a second deploy asks for nothing and changes nothing
    res = ws.kit("deploy", "beta", "--tags", "web")
    assert res.returncode == 0, res.output
    assert res.recap()["beta"]["changed"] == 0, res.output


def test_server_behind_a_port_forward_keeps_its_ssh_port_open(ws):
    """The profile's port is where the control machine connects (here a forward to sshd's 22, as NAT
    would do); the firewall opens it and the port sshd listens on, so no deploy locks SSH out."""
    from testhost.relay import Relay

    server = ws.servers["gamma"]
    forward = Relay(server.ip, 22)
    ws.edit_profile("gamma", lambda d: d["server"].update(host="127.0.0.1", port=forward.port))
    res = ws.kit("deploy", "gamma", "--tags", "base")
    assert res.returncode == 0, res.output
    rules = server.ssh("nft list chain inet filter input").stdout
    assert re.search(rf"tcp dport {{ 22, 80, 443, {forward.port} }} accept", rules), rules
    # sshd's own port still answers directly, and the forward once more: nothing locked out
    assert server.ssh("true").returncode == 0
    res = ws.kit("deploy", "gamma", "--tags", "base")
    assert res.returncode == 0, res.output
    assert res.recap()["gamma"]["changed"] == 0, res.output
