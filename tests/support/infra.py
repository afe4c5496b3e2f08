"""Find or start a real Kafka broker and a real Neo4j database for tests.

Each endpoint is chosen in this order:

1. environment variables (``eval "$(deploy/infra.sh env)"``): ``KAFKA_BOOTSTRAP`` with
   ``KAFKA_SECURITY_PROTOCOL``/``KAFKA_ADMIN_USER``/``KAFKA_ADMIN_PASSWORD``/``KAFKA_SECRETS_DIR``
   (the admin, and where the service principals' passwords are); ``NEO4J_URI``/``NEO4J_USER``/
   ``NEO4J_PASSWORD``; ``KAFKA_SASL_BOOTSTRAP`` for the national systems' listener;
2. testcontainers, when a Docker daemon answers a ping (a PLAINTEXT broker with no
   authentication and no ACLs: the tests of principals, ACLs and TLS skip there);
3. the native launcher ``deploy/infra.sh up`` with its own data dir (``.data/test-infra``) and
   ports (19092/19093/19094, bolt 17687), so tests never clash with a developer's ``make run``.
   A running test infra is reused; it is stopped at interpreter exit only if this process
   started it, unless ``INTERLOCK_KEEP_INFRA=1``.

``INTERLOCK_TEST_INFRA=native`` or ``=docker`` skips the other provider in step 2/3.
When nothing works, :class:`InfraUnavailableError` carries the reasons; the caller decides
whether that is a skip or a failure.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_SH = REPO_ROOT / "deploy" / "infra.sh"
TEST_DATA_DIR = REPO_ROOT / ".data" / "test-infra"
TEST_PORTS = {
    "KAFKA_PORT": "19092",
    "KAFKA_CONTROLLER_PORT": "19093",
    "KAFKA_SASL_PORT": "19094",
    "NEO4J_BOLT_PORT": "17687",
}
# Same lines as deploy/kafka/pom.xml and deploy/neo4j/pom.xml.
KAFKA_IMAGE = os.environ.get("INTERLOCK_KAFKA_IMAGE", "apache/kafka:4.4.0")
NEO4J_IMAGE = os.environ.get("INTERLOCK_NEO4J_IMAGE", "neo4j:5.26-community")

NATIVE_UP_TIMEOUT = 900  # a cold first run downloads about 170 MB of jars with Maven
DOCKER_PING_TIMEOUT = 3


class InfraUnavailableError(RuntimeError):
    """No Kafka/Neo4j could be found or started; the message says why."""


class NotProvidedError(InfraUnavailableError):
    """The chosen provider works but does not offer this feature (e.g. no SASL listener)."""


@dataclass(frozen=True)
class SaslEndpoint:
    """The national systems' listener (EXTERNAL) and the credentials of a super user on it."""

    bootstrap: str
    mechanism: str
    username: str
    password: str
    protocol: str = "SASL_PLAINTEXT"
    ca_file: str = ""


_lock = threading.RLock()
_native_env: dict[str, str] | None = None
_native_error: str | None = None
_containers: dict[str, Any] = {}
_docker_checked: list[str | None] = []  # memo of _docker_problem()


# ------------------------------------------------------------------ public API


KAFKA_CLIENT_VARIABLES = (
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_ADMIN_USER",
    "KAFKA_ADMIN_PASSWORD",
    "KAFKA_SECRETS_DIR",
    "KAFKA_CA_FILE",
)
"""What ``deploy/infra.sh env`` exports besides the endpoints: the admin, principals' dir, CA."""


def _kafka_source() -> dict[str, str]:
    if os.environ.get("KAFKA_BOOTSTRAP"):
        return dict(os.environ)
    kafka_endpoint()
    with _lock:
        return {} if "kafka" in _containers else dict(_native())


