"""A large file through the upload and the download, within the gateway's memory budget.

``INTERLOCK_TEST_UPLOAD_BYTES`` sets the size: 64 MiB in ``make test`` (the quick variant), 2 GiB
in ``make test-long``. The gateway's peak resident memory is reset before the upload and read
after the download; it must not grow by more than the budget, whatever the file's size.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.evidence.support import MIB, new_jit, upload
from tests.support.api import Member
from tests.support.platform import Platform

pytestmark = pytest.mark.integration

SIZE = int(os.environ.get("INTERLOCK_TEST_UPLOAD_BYTES", str(64 * MIB)))
BUDGET = 192 * MIB
"""How much the gateway's peak RSS may grow while it streams the file in and out."""


def pattern(size: int) -> Iterator[bytes]:
    """Deterministic, incompressible-looking content generated a MiB at a time."""
    block = hashlib.sha512(b"seed").digest() * (MIB // 64)
    for index in range(0, size, MIB):
        piece = hashlib.sha256(index.to_bytes(8, "big")).digest() + block[32:]
        yield piece[: min(MIB, size - index)]


def status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def test_large_upload_and_download_stay_within_the_memory_budget(
    platform: Platform, issuer
) -> None:
    """The file streams through sealed and hashed, comes back identical, and the gateway's peak
    RSS grows by less than the budget (printed: the figure the README reports)."""
    pid = platform.processes["gateway"].pid
    jit = new_jit()
    nl = Member(platform.base_url, issuer, member="anna", team="NL-KLPD", jits=(jit,))
    expected256, expected512 = hashlib.sha256(), hashlib.sha512()
    for piece in pattern(SIZE):
        expected256.update(piece)
        expected512.update(piece)

    before = status(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    done = upload(nl, jit, pattern(SIZE), size=SIZE, filename="large.bin", chunk=16 * MIB)
    assert done.status_code == 201, done.text
    assert done.json()["sha256"] == expected256.hexdigest()
    assert done.json()["sha512"] == expected512.hexdigest()

    got = hashlib.sha256()
    received = 0
    with nl.http.stream("GET", done.json()["url"] + "/content", timeout=600) as response:
        assert response.status_code == 200
        for chunk in response.iter_bytes(MIB):
            got.update(chunk)
            received += len(chunk)
    assert (received, got.hexdigest()) == (SIZE, expected256.hexdigest())
    peak = status(pid, "VmHWM")
    print(
        f"\nevidence {SIZE / MIB:.0f} MiB: gateway RSS before {before / MIB:.0f} MiB, "
        f"peak {peak / MIB:.0f} MiB (growth {(peak - before) / MIB:.0f} MiB)"
    )
    assert peak - before < BUDGET
