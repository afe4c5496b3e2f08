"""deploy/certs.sh: the local CA and the server certificate, idempotent, rotated on command."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "deploy" / "certs.sh"


def _certs(data: Path, command: str) -> None:
    env = {**os.environ, "INTERLOCK_DATA": str(data)}
    subprocess.run([str(SCRIPT), command], env=env, check=True, capture_output=True)


def _verify(tls: Path) -> str:
    return subprocess.run(
        ["openssl", "verify", "-CAfile", str(tls / "ca.pem"), str(tls / "server.pem")],
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def test_ensure_makes_a_ca_and_a_server_certificate_once(tmp_path: Path) -> None:
    _certs(tmp_path, "ensure")
    tls = tmp_path / "tls"
    assert "OK" in _verify(tls)
    text = subprocess.run(
        ["openssl", "x509", "-in", str(tls / "server.pem"), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "IP Address:127.0.0.1" in text and "DNS:localhost" in text
    assert tls.stat().st_mode & 0o777 == 0o700
    for key in ("ca.key", "server.key", "server-bundle.pem"):
        assert (tls / key).stat().st_mode & 0o777 == 0o600, key
    before = {p.name: p.read_bytes() for p in tls.glob("*.pem")}
    _certs(tmp_path, "ensure")
    assert {p.name: p.read_bytes() for p in tls.glob("*.pem")} == before, "ensure is idempotent"


def test_rotate_keeps_the_ca_and_rotate_ca_replaces_it(tmp_path: Path) -> None:
    _certs(tmp_path, "ensure")
    tls = tmp_path / "tls"
    ca, server = (tls / "ca.pem").read_bytes(), (tls / "server.pem").read_bytes()
    _certs(tmp_path, "rotate")
    assert (tls / "ca.pem").read_bytes() == ca
    assert (tls / "server.pem").read_bytes() != server
    assert "OK" in _verify(tls)
    _certs(tmp_path, "rotate-ca")
    assert (tls / "ca.pem").read_bytes() != ca
    assert "OK" in _verify(tls)
