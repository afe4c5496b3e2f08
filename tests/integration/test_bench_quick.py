"""``make bench-quick`` as CI's smoke test: the quick benchmark runs against the session's real
Kafka and Neo4j and produces every figure. Speed is the benchmark's business: no timing, rate or
ratio is asserted here, only that each figure was measured or says why it could not be."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import GROUPS, expected_figures
from bench.support import ROOT
from tests.support import infra

pytestmark = pytest.mark.integration

SERVICE_FREE = ("raw.", "reads.")
"""Figures that need no Interlock service, only Kafka, Neo4j and FastAPI: always measured."""


@pytest.fixture(scope="module")
def quick_run(
    kafka_bootstrap: str, neo4j_auth: tuple[str, str, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``python -m bench --quick`` as a subprocess, writing into a temporary directory."""
    out = tmp_path_factory.mktemp("bench")
    uri, user, password = neo4j_auth
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERLOCK_")}
    env.update(
        {
            "KAFKA_BOOTSTRAP": kafka_bootstrap,
            "NEO4J_URI": uri,
            "NEO4J_USER": user,
            "NEO4J_PASSWORD": password,
            **infra.kafka_infra_env(),  # the admin, the service principals' dir, the CA
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    return done, out


def _figures(out: Path) -> dict[str, dict[str, Any]]:
    document = json.loads((out / "results.json").read_text())
    return {figure["id"]: figure for figure in document["figures"]}


@pytest.mark.timeout(900)
def test_quick_bench_produces_every_figure(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """Every figure of every group is in results.json, with a number or, when its service is
    not wired, ``unavailable`` and the reason; none failed, and the run exits 0."""
    done, out = quick_run
    assert (out / "results.json").is_file(), done.stderr[-4000:]
    figures = _figures(out)
    missing = set(expected_figures(quick=True, groups=GROUPS)) - figures.keys()
    assert not missing, f"figures not produced: {sorted(missing)}"
    failed = {i: f["reason"] for i, f in figures.items() if f["status"] == "error"}
    assert not failed, f"figures that failed: {failed}\n{done.stderr[-4000:]}"
    for figure_id, figure in figures.items():
        if figure["status"] == "ok":
            assert isinstance(figure["value"], int | float), figure_id
        else:
            assert figure["status"] == "unavailable", figure_id
            assert figure["reason"], f"{figure_id} is unavailable without a reason"
    assert done.returncode == 0, done.stderr[-4000:]


@pytest.mark.timeout(900)
def test_raw_baselines_and_reads_are_always_measured_with_ratios(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """The raw baselines and the graph reads need no service, so they are always measured; a
    figure with a measured baseline carries its ratio to it."""
    _, out = quick_run
    figures = _figures(out)
    for figure_id, figure in figures.items():
        if figure_id.startswith(SERVICE_FREE):
            assert figure["status"] == "ok", f"{figure_id}: {figure['reason']}"
    for figure_id, figure in figures.items():
        base = figures.get(figure["baseline"] or "")
        if figure["status"] == "ok" and base is not None and base["status"] == "ok":
            assert figure["ratio"] is not None, f"{figure_id} has no ratio to {base['id']}"


@pytest.mark.timeout(900)
def test_readme_table_lists_every_figure_and_the_machine(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """README-table.md names the machine's cores and memory and has one row per figure."""
    _, out = quick_run
    figures = _figures(out)
    document = json.loads((out / "results.json").read_text())
    table = (out / "README-table.md").read_text()
    machine = document["run"]["machine"]
    assert f"{machine['cores']} cores" in table
    assert f"{machine['memory_gib']} GiB memory" in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(figures) + 1  # the header row, then one row per figure
    for figure in figures.values():
        assert figure["title"] in table


@pytest.mark.timeout(900)
def test_rocksdb_figures_say_the_index_was_preloaded(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """Every figure of the RocksDB-store worker says that the bulk of its index was preloaded
    (and how many identifiers), and the registration figure says why; the preloaded store is
    deleted at the end of the run."""
    _, out = quick_run
    figures = _figures(out)
    rocks = {i: f for i, f in figures.items() if i.startswith("deconfliction.rocksdb.")}
    assert rocks, "no RocksDB-store figures"
    for figure_id, figure in rocks.items():
        if figure["status"] != "ok":
            continue
        assert figure["params"]["preloaded"] > 0, figure_id
        assert any("preloaded" in note for note in figure["notes"]), figure_id
        if figure_id.endswith(".registration"):
            assert any("through Kafka" in note and " h;" in note for note in figure["notes"])
        assert not (ROOT / figure["params"]["store_dir"]).exists(), "the store was not deleted"
