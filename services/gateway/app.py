"""The gateway's composition root: settings, Kafka, Neo4j, identity, and every service's router."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services import roles
from services.audit.http import Consulted
from services.audit.http import install as install_audit
from services.gateway.openapi import document
from services.kit.commands import CommandBus
from services.kit.directory import DirectoryView
from services.kit.errors import problems, summary
from services.kit.federation import Trust
from services.kit.graphdb import async_driver
from services.kit.identity import Issuer
from services.kit.kafka import Publisher
from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.kit.victims import Victims
from services.kit.web import ApiError, Member, problem
from services.projection.views import GraphViews
from services.retention.policies import PolicyBook
from services.web.access import CookieCsrfGuard
from services.web.evaluation import router as evaluation_router
from services.web.pages import mount_static
from services.web.pages import router as web_router
from services.web.signin import router as sign_in_router

log = get_logger()


def create_app(settings: Settings) -> FastAPI:
    """The gateway app; Kafka and Neo4j are connected in the lifespan, not at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        issuer = Issuer(settings)
        app.state.issuer = issuer
        trust = Trust.of(settings, issuer.jwks())
        app.state.verifier = trust
        await asyncio.to_thread(trust.warm)
        directory = DirectoryView(settings, name="gateway")
        directory.start()
        app.state.directory = directory
        publisher = Publisher(settings)
        bus = CommandBus(settings, publisher)
        await bus.start()
        app.state.command_bus = bus
        driver = async_driver(settings)
        app.state.views = GraphViews(driver)
        app.state.graph_driver = driver
        app.state.retention_policies = PolicyBook(settings)
        app.state.retention_policies.start()
        if not await asyncio.to_thread(directory.wait_loaded, 60):
            log.warning("the directory is not loaded yet; requests will wait for it")
        for config in trust.issuers.values():
            unknown = [t for t in config.teams if t != "*" and t not in directory.book.teams]
            if unknown:
                log.warning(
                    "issuer bound to teams the directory does not know (yet)",
                    issuer=config.name,
                    teams=unknown,
                )
        victims = Victims(settings, name="gateway-victims").start()
        app.state.victims = victims
        parts = [p for r in roles.ROLES if (p := r.start_on_gateway(app, settings)) is not None]
        log.info("gateway ready", port=settings.gateway_port)
        try:
            yield
        finally:
            for part in reversed(parts):
                part.stop()
            victims.stop()
            bus.stop()
            directory.stop()
            publisher.close()
            await driver.close()

    app = FastAPI(
        title="Interlock gateway",
        version="0.1.0",
        description="Commands and team-scoped queries for joint investigation teams.",
        lifespan=lifespan,
    )

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), exc.errors, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        rows = problems(exc.errors())
        return problem(422, summary(rows), rows)

    @app.exception_handler(ValidationError)
    async def _invalid_command(_: Request, exc: ValidationError) -> JSONResponse:
        """A command the request could not make (a bad path id, a dangling reference): 422."""
        rows = problems(exc.errors(include_url=False))
        return problem(422, summary(rows), rows)

    @app.get(
        "/.well-known/jwks.json",
        tags=["identity"],
        summary="Public keys of the token issuer",
    )
    async def jwks(request: Request) -> dict[str, Any]:
        return request.app.state.issuer.jwks()  # type: ignore[no-any-return]

    lag_cache: dict[str, Any] = {"at": 0.0, "value": None, "task": None}

    async def refresh_lag(views: GraphViews) -> None:
        from services.projection.lag import projection_lag

        try:
            lag_cache["value"] = await asyncio.wait_for(projection_lag(settings, views), 5.0)
        except Exception as exc:  # noqa: BLE001 - health reports a dependency, never fails
            lag_cache["value"] = {"error": type(exc).__name__}

    @app.get("/health", tags=["health"], summary="Liveness, and how far the projection lags")
    async def health(request: Request) -> dict[str, Any]:
        """Always 200 at once while the gateway serves; ``projection`` is the last lag measured
        (refreshed in the background every few seconds), so readiness probes never wait on it."""
        now = time.monotonic()
        task = lag_cache["task"]
        if now - lag_cache["at"] > 2.0 and (task is None or task.done()):
            lag_cache["at"] = now
            lag_cache["task"] = asyncio.create_task(refresh_lag(request.app.state.views))
        return {"status": "ok", "projection": lag_cache["value"]}

    @app.get(
        "/commands/{correlation_id}",
        tags=["commands"],
        summary="Outcome of a late command",
        responses={
            202: {
                "description": "Still pending, or not a command of the caller's team",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def command_status(
        correlation_id: str, request: Request, principal: Member
    ) -> JSONResponse:
        """The outcome of a command the caller's team sent; any other id answers as unknown."""
        from services.kit.web import outcome_response

        outcome = request.app.state.command_bus.outcome(correlation_id, team=principal.team)
        if outcome is None:
            return JSONResponse({"status": "pending", "correlation_id": correlation_id}, 202)
        return outcome_response(outcome, {"correlation_id": correlation_id})

    for router, consulted in roles.routers():
        app.include_router(router, dependencies=[Consulted] if consulted else [])
    app.include_router(sign_in_router)
    app.include_router(web_router)
    app.include_router(evaluation_router)
    mount_static(app)
    app.add_middleware(CookieCsrfGuard)
    install_audit(app, settings)
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
    return app
