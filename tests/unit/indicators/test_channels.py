"""Every channel that shows indicators goes through the disclosure policy's rule 5: the API
route computes and then calls ``scoping.disclose`` (which asks ``kit.disclosure``), and the
pages, CSV files and the report read that route, never the store."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from services.indicators import http
from services.indicators.facts import fact_of
from services.kit import disclosure
from services.kit.identity import Principal
from services.kit.web import ApiError
from tests.support.indicators_script import NL, PERIOD, RO, scripted_jit

ROOT = Path(__file__).resolve().parents[3]
JIT = "jit-chan"


def principal(team: str, *roles: str) -> Principal:
    return Principal.model_validate({"sub": "m1", "team": team, "jits": (JIT,), "roles": roles})


@pytest.fixture
def request_stub(monkeypatch: pytest.MonkeyPatch) -> Any:
    facts = [f for env in scripted_jit(JIT) if (f := fact_of(env)) is not None]

    async def read(_driver: Any, jit: str) -> list[dict[str, Any]]:
        return facts if jit == JIT else []

    monkeypatch.setattr(http, "read_facts", read)
    return SimpleNamespace(
        app=SimpleNamespace(state=SimpleNamespace(graph_driver=None)),
        url=SimpleNamespace(path=f"/jits/{JIT}/indicators"),
    )


def shown(request: Any, who: Principal, team: str | None = None) -> dict[str, Any]:
    return asyncio.run(http.shown_indicators(request, who, JIT, *PERIOD, team))


def test_the_route_asks_the_disclosure_policy(
    request_stub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With rule 5 refusing every team's figures, a coordinator's answer holds no team at all:
    the route has no way around the policy."""
    asked: list[str] = []

    def nobody(viewer: disclosure.Viewer, team: str, *, coordinator: bool) -> bool:
        asked.append(team)
        return False

    monkeypatch.setattr(disclosure, "may_see_figures", nobody)
    body = shown(request_stub, principal(NL, "coordinator"))
    assert body["teams"] == {} and asked


def test_the_route_suppresses_small_victim_cells(request_stub: Any) -> None:
    """The aggregate's withdrawn referrals (1) reach no viewer; NL's own referral count does."""
    body = shown(request_stub, principal(NL, "investigator"))
    assert body["jit_aggregate"]["victims"]["withdrawn"] is None
    assert body["teams"][NL]["victims"]["referrals"] == 1
    assert set(body["teams"]) == {NL}


def test_another_teams_figures_are_refused_with_403(request_stub: Any) -> None:
    """An investigator asking for another team's figures gets 403 naming the rule."""
    with pytest.raises(ApiError) as refused:
        shown(request_stub, principal(RO, "investigator"), team=NL)
    assert refused.value.status_code == 403


@pytest.mark.parametrize("module", ["services/web/evaluation.py", "services/web/charts.py"])
def test_pages_read_the_api_not_the_store(module: str) -> None:
    """The dashboard, its CSV files and the report import neither the indicators' store nor a
    database driver: they can only show what the API's rule let through."""
    tree = ast.parse((ROOT / module).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {m for m in imported if m.startswith(("services.indicators", "neo4j"))}
