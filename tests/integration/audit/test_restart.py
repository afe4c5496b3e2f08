"""Killing the audit worker while records arrive loses none and chains none twice."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.integration.audit.conftest import chain, records
from tests.support.platform import ROOT, Platform

pytestmark = pytest.mark.integration

REQUESTS = 60
"""Refused requests (one audit record each) made while the worker dies and comes back."""


def test_killing_the_worker_mid_burst_loses_no_record_and_chains_none_twice(
    audited: Platform,
) -> None:
    """60 requests with bad tokens are refused while the audit worker is killed (SIGKILL) and
    restarted: afterwards the chain holds exactly 60 records of them, each record id once, and
    ``audit verify`` finds the whole chain intact."""
    jit = f"jit-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=audited.base_url, timeout=10) as client:
        for i in range(REQUESTS):
            token = f"bad.{uuid.uuid4().hex}.token"
            r = client.get(f"/jits/{jit}/leads", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401
            time.sleep(0.02)
            if i == REQUESTS // 3:
                audited.stop("audit", kill=True)
    audited.start("audit")
    audited.wait_ready(["audit"])

    def ours(record: dict[str, Any]) -> bool:
        return record.get("jit") == jit and record.get("kind") == "authentication_failed"

    records(audited, ours, count=REQUESTS, timeout=120)
    links = chain(audited)
    ids = Counter(link.record_id for link in links if ours(link.record))
    assert len(ids) == REQUESTS and set(ids.values()) == {1}
    assert [link.sequence for link in links] == list(range(len(links)))
    verify = subprocess.run(
        [sys.executable, "-m", "services.cli", "audit", "verify"],
        env=audited.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