def kafka_infra_env() -> dict[str, str]:
    """The ``KAFKA_*`` variables of ``deploy/infra.sh env`` for the test broker, for a child
    process that finds its infra from the environment (``python -m bench``)."""
    source = _kafka_source()
    return {k: source[k] for k in KAFKA_CLIENT_VARIABLES if source.get(k)}


def kafka_client_env() -> dict[str, str]:
    """The ``INTERLOCK_KAFKA_*`` settings of the admin principal on :func:`kafka_endpoint`'s
    broker (its security protocol, user, password, the service principals' secrets dir, CA);
    empty of credentials on a PLAINTEXT broker (testcontainers)."""
    source = _kafka_source()
    password = source.get("KAFKA_ADMIN_PASSWORD", "")
    protocol = source.get("KAFKA_SECURITY_PROTOCOL") or (
        "SASL_PLAINTEXT" if password else "PLAINTEXT"
    )
    env = {"INTERLOCK_KAFKA_SECURITY_PROTOCOL": protocol}
    if protocol != "PLAINTEXT":
        env |= {
            "INTERLOCK_KAFKA_USERNAME": source.get("KAFKA_ADMIN_USER", "admin"),
            "INTERLOCK_KAFKA_PASSWORD": password,
        }
    for key in ("KAFKA_SECRETS_DIR", "KAFKA_CA_FILE"):
        if source.get(key):
            env[f"INTERLOCK_{key}"] = source[key]
    return env


def kafka_settings() -> Any:
    """:class:`Settings` of the admin principal on the test broker, for the tests' own clients."""
    from services.kit.settings import Settings

    env = kafka_client_env()
    return Settings.model_validate({"INTERLOCK_KAFKA_BOOTSTRAP": kafka_endpoint(), **env})


def kafka_endpoint() -> str:
    """Bootstrap servers (``host:port``) of a PLAINTEXT Kafka listener with full rights."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP")
    if bootstrap:
        return bootstrap
    with _lock:
        return cast(str, _provision("kafka"))


def neo4j_endpoint() -> tuple[str, str, str]:
    """``(uri, user, password)`` of a Neo4j database with authentication enabled."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        password = os.environ.get("NEO4J_PASSWORD")
        if not password:
            raise InfraUnavailableError("NEO4J_URI is set but NEO4J_PASSWORD is not")
        return uri, os.environ.get("NEO4J_USER", "neo4j"), password
    with _lock:
        return cast(tuple[str, str, str], _provision("neo4j"))


def kafka_sasl_endpoint() -> SaslEndpoint:
    """The SCRAM listener (native infra or environment); Docker provides none."""
    bootstrap = os.environ.get("KAFKA_SASL_BOOTSTRAP")
    if bootstrap:
        password = os.environ.get("KAFKA_ADMIN_PASSWORD")
        if not password:
            raise InfraUnavailableError(
                "KAFKA_SASL_BOOTSTRAP is set but KAFKA_ADMIN_PASSWORD is not"
            )
        return SaslEndpoint(
            bootstrap,
            os.environ.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            os.environ.get("KAFKA_ADMIN_USER", "admin"),
            password,
            os.environ.get("KAFKA_SASL_PROTOCOL", "SASL_PLAINTEXT"),
            os.environ.get("KAFKA_CA_FILE", ""),
        )
    if os.environ.get("KAFKA_BOOTSTRAP"):
        raise NotProvidedError(
            "KAFKA_BOOTSTRAP is set without KAFKA_SASL_BOOTSTRAP: no SASL listener"
        )
    with _lock:
        mode = _mode()
        docker_in_use = "kafka" in _containers or (
            mode == "auto" and _native_env is None and _docker_problem() is None
        )
        if mode == "docker" or docker_in_use:
            raise NotProvidedError("the SASL listener is only provided by the native infra")
        env = _native()
    if "KAFKA_SASL_BOOTSTRAP" not in env:
        raise NotProvidedError("the native infra runs without SASL (KAFKA_SASL_ENABLED=0)")
    return SaslEndpoint(
        env["KAFKA_SASL_BOOTSTRAP"],
        env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        env.get("KAFKA_ADMIN_USER", "admin"),
        env["KAFKA_ADMIN_PASSWORD"],
        env.get("KAFKA_SASL_PROTOCOL", "SASL_PLAINTEXT"),
        env.get("KAFKA_CA_FILE", ""),
    )


