"""Every route of the gateway declares its authorization rule as a dependency (one place).

A new router whose route forgets the rule fails here, before it can answer anyone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from services.gateway.app import create_app
from services.kit.settings import Settings
from services.kit.web import Authorize, api_routes, rule_of
from tests.support import UNIT_KAFKA

PUBLIC = {
    ("GET", "/health"): "liveness for probes: says nothing about any JIT",
    ("GET", "/.well-known/jwks.json"): "the issuer's public keys, public by design",
}
"""Routes anyone may call, each with the reason."""

UI_PREFIX = "/ui"
"""The web pages read and write only through the gateway's own endpoints, called in process
with the viewer's token (services/web/backend.py), so each endpoint's rule applies to them."""


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    key = Path(tmp_path_factory.mktemp("keys")) / "issuer.jwk"
    app = create_app(Settings(jwt_key_file=str(key), **UNIT_KAFKA))
    found = api_routes(app)
    assert len(found) > 60, f"only {len(found)} routes found: the enumeration misses routers"
    return found


def test_every_route_declares_its_rule(routes: list[Any]) -> None:
    """Each route but the public ones and the UI's pages has an Authorize dependency."""
    missing = []
    for route in routes:
        if route.path.startswith(UI_PREFIX):
            continue
        for method in route.methods:
            if (method, route.path) in PUBLIC:
                continue
            if rule_of(route.dependant) is None:
                missing.append(f"{method} {route.path}")
    assert not missing, f"routes without an authorization rule: {missing}"


def test_jit_routes_check_membership_of_that_jit(routes: list[Any]) -> None:
    """A route under /jits/{jit} checks the caller's membership of that very JIT."""
    for route in routes:
        if "{jit}" in route.path and not route.path.startswith(UI_PREFIX):
            rule = rule_of(route.dependant)
            assert isinstance(rule, Authorize) and rule.jit, route.path


def test_the_checker_sees_a_route_without_a_rule() -> None:
    """The enumeration itself works: a bare route in an included router is reported."""
    router = APIRouter()

    @router.get("/jits/{jit}/secret")
    async def secret(jit: str) -> dict[str, str]:
        return {}

    app = FastAPI()
    app.include_router(router)
    [route] = [r for r in api_routes(app) if r.path_format == "/jits/{jit}/secret"]
    assert rule_of(route.dependant) is None
