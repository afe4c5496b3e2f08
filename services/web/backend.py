"""The pages' way to the data: the gateway's own JSON endpoints, called in process.

Going through the endpoints (not around them) means a page shows exactly what the API would
return to the same token: the same JIT check, the same team-scoped query layer. An endpoint that
is not (yet) mounted is reported as unavailable, so a page can say so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.routing import Match

from services.web.access import Viewer

INTERNAL_BASE = "http://gateway.internal"


def route_exists(app: FastAPI, method: str, path: str) -> bool:
    """Whether the gateway has a route for ``method path`` (a concrete path, not a template)."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return True
    return False


@dataclass
class Reply:
    """An endpoint's answer: ``available`` is False when the gateway has no such endpoint."""

    status: int
    body: Any = None
    available: bool = True
    path: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.available and 200 <= self.status < 300

    @property
    def needs_purpose(self) -> bool:
        """The gateway refused to show personal data without a stated purpose (428)."""
        return self.status == 428

    @property
    def error(self) -> str | None:
        if self.ok or not self.available:
            return None
        if isinstance(self.body, dict) and "error" in self.body:
            return str(self.body["error"])
        return f"the gateway answered {self.status}"

    def items(self) -> list[dict[str, Any]]:
        """The list in the body, whether the endpoint wraps it in ``items`` or not."""
        if not self.ok:
            return []
        body = self.body
        if isinstance(body, dict):
            for key in ("items", "alerts", "tasks", "hits", "operations", "events", "entries"):
                if isinstance(body.get(key), list):
                    return list(body[key])
            return []
        return list(body) if isinstance(body, list) else []


class Gateway:
    """The gateway's JSON API as the viewer's own token sees it."""

    def __init__(self, app: FastAPI, viewer: Viewer) -> None:
        self.app = app
        self.viewer = viewer

    def has(self, path: str, method: str = "GET") -> bool:
        return route_exists(self.app, method, path)

    async def get(self, path: str, **params: Any) -> Reply:
        """A read, with the viewer's stated purpose (the gateway audits reads of personal data)."""
        query = {k: v for k, v in params.items() if v}
        if self.viewer.purpose is not None:
            query |= self.viewer.purpose.params()
        return await self.call("GET", path, params=query)

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Reply:
        if not route_exists(self.app, method, path):
            return Reply(status=501, available=False, path=path)
        transport = httpx.ASGITransport(app=self.app)
        headers = {
            "Authorization": f"Bearer {self.viewer.token}",
            "X-Requested-With": "interlock-ui",
        }
        async with httpx.AsyncClient(
            transport=transport, base_url=INTERNAL_BASE, headers=headers, timeout=30
        ) as client:
            response = await client.request(method, path, params=params, json=json)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        errors = body.get("errors", []) if isinstance(body, dict) else []
        return Reply(status=response.status_code, body=body, path=path, errors=errors)