# ------------------------------------------------------------------ providers


def _mode() -> str:
    mode = os.environ.get("INTERLOCK_TEST_INFRA", "auto").strip().lower() or "auto"
    if mode not in {"auto", "docker", "native"}:
        raise InfraUnavailableError(
            f"INTERLOCK_TEST_INFRA must be auto, docker or native, not {mode!r}"
        )
    return mode


def _provision(kind: str) -> Any:
    mode = _mode()
    reasons: list[str] = []
    if mode in {"auto", "docker"} and _native_env is None:
        docker_problem = _docker_problem()
        if docker_problem is None:
            try:
                return _container_endpoint(kind)
            except Exception as exc:  # any failure means: try the next provider
                reasons.append(f"testcontainers: {type(exc).__name__}: {exc}")
        else:
            reasons.append(f"docker: {docker_problem}")
        if mode == "docker":
            raise InfraUnavailableError("; ".join(reasons))
    try:
        env = _native()
    except InfraUnavailableError as exc:
        reasons.append(f"native: {exc}")
        raise InfraUnavailableError("; ".join(reasons)) from None
    if kind == "kafka":
        return env["KAFKA_BOOTSTRAP"]
    return env["NEO4J_URI"], env["NEO4J_USER"], env["NEO4J_PASSWORD"]


def _docker_problem() -> str | None:
    """None when a Docker daemon answers, else why not (never raises); asked once."""
    if not _docker_checked:
        _docker_checked.append(_ping_docker())
    return _docker_checked[0]


def _ping_docker() -> str | None:
    try:
        import docker

        client = docker.from_env(timeout=DOCKER_PING_TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"no Docker daemon ({type(exc).__name__})"
    return None


# --- testcontainers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _container_endpoint(kind: str) -> Any:
    if kind in _containers:
        return _containers[kind][1]
    endpoint: Any
    if kind == "kafka":
        container, endpoint = _start_kafka_container()
    else:
        container, endpoint = _start_neo4j_container()
    _containers[kind] = (container, endpoint)
    if os.environ.get("INTERLOCK_KEEP_INFRA") != "1":
        atexit.register(_stop_quietly, container)
    return endpoint


def _stop_quietly(container: Any) -> None:
    with contextlib.suppress(Exception):  # best effort, often at interpreter exit
        container.stop()


def _start_kafka_container() -> tuple[Any, str]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    # testcontainers' KafkaContainer drives Confluent images only; the apache/kafka image is
    # configured through KAFKA_* variables. The advertised port must be known before start,
    # hence a fixed host port instead of a random mapping.
    host = os.environ.get("TC_HOST", "localhost")
    port = _free_port()
    container = (
        DockerContainer(KAFKA_IMAGE)
        .with_bind_ports(9092, port)
        .with_envs(
            KAFKA_NODE_ID="1",
            KAFKA_PROCESS_ROLES="broker,controller",
            KAFKA_CONTROLLER_QUORUM_VOTERS="1@localhost:9093",
            KAFKA_CONTROLLER_LISTENER_NAMES="CONTROLLER",
            KAFKA_LISTENERS="INTERNAL://:9092,CONTROLLER://:9093",
            KAFKA_ADVERTISED_LISTENERS=f"INTERNAL://{host}:{port}",
            KAFKA_LISTENER_SECURITY_PROTOCOL_MAP="INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
            KAFKA_INTER_BROKER_LISTENER_NAME="INTERNAL",
            KAFKA_NUM_PARTITIONS="3",
            KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_MIN_ISR="1",
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR="1",
            KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS="0",
            KAFKA_AUTO_CREATE_TOPICS_ENABLE="false",
            KAFKA_HEAP_OPTS="-Xmx512m -Xms512m",
        )
        .waiting_for(
            LogMessageWaitStrategy(re.compile(r"Kafka Server started")).with_startup_timeout(180)
        )
    )
    container.start()
    bootstrap = f"{host}:{port}"
    try:
        _wait_kafka(bootstrap, timeout=60)
    except Exception:
        _stop_quietly(container)
        raise
    return container, bootstrap


def _wait_kafka(bootstrap: str, timeout: float) -> None:
    from services.kit.kafka import kafka_config, new_admin

    deadline = time.monotonic() + timeout
    admin = new_admin(kafka_config(bootstrap, protocol="PLAINTEXT", conf={"log_level": 0}))
    while True:
        try:
            if admin.list_topics(timeout=5).brokers:
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"Kafka at {bootstrap} reports no broker")
        time.sleep(1)


