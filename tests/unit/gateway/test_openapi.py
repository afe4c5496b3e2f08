"""The OpenAPI document says what each route answers when it refuses, with the problem body, and
what media type each stream is: a national system's generated client relies on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.audit.http import REQUIRES_JUSTIFICATION
from services.gateway.app import create_app
from services.kit.errors import PROBLEM_CONTENT_TYPE, problem_body
from services.kit.settings import Settings
from tests.support import UNIT_KAFKA

PUBLIC = {"/health", "/.well-known/jwks.json"}
PROBLEM_REF = "#/components/schemas/Problem"


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    key = Path(tmp_path_factory.mktemp("keys")) / "issuer.jwk"
    return create_app(Settings(jwt_key_file=str(key), **UNIT_KAFKA)).openapi()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    ]


def test_every_routed_operation_is_documented(doc: dict[str, Any]) -> None:
    """The routers' operations are in the document, not only the app's own three."""
    assert len(operations(doc)) > 60


def test_every_protected_operation_declares_its_refusals(doc: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}: {status}"
        for method, path, op in operations(doc)
        if path not in PUBLIC
        for status in ("401", "403", "429")
        if status not in op["responses"]
    ]
    assert not missing, missing


def test_every_error_is_a_problem_document(doc: dict[str, Any]) -> None:
    wrong = [
        f"{method} {path} {status}"
        for method, path, op in operations(doc)
        for status, response in op["responses"].items()
        if status[0] in "45"
        and response.get("content", {}).get(PROBLEM_CONTENT_TYPE, {}).get("schema", {}).get("$ref")
        != PROBLEM_REF
    ]
    assert not wrong, wrong
    assert "Problem" in doc["components"]["schemas"]


def test_no_reference_dangles(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]

    def refs(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
            return found.union(*(refs(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(v) for v in node))
        return set()

    dangling = {r for r in refs(doc) if r.split("/")[-1] not in schemas}
    assert not dangling, dangling


def test_the_purpose_is_required_exactly_where_personal_data_is_read(doc: dict[str, Any]) -> None:
    """Reads of personal data (the audit's list) and every act on evidence, which states why."""
    asking = {path for _, path, op in operations(doc) if "428" in op["responses"]}
    assert set(REQUIRES_JUSTIFICATION) <= asking
    acts = asking - set(REQUIRES_JUSTIFICATION)
    assert acts and all("/evidence" in path for path in acts), acts


def test_ids_in_the_path_may_be_unknown(doc: dict[str, Any]) -> None:
    for method, path, op in operations(doc):
        named = [p for p in op.get("parameters", []) if p["in"] == "path"]
        if any(p["name"] not in {"jit", "team"} for p in named):
            assert "404" in op["responses"], f"{method} {path}"


def test_only_routes_that_can_answer_before_the_outcome_declare_202(doc: dict[str, Any]) -> None:
    pending = {f"{m} {p}" for m, p, op in operations(doc) if "202" in op["responses"]}
    assert "POST /jits/{jit}/leads" in pending
    assert "GET /jits/{jit}/evidence/{evidence_id}/content" not in pending
    assert "POST /jits/{jit}/threads/{thread_id}/messages" not in pending


def test_a_creating_command_documents_the_200_of_its_repeat(doc: dict[str, Any]) -> None:
    """A command sent again with its idempotency key is accepted with 200, not 201."""
    creating = [
        (m, p, op) for m, p, op in operations(doc) if {"201", "202"} <= set(op["responses"])
    ]
    assert ("POST", "/jits/{jit}/leads") in {(m, p) for m, p, _ in creating}
    for method, path, op in creating:
        assert "200" in op["responses"], f"{method} {path}"


def test_streams_are_server_sent_events(doc: dict[str, Any]) -> None:
    streams = [(m, p, op) for m, p, op in operations(doc) if p.endswith("/stream")]
    assert len(streams) >= 3
    for method, path, op in streams:
        assert list(op["responses"]["200"]["content"]) == ["text/event-stream"], f"{method} {path}"


def test_a_problem_body_has_the_rfc_9457_members() -> None:
    body = problem_body(409, "lead is closed", [{"field": "body.x", "message": "bad"}], id="c1")
    assert body["type"] == "about:blank"
    assert body["title"] == "Conflict"
    assert body["status"] == 409
    assert body["detail"] == body["error"] == "lead is closed"
    assert body["errors"] == [{"field": "body.x", "message": "bad"}]
    assert body["id"] == "c1"


def test_extra_members_cannot_overwrite_the_standard_ones() -> None:
    body = problem_body(404, "no such lead", detail="x", title="y", type="z")
    assert (body["type"], body["title"], body["detail"]) == (
        "about:blank",
        "Not Found",
        "no such lead",
    )
