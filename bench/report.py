"""The results as JSON and as markdown tables for the README.

A run writes ``results.json`` (its own figures) and ``results-<mode>.json`` (the latest figures
of that mode: a run with ``--only`` keeps the other groups' figures of the previous run of the
mode, each marked with the run it came from). ``README-table.md`` has one table per mode, the
full run first, built from the ``results-<mode>.json`` files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.support import Results

LATENCY_UNITS = ("ms",)
MODES = ("full", "quick")


def document(run_info: dict[str, Any], results: Results) -> dict[str, Any]:
    return {"run": run_info, "figures": [fig.to_json() for fig in results.figures.values()]}


def write(out: Path, run_info: dict[str, Any], results: Results) -> None:
    """``results.json``, ``results-<mode>.json`` and ``README-table.md`` in ``out``."""
    doc = document(run_info, results)
    (out / "results.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    mode = str(run_info["mode"])
    merged = carry_over(doc, out / f"results-{mode}.json")
    (out / f"results-{mode}.json").write_text(json.dumps(merged, indent=2, default=str) + "\n")
    sections = []
    for each in MODES:
        path = out / f"results-{each}.json"
        if path.exists():
            sections.append(table(json.loads(path.read_text())))
    (out / "README-table.md").write_text("\n".join(sections))


def carry_over(doc: dict[str, Any], previous: Path) -> dict[str, Any]:
    """This run's figures, then the previous run's figures of the groups this run left out."""
    if not previous.exists():
        return doc
    before = json.loads(previous.read_text())
    ran = set(doc["run"].get("groups", ()))
    kept = []
    for fig in before.get("figures", []):
        if fig.get("group") in ran:
            continue
        fig.setdefault("carried_from", before["run"].get("started"))
        kept.append(fig)
    if not kept:
        return doc
    run = dict(doc["run"])
    run["carried_over"] = sorted({f"{f['group']} (run of {f['carried_from']})" for f in kept})
    return {"run": run, "figures": doc["figures"] + kept}


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return f"{text} {unit}".strip()


def _value(fig: dict[str, Any]) -> str:
    if fig["status"] != "ok":
        return f"{fig['status']}: {fig['reason']}"
    stats = fig.get("stats") or {}
    if fig["unit"] in LATENCY_UNITS and "p50" in stats:
        p95 = f" / p95 {stats['p95']:.1f}" if "p95" in stats else ""
        return f"p50 {stats['p50']:.1f}{p95} / p99 {stats['p99']:.1f} ms"
    return _number(fig["value"], fig["unit"])


def _baseline(fig: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> str:
    if not fig.get("baseline"):
        return "—"
    base = by_id.get(fig["baseline"])
    if base is None:
        return str(fig["baseline"])
    # The value the ratio was taken against: a carried-over figure keeps its own run's.
    value = fig.get("baseline_value")
    shown = "unavailable" if value is None else _number(value, base["unit"])
    return f"{base['title']}: {shown}"


def _ratio(fig: dict[str, Any]) -> str:
    ratio = fig.get("ratio")
    if ratio is None:
        return "—"
    return f"{ratio:.2f}×" if ratio >= 0.1 else f"{ratio:.2g}×"


def _met(fig: dict[str, Any]) -> str:
    if not fig.get("targets"):
        return "—"
    return {True: "yes", False: "**no**", None: "n/a"}[fig.get("met")]


def _notes(fig: dict[str, Any]) -> str:
    parts = list(fig.get("notes") or [])
    if fig.get("carried_from"):
        parts.insert(0, f"from the run of {fig['carried_from']}")
    cpu = fig.get("cpu") or {}
    if cpu:
        top = sorted(cpu.items(), key=lambda kv: -kv[1])[:4]
        parts.append("CPU % of a core: " + ", ".join(f"{k} {v:.0f}" for k, v in top))
    return "; ".join(parts).replace("|", "/").replace("\n", " ")


def table(doc: dict[str, Any]) -> str:
    """A markdown table: one row per figure, with its baseline, ratio, target and what bounds it."""
    run = doc["run"]
    m = run.get("machine", {})
    carried = run.get("carried_over")
    head = [
        f"**{str(run.get('mode')).capitalize()} run** of {run.get('started')} "
        f"({run.get('duration_s')} s): {m.get('cores')} cores ({m.get('cpu', 'CPU')}), "
        f"{m.get('memory_gib')} GiB memory, load average {m.get('load_average')} at the start. "
        "The machine is shared, so absolute numbers drift; each ratio is to a raw baseline "
        "measured in the same run. Targets are reported, never asserted."
        + (f" Carried over from an earlier run: {', '.join(carried)}." if carried else "")
        + "".join(f" {note}" for note in run.get("notes") or ()),
        "",
        "| group | figure | value | raw baseline (same run) | ratio | target | met | "
        "notes: what bounds it, what would lift it |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    by_id = {fig["id"]: fig for fig in doc["figures"]}
    rows = []
    for fig in doc["figures"]:
        target = "; ".join(t["text"] for t in fig.get("targets") or []) or "—"
        rows.append(
            f"| {fig['group']} | {fig['title']} | {_value(fig)} | {_baseline(fig, by_id)} | "
            f"{_ratio(fig)} | {target} | {_met(fig)} | {_notes(fig)} |"
        )
    return "\n".join(head + rows) + "\n"
