"""`kit secrets`: generated once into an ansible-vault file, never printed unless asked for."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REGIONS

ANSIBLE_VAULT = str(Path(sys.executable).with_name("ansible-vault"))


@pytest.fixture
def regions(tmp_path) -> Path:
    folder = tmp_path / "regions"
    shutil.copytree(REGIONS, folder, ignore=shutil.ignore_patterns("*.vault"))
    return folder


@pytest.fixture
def env(tmp_path, regions) -> dict:
    pw = tmp_path / "vault-pass"
    pw.write_text("s3cret vault password\n")
    return {"KIT_REGIONS": str(regions), "KIT_VAULT_PASSWORD_FILE": str(pw)}


def decrypt(path: Path, pw: str) -> dict:
    proc = subprocess.run(
        [ANSIBLE_VAULT, "view", "--vault-password-file", pw, str(path)], capture_output=True, text=True, check=True
    )
    return yaml.safe_load(proc.stdout)


def test_init_writes_an_encrypted_vault_once(kit, env, regions):
    res = kit("secrets", "init", "tasikmalaya", env=env)
    assert res.returncode == 0, res.stderr
    vault = regions / "tasikmalaya.secrets.vault"
    assert vault.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256\n")
    assert oct(vault.stat().st_mode & 0o777) == "0o600"
    values = decrypt(vault, env["KIT_VAULT_PASSWORD_FILE"])
    assert sorted(values) == ["vault_admin_password", "vault_admin_username", "vault_audit_key", "vault_secret_key"]
    password = values["vault_admin_password"]
    assert len(password) == 20 and any(c.isupper() for c in password) and any(c.isdigit() for c in password)
    assert len(values["vault_secret_key"]) >= 64 and values["vault_secret_key"] != values["vault_audit_key"]
    # nothing secret on the screen, and validate does not mistake the vault for a profile
    for secret in values.values():
        if secret != "admin":
            assert secret not in res.stdout + res.stderr
    assert kit("validate", env=env).returncode == 0
    # a second init refuses and keeps the first secrets
    again = kit("secrets", "init", "tasikmalaya", env=env)
    assert again.returncode == 1
    assert "tasikmalaya.secrets.vault already exists; secrets are generated once" in again.stderr
    assert decrypt(vault, env["KIT_VAULT_PASSWORD_FILE"]) == values


def test_show_lists_names_and_prints_a_value_only_when_asked(kit, env):
    assert kit("secrets", "init", "tasikmalaya", env=env).returncode == 0
    names = kit("secrets", "show", "tasikmalaya", env=env)
    assert names.stdout.split() == ["admin_password", "admin_username", "audit_key", "secret_key"]
    password = kit("secrets", "show", "tasikmalaya", "admin_password", env=env).stdout.strip()
    assert len(password) == 20
    assert password not in names.stdout
    unknown = kit("secrets", "show", "tasikmalaya", "smtp_password", env=env)
    assert unknown.returncode == 1
    assert (
        "has no secret 'smtp_password'; names: admin_password, admin_username, audit_key, secret_key" in unknown.stderr
    )


def test_wrong_or_missing_vault_password(kit, env, tmp_path):
    assert kit("secrets", "init", "tasikmalaya", env=env).returncode == 0
    wrong = tmp_path / "wrong"
    wrong.write_text("not the password\n")
    res = kit("secrets", "show", "tasikmalaya", env={**env, "KIT_VAULT_PASSWORD_FILE": str(wrong)})
    assert res.returncode == 1
    assert "tasikmalaya.secrets.vault: wrong vault password" in res.stderr
    res = kit("secrets", "show", "tasikmalaya", env={**env, "KIT_VAULT_PASSWORD_FILE": ""})
    assert res.returncode == 1
    assert "no vault password: pass --vault-password-file FILE or set KIT_VAULT_PASSWORD_FILE" in res.stderr
    res = kit("secrets", "show", "tasikmalaya", "--vault-password-file", str(tmp_path / "nope"), env=env)
    assert res.returncode == 1
    assert f"vault password file {tmp_path / 'nope'} does not exist" in res.stderr


def test_set_checks_pem_and_keeps_the_rest(kit, env, regions, tmp_path):
    assert kit("secrets", "init", "tasikmalaya", env=env).returncode == 0
    before = decrypt(regions / "tasikmalaya.secrets.vault", env["KIT_VAULT_PASSWORD_FILE"])
    bad = tmp_path / "bad.pem"
    bad.write_text("hello\n")
    res = kit("secrets", "set", "tasikmalaya", "tls_certificate", "--from-file", str(bad), env=env)
    assert res.returncode == 1
    assert "tls_certificate must be a PEM certificate" in res.stderr
    cert = tmp_path / "cert.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    res = kit("secrets", "set", "tasikmalaya", "tls_certificate", "--from-file", str(cert), env=env)
    assert res.returncode == 0, res.stderr
    after = decrypt(regions / "tasikmalaya.secrets.vault", env["KIT_VAULT_PASSWORD_FILE"])
    assert after == {**before, "vault_tls_certificate": cert.read_text()}
    res = kit("secrets", "set", "tasikmalaya", "secret_key", "--from-file", str(cert), env=env)
    assert res.returncode == 1
    assert (
        "unknown secret 'secret_key'; settable: tls_certificate, tls_private_key, smtp_password, admin_password"
        in res.stderr
    )
