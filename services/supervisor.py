"""``interlock run-all``: every process role as a child process, watched; Ctrl-C stops them all."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.provisioning import provision_all
from services.roles import process_roles

log = get_logger()

MAX_RESTARTS = 5
RESTART_WINDOW = 300.0
"""A role that exits more than five times in five minutes is broken, not unlucky."""


async def _wait_healthy(url: str, timeout: float = 300, verify: str | bool = True) -> bool:
    """Whether the gateway answers within ``timeout``: on a busy 2-core machine its start (the
    directory, the key ring, every router) took 93 s, and 90 s made ``make run`` give up."""
    import httpx

    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=2, verify=verify) as client:
        while asyncio.get_running_loop().time() < deadline:
            try:
                if (await client.get(url)).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    return False


ADMIN_SECRETS = (
    "INTERLOCK_KAFKA_PASSWORD",
    "KAFKA_ADMIN_PASSWORD",
    "INTERLOCK_KAFKA_PASSWORD_FILE",
)
"""The admin's Kafka password never reaches a process role: each reads its own (svc-<role>)."""


def role_env(environ: Mapping[str, str]) -> dict[str, str]:
    """A process role's environment: the supervisor's, less the admin's Kafka password."""
    return {k: v for k, v in environ.items() if k not in ADMIN_SECRETS}


async def run_all(settings: Settings, *, demo: bool = False) -> int:
    provision_all(settings)
    roles = process_roles()
    children: dict[str, asyncio.subprocess.Process] = {}

    async def start(role: str) -> None:
        children[role] = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.cli", role, env=role_env(os.environ)
        )
        log.info("started", role=role, pid=children[role].pid)

    for role in roles:
        await start(role)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    scheme = "https" if settings.gateway_tls_cert else "http"
    base = f"{scheme}://{settings.gateway_host}:{settings.gateway_port}"
    tasks: list[asyncio.Task[Any]] = []
    # the certificate file holds the chain up to the CA, which the check trusts
    if not await _wait_healthy(base + "/health", verify=settings.gateway_tls_cert or True):
        log.error("gateway did not become healthy")
        stop.set()
    elif demo:
        from services import demo as demo_module

        accounts = await asyncio.to_thread(demo_module.load, settings)
        _print_welcome(base, accounts)
        tasks.append(asyncio.create_task(demo_module.run_scenario(base, settings, stop=stop)))

    async def watch(role: str) -> None:
        """Restart a role that exits, with backoff; give up (and stop all) after it keeps dying.

        A broker still electing leaders after a restart, or a database still starting, can fail
        a worker's first minute; its state is in Kafka, so starting it again is safe.
        """
        exits: list[float] = []
        while True:
            code = await children[role].wait()
            if stop.is_set():
                return
            now = loop.time()
            exits = [t for t in exits if now - t < RESTART_WINDOW] + [now]
            if len(exits) > MAX_RESTARTS:
                log.error("process role keeps exiting; stopping everything", role=role, code=code)
                stop.set()
                return
            delay = min(2 ** len(exits), 30)
            log.warning("process role exited; restarting", role=role, code=code, delay=delay)
            await asyncio.sleep(delay)
            if not stop.is_set():
                await start(role)

    tasks += [asyncio.create_task(watch(r)) for r in roles]
    await stop.wait()
    for proc in children.values():
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    for role, proc in children.items():
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            log.warning("killing", role=role)
            proc.kill()
    for task in tasks:
        task.cancel()
    print("Interlock stopped.", flush=True)
    return 0


def _print_welcome(base: str, accounts: dict[str, Any]) -> None:
    lines = [
        "",
        "=" * 72,
        f"Interlock is running: {base}/ui   (API docs: {base}/docs)",
        f"Demo JIT: {accounts['jit']}   Log in on the web page as any of (password: demo):",
    ]
    for a in accounts["accounts"]:
        lines.append(f"  {a['member']:<18} {a['team']:<10} {', '.join(a['roles'])}")
    keycloak = os.environ.get("KEYCLOAK_URL")
    if keycloak:
        lines.append(
            f"Or 'Sign in with Politie (NL)' / 'Poliția (RO)' (Keycloak at {keycloak}, may still be"
            " starting): anna.devries, joost.bakker, ioana.popa, password demo"
        )
    lines += [
        "Bearer tokens for the API: .venv/bin/interlock demo --json",
        "Ctrl-C stops everything.",
        "=" * 72,
        "",
    ]
    print("\n".join(lines), flush=True)
