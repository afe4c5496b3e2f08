"""Start Interlock's process roles for a test session, as real processes on real Kafka and Neo4j.

Each session gets its own topic prefix, so its topics, consumer groups and tables are its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.kit.settings import Settings
from services.supervisor import role_env
from tests.support import infra

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Platform:
    """A running set of process roles sharing one settings environment."""

    env: dict[str, str]
    run_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return Settings.model_validate(
            {
                k: v
                for k, v in self.env.items()
                if k.startswith("INTERLOCK_")
                or k in ("KAFKA_BOOTSTRAP", "NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD")
                or k in ("KAFKA_ADMIN_USER", "KAFKA_ADMIN_PASSWORD", "KAFKA_SECURITY_PROTOCOL")
                or k in ("KAFKA_SECRETS_DIR", "KAFKA_CA_FILE", "NEO4J_CA_FILE")
            }
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.env['INTERLOCK_GATEWAY_PORT']}"

    def log(self, role: str) -> Path:
        return self.run_dir / f"{role}.log"

    def start(self, role: str) -> None:
        (self.run_dir / "ready" / role).unlink(missing_ok=True)
        out = self.log(role).open("ab")
        self.processes[role] = subprocess.Popen(
            [sys.executable, "-m", "services.cli", role],
            env=role_env(self.env),  # the role reads its own principal's password
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, roles: Iterable[str], timeout: float = 300) -> None:
        """Wait until each role says it is ready; INTERLOCK_TEST_READY_SECONDS raises the wait
        on a slow machine (it never lowers it)."""
        timeout = max(timeout, float(os.environ.get("INTERLOCK_TEST_READY_SECONDS", "0")))
        deadline = time.monotonic() + timeout
        for role in roles:
            while True:
                proc = self.processes[role]
                if proc.poll() is not None:
                    raise RuntimeError(f"{role} exited with {proc.returncode}:\n{self.tail(role)}")
                if role == "gateway":
                    try:
                        if httpx.get(self.base_url + "/health", timeout=1).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                elif (self.run_dir / "ready" / role).exists():
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{role} not ready after {timeout}s:\n{self.tail(role)}")
                time.sleep(0.2)

    def stop(self, role: str, *, kill: bool = False) -> None:
        proc = self.processes.pop(role, None)
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        """Ask every process to stop at once, then wait for each (each worker's graceful leave
        of its group takes a second or two; one after another they took 18 s a session)."""
        stopping = list(self.processes.values())
        self.processes.clear()
        for proc in stopping:
            if proc.poll() is None:
                proc.terminate()
        for proc in stopping:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def tail(self, role: str, lines: int = 40) -> str:
        path = self.log(role)
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def platform_env(
    kafka_bootstrap: str, neo4j: tuple[str, str, str], run_dir: Path
) -> dict[str, str]:
    uri, user, password = neo4j
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERLOCK_")}
    env.update(infra.kafka_client_env())
    env.update(
        {
            "INTERLOCK_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "INTERLOCK_NEO4J_URI": uri,
            "INTERLOCK_NEO4J_USER": user,
            "INTERLOCK_NEO4J_PASSWORD": password,
            "INTERLOCK_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:8]}.",
            "INTERLOCK_PARTITIONS": "3",
            "INTERLOCK_GATEWAY_PORT": str(free_port()),
            "INTERLOCK_JWT_KEY_FILE": str(run_dir / "jwt-signing.json"),
            "INTERLOCK_READY_DIR": str(run_dir / "ready"),
            "INTERLOCK_EVIDENCE_DIR": str(run_dir / "evidence"),
            "INTERLOCK_EVIDENCE_JIT_MAX_BYTES": '{"jit-evidence-small": 1000000}',
            "INTERLOCK_LOG_LEVEL": "info",
            "INTERLOCK_COMMAND_TIMEOUT_SECONDS": "10",
            "INTERLOCK_RETENTION_CHECK_SECONDS": "1",
            # a group's members keep one token for the whole session, which outlives step-up's
            # window; step-up itself is tested in tests/unit/kit and tests/integration/oidc
            "INTERLOCK_STEP_UP_MAX_AGE": "86400",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def burst_through_a_kill(
    platform: Platform, role: str, submit: Callable[[int], str], count: int
) -> tuple[list[str], float]:
    """Call ``submit(i)`` ``count`` times in threads, killing ``role`` (SIGKILL) a third of the
    way through and starting it again; the ids ``submit`` returned, and seconds until all did."""
    ids: list[str] = []
    started = time.monotonic()
    threads = []
    for i in range(count):
        thread = threading.Thread(target=lambda n=i: ids.append(submit(n)))
        thread.start()
        threads.append(thread)
        time.sleep(0.03)
        if i == count // 3:
            platform.stop(role, kill=True)
    platform.start(role)
    platform.wait_ready([role])
    for thread in threads:
        thread.join()
    return ids, time.monotonic() - started
