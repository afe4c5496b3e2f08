"""The gateway's composition root: settings, Kafka, Neo4j, identity, and every service's router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.kit.commands import CommandBus
from services.kit.graphdb import async_driver
from services.kit.identity import Issuer, Verifier
from services.kit.kafka import Publisher
from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.kit.web import ApiError, problem
from services.leads.http import router as leads_router
from services.projection.http import router as views_router
from services.projection.views import GraphViews

log = get_logger()


def create_app(settings: Settings) -> FastAPI:
    """The gateway app; Kafka and Neo4j are connected in the lifespan, not at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        issuer = Issuer(settings)
        app.state.issuer = issuer
        app.state.verifier = Verifier(settings, issuer.jwks())
        publisher = Publisher(settings)
        bus = CommandBus(settings, publisher)
        await bus.start()
        app.state.command_bus = bus
        driver = async_driver(settings)
        app.state.views = GraphViews(driver)
        log.info("gateway ready", port=settings.gateway_port)
        try:
            yield
        finally:
            bus.stop()
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
        return problem(exc.status_code, str(exc.detail), exc.errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem(422, f"invalid request: {summary}", errors)

    @app.get(
        "/.well-known/jwks.json",
        tags=["identity"],
        summary="Public keys of the token issuer",
    )
    async def jwks(request: Request) -> dict[str, Any]:
        return request.app.state.issuer.jwks()  # type: ignore[no-any-return]

    @app.get("/health", tags=["health"], summary="Liveness and dependencies")
    async def health() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get(
        "/commands/{correlation_id}",
        tags=["commands"],
        summary="Outcome of a late command",
    )
    async def command_status(correlation_id: str, request: Request) -> JSONResponse:
        from services.kit.web import outcome_response

        outcome = request.app.state.command_bus.outcome(correlation_id)
        if outcome is None:
            return JSONResponse(
                {"status": "pending", "correlation_id": correlation_id}, 202
            )
        return outcome_response(outcome, {"correlation_id": correlation_id})

    app.include_router(leads_router)
    app.include_router(views_router)
    return app
