"""Every channel that lets a record leave the platform goes through the one disclosure policy.

The channels are found, not listed by hand: every module of ``services`` that declares an HTTP
route which reads (GET), and every worker that writes what another team receives (feeds, desk
streams, webhooks). Each must reach ``services.kit.disclosure`` through its imports, or be
named below with the reason it needs no policy. A new router or feed that answers without the
policy fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

POLICY = "services.kit.disclosure"
ROOT = Path(__file__).resolve().parents[3]

NO_RECORDS = {
    "services.retention.http": "a team's own retention periods: rules, no records",
    "services.release.http": "reads the team's feed topic, which only the release worker "
    "(services.release.policy, checked below) writes",
    "services.audit.http": "the audit trail: ids, members, times and justifications, never a "
    "record's content; for the JIT's auditors only (the Auditor rule)",
}
PAGES = "services.web"
"""The web UI's routers read only through the gateway's own endpoints, called in process with
the viewer's token (services/web/backend.py), each checked here; they may reach no graph."""
"""Reading routers that return no record of another team, with the reason."""

OUTBOUND_WORKERS = (
    "services.release.policy",
    "services.release.agents",
    "services.alerts.delivery",
    "services.alerts.desks",
    "services.alerts.webhooks",
    "services.alerts.paging",
    "services.alerts.mail",
    "services.projection.views",
    "services.projection.scoping",
)
"""Where records leave for another team outside a route: feeds, desk streams, webhooks and
e-mail pages, the graph's scoped reads (every view the routes and pages call)."""


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("services", "events", cache_dir=None)


def _reading_routers() -> list[str]:
    found = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and any(
                isinstance(d, ast.Call)
                and isinstance(d.func, ast.Attribute)
                and d.func.attr == "get"
                and isinstance(d.func.value, ast.Name)
                and d.func.value.id in {"router", "app"}
                for d in node.decorator_list
            ):
                module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                found.append(module)
                break
    return found


def test_the_reading_routers_are_found() -> None:
    """The search itself works: the graph's, the pages', the feeds' routers are among them."""
    routers = _reading_routers()
    for module in ("services.projection.http", "services.web.pages", "services.release.http"):
        assert module in routers


def test_every_reading_router_goes_through_the_policy(graph: grimp.ImportGraph) -> None:
    """A router that reads records imports the policy, directly or through the views."""
    bypassing = [
        module
        for module in _reading_routers()
        if module not in NO_RECORDS
        and not module.startswith(PAGES + ".")
        and module != POLICY
        and not graph.chain_exists(importer=module, imported=POLICY)
    ]
    assert not bypassing, f"routers answering without {POLICY}: {bypassing}"


def test_every_outbound_worker_goes_through_the_policy(graph: grimp.ImportGraph) -> None:
    """Feeds, desk streams, webhooks and the graph's scoped reads import the policy."""
    bypassing = [m for m in OUTBOUND_WORKERS if not graph.chain_exists(importer=m, imported=POLICY)]
    assert not bypassing, bypassing


def test_an_exempt_router_still_exists() -> None:
    """An exemption for a module that is gone is stale: remove it."""
    assert set(NO_RECORDS) <= set(_reading_routers())


def test_the_pages_read_no_graph_of_their_own(graph: grimp.ImportGraph) -> None:
    """The pages' exemption holds: they import no graph view, so every record they show came
    through an endpoint checked above."""
    pages = [m for m in _reading_routers() if m.startswith(PAGES + ".")]
    assert "services.web.pages" in pages
    for page in pages:
        for module in ("services.projection.views", "services.projection.graph"):
            assert not graph.chain_exists(importer=page, imported=module), (page, module)