def _start_neo4j_container() -> tuple[Any, tuple[str, str, str]]:
    from testcontainers.community.neo4j import Neo4jContainer

    password = secrets.token_urlsafe(18)
    container = (
        Neo4jContainer(NEO4J_IMAGE, password=password)
        .with_env("NEO4J_server_memory_heap_max__size", "768m")
        .with_env("NEO4J_server_memory_pagecache_size", "256m")
    )
    container.start()  # waits for Bolt and verifies connectivity
    return container, (container.get_connection_url(), "neo4j", password)


# --- native (deploy/infra.sh)


def _native() -> dict[str, str]:
    global _native_env, _native_error
    if _native_env is not None:
        return _native_env
    if _native_error is not None:
        raise InfraUnavailableError(_native_error)
    try:
        _native_env = _native_up()
    except InfraUnavailableError as exc:
        _native_error = str(exc)
        raise
    return _native_env


def _native_process_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(TEST_PORTS)
    env["INTERLOCK_DATA"] = str(TEST_DATA_DIR)
    env.setdefault("INTERLOCK_PYTHON", sys.executable)
    return env


def _native_up() -> dict[str, str]:
    if not INFRA_SH.is_file():
        raise InfraUnavailableError(f"{INFRA_SH} is missing")
    for tool in ("bash", "java"):
        if shutil.which(tool) is None:
            raise InfraUnavailableError(f"{tool} not found on PATH")
    env = _native_process_env()
    status = subprocess.run(
        ["bash", str(INFRA_SH), "status"], env=env, capture_output=True, text=True, timeout=120
    )
    if status.returncode != 0:  # not (fully) up: `up` starts what is missing, reuses the rest
        try:
            up = subprocess.run(
                ["bash", str(INFRA_SH), "up"],
                env=env,
                capture_output=True,
                text=True,
                timeout=NATIVE_UP_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            _native_down(env)
            raise InfraUnavailableError(
                f"deploy/infra.sh up took over {NATIVE_UP_TIMEOUT}s"
            ) from None
        started_here = "[infra] starting " in up.stderr
        if started_here and os.environ.get("INTERLOCK_KEEP_INFRA") != "1":
            atexit.register(_native_down, env)
        if up.returncode != 0:
            tail = "\n".join((up.stderr or up.stdout).strip().splitlines()[-40:])
            raise InfraUnavailableError(
                f"deploy/infra.sh up failed (exit {up.returncode}):\n{tail}"
            )
    return _read_env_file(TEST_DATA_DIR / "infra.env")


def _native_down(env: dict[str, str]) -> None:
    subprocess.run(
        ["bash", str(INFRA_SH), "down"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _read_env_file(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InfraUnavailableError(f"cannot read {path}: {exc}") from None
    values = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            values[key.strip()] = value.strip()
    missing = {"KAFKA_BOOTSTRAP", "NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD"} - values.keys()
    if missing:
        raise InfraUnavailableError(f"{path} lacks {', '.join(sorted(missing))}")
    return values
