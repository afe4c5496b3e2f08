"""``make bench``: Interlock's speed and scale, measured against raw baselines in the same run.

    python -m bench            the full run (long; every step is capped)
    python -m bench --quick    small sizes, under three minutes: CI's smoke test

One module per group: ``baselines`` (raw Kafka, Neo4j, FastAPI), ``pipeline`` (leads through the
gateway and the command topic, each service's pass-through, the sustained rate), ``latency``
(lead → deconfliction hit, AlertRaised → 100 SSE desk clients), ``deconfliction`` (the target
index at scale: in-process, the memory-store worker, and the RocksDB-store worker whose index is
bulk-preloaded by ``bench/preload.py`` to 1,000,000 and 10,000,000 identifiers) and ``reads``
(suspect card and 2-hop network next to ``RETURN 1``). Results go
to ``bench/results.json`` and ``bench/README-table.md``. A figure whose service is not wired yet
is reported as ``unavailable`` with the reason, never as a failure of the run.
"""

from __future__ import annotations

GROUPS = ("baselines", "reads", "pipeline", "latency", "deconfliction")
"""The benchmark groups, in the order a run measures them."""


def expected_figures(quick: bool, groups: tuple[str, ...] = GROUPS) -> list[str]:
    """The id of every figure a run of these groups reports (measured or unavailable)."""
    import importlib

    ids: list[str] = []
    for group in groups:
        ids += importlib.import_module(f"bench.{group}").figure_ids(quick)
    return ids
