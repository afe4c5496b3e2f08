"""TLS with the project's local CA (deploy/certs.sh): national systems reach the broker over
SASL_SSL and verify its certificate; a client that does not trust the CA is refused; the gateway
serves HTTPS when it is given a certificate."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from confluent_kafka import KafkaError, KafkaException

from services.kit.kafka import kafka_config, new_admin
from services.supervisor import role_env
from tests.support.infra import SaslEndpoint
from tests.support.platform import Platform, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]


def _tls_endpoint(kafka_sasl: SaslEndpoint) -> SaslEndpoint:
    if kafka_sasl.protocol != "SASL_SSL" or not kafka_sasl.ca_file:
        pytest.skip("the national systems' listener serves no TLS here (KAFKA_EXTERNAL_TLS=0)")
    return kafka_sasl


def _other_ca(tmp_path: Path) -> Path:
    """A CA of another deployment, made by the same script."""
    env = {**os.environ, "INTERLOCK_DATA": str(tmp_path)}
    subprocess.run([str(ROOT / "deploy" / "certs.sh"), "ensure"], env=env, check=True)
    return tmp_path / "tls" / "ca.pem"


def _list_topics(endpoint: SaslEndpoint, **overrides: str) -> set[str]:
    errors: list[KafkaError] = []
    settings = {
        "protocol": endpoint.protocol,
        "username": endpoint.username,
        "password": endpoint.password,
        "ca_file": endpoint.ca_file,
    } | overrides
    client = new_admin(
        kafka_config(
            endpoint.bootstrap, **settings, conf={"log_level": 0, "error_cb": errors.append}
        )
    )
    return set(client.list_topics(timeout=8).topics)


def test_a_national_system_connects_over_sasl_ssl_verifying_the_ca(
    kafka_sasl: SaslEndpoint,
) -> None:
    """The documented settings: SASL_SSL, SCRAM-SHA-512, the deployment's ca.pem, host name
    checked (the certificate names 127.0.0.1 and localhost)."""
    endpoint = _tls_endpoint(kafka_sasl)
    assert _list_topics(endpoint) is not None
    localhost = endpoint.bootstrap.replace("127.0.0.1", "localhost")
    assert _list_topics(SaslEndpoint(**{**endpoint.__dict__, "bootstrap": localhost})) is not None


def test_a_client_that_does_not_trust_the_ca_is_refused(
    tmp_path: Path, kafka_sasl: SaslEndpoint
) -> None:
    """Another CA, the system's CAs, or no TLS at all: no connection, whatever the password."""
    endpoint = _tls_endpoint(kafka_sasl)
    with pytest.raises(KafkaException):
        _list_topics(endpoint, ca_file=str(_other_ca(tmp_path)))
    with pytest.raises(KafkaException):
        _list_topics(endpoint, ca_file="")  # the system's trust store does not know the CA
    with pytest.raises(KafkaException):
        _list_topics(endpoint, protocol="SASL_PLAINTEXT", ca_file="")


def test_the_gateway_serves_https_when_given_a_certificate(
    tmp_path: Path, platform: Platform
) -> None:
    """INTERLOCK_GATEWAY_TLS_CERT/KEY: the gateway answers over HTTPS, verified with the CA; a
    client without the CA and plain HTTP get nothing."""
    subprocess.run(
        [str(ROOT / "deploy" / "certs.sh"), "ensure"],
        env={**os.environ, "INTERLOCK_DATA": str(tmp_path)},
        check=True,
    )
    tls = tmp_path / "tls"
    port = free_port()
    env = role_env(platform.env) | {
        "INTERLOCK_GATEWAY_PORT": str(port),
        "INTERLOCK_GATEWAY_TLS_CERT": str(tls / "server.pem"),
        "INTERLOCK_GATEWAY_TLS_KEY": str(tls / "server.key"),
    }
    log = (tmp_path / "gateway.log").open("wb")
    gateway = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "gateway"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"https://127.0.0.1:{port}/health"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                answer = httpx.get(url, verify=ssl.create_default_context(cafile=tls / "ca.pem"))
                break
            except httpx.ConnectError:
                if gateway.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "gateway.log").read_text()[-3000:]) from None
                time.sleep(0.5)
        assert answer.status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(url)  # the system's CAs do not know the local CA
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
