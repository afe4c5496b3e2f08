"""Validation errors in plain words, once per field: what a person at a form can act on.

Pydantic says ``body.identifiers.0.value: Value error, not a valid phone number for region RO``;
an officer needs "Identifier 1 — value: Not a valid phone number for Romania (RO) …" next to that
value, and a one-line summary above the form that does not repeat it. Every HTTP channel that
answers a 422 for a body it could not read (the gateway's handlers, :func:`kit.web.build_command`,
the UI's live checks) turns pydantic's errors into rows here, so the wording lives
in one place. Pure: no FastAPI, no I/O.

Each row keeps the machine ``field`` path (``body.identifiers.0.value``: the UI finds the input by
it, clients branch on it), adds ``label`` (the field as people name it) and says ``message`` in
plain words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})
"""The first element of a request's error location: where, not which field."""

COUNTRY_NAMES = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CH": "Switzerland", "CY": "Cyprus",
    "CZ": "Czechia", "DE": "Germany", "DK": "Denmark", "EE": "Estonia", "ES": "Spain",
    "FI": "Finland", "FR": "France", "GB": "the United Kingdom", "GR": "Greece",
    "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IT": "Italy", "LT": "Lithuania",
    "LU": "Luxembourg", "LV": "Latvia", "MD": "Moldova", "MT": "Malta", "NL": "the Netherlands",
    "NO": "Norway", "PL": "Poland", "PT": "Portugal", "RO": "Romania", "RS": "Serbia",
    "SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia", "TR": "Turkey", "UA": "Ukraine",
}  # fmt: skip
"""Names for the region codes a message mentions (the JIT countries and their neighbours)."""

CALLING_CODES = {
    "AT": 43, "BE": 32, "BG": 359, "CH": 41, "CY": 357, "CZ": 420, "DE": 49, "DK": 45,
    "EE": 372, "ES": 34, "FI": 358, "FR": 33, "GB": 44, "GR": 30, "HR": 385, "HU": 36,
    "IE": 353, "IT": 39, "LT": 370, "LU": 352, "LV": 371, "MD": 373, "MT": 356, "NL": 31,
    "NO": 47, "PL": 48, "PT": 351, "RO": 40, "RS": 381, "SE": 46, "SI": 386, "SK": 421,
    "TR": 90, "UA": 380,
}  # fmt: skip

SINGULAR = {
    "persons": "Person",
    "identifiers": "Identifier",
    "links": "Link",
    "target_teams": "Target team",
    "releasable_to": "Team",
    "entities": "Entity",
    "categories": "Category",
    "members": "Member",
    "lead_ids": "Lead",
}
"""How one element of a list field is called (``identifiers.0`` is "Identifier 1")."""


def label_of(loc: Sequence[str | int]) -> str:
    """The field a location names, as people say it: ``identifiers.0.value`` is
    "Identifier 1 — value"."""
    parts = [p for i, p in enumerate(loc) if not (i == 0 and p in LOCATIONS)]
    words: list[str] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        following = parts[index + 1] if index + 1 < len(parts) else None
        if isinstance(following, int) or (isinstance(following, str) and following.isdigit()):
            name = SINGULAR.get(str(part), _words(str(part)).capitalize())
            words.append(f"{name} {int(following) + 1}")
            index += 2
            continue
        if isinstance(part, int):
            words.append(f"item {part + 1}")
        else:
            words.append(_words(part))
        index += 1
    if not words:
        return "The request"
    text = " — ".join(words)
    return text[:1].upper() + text[1:]


def _words(name: str) -> str:
    return name.replace("_", " ").strip()


def _region(code: str) -> str:
    name = COUNTRY_NAMES.get(code.upper())
    return f"{name} ({code.upper()})" if name else code.upper()


_PHONE_REGION = re.compile(r"not a valid phone number for region ([A-Z]{2})$")


def plain_message(error: Mapping[str, Any]) -> str:
    """What a pydantic error means, in a sentence a user can act on."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    raw = str(error.get("msg", ""))
    match kind:
        case "missing":
            return "Fill this in."
        case "string_too_short":
            low = int(ctx.get("min_length", 1))
            return "Fill this in." if low <= 1 else f"Use at least {low} characters."
        case "string_too_long":
            return f"Use at most {ctx.get('max_length')} characters."
        case "too_short":
            low = int(ctx.get("min_length", 1))
            return "Give at least one." if low <= 1 else f"Give at least {low}."
        case "too_long":
            return f"Give at most {ctx.get('max_length')}."
        case "enum" | "literal_error":
            expected = str(ctx.get("expected", "")).replace("'", "")
            return f"Choose one of: {expected}." if expected else "Choose one of the options."
        case "string_pattern_mismatch":
            return "This is not in the expected form" + _pattern_hint(str(ctx.get("pattern", "")))
        case "int_parsing" | "int_type" | "float_parsing" | "float_type" | "int_from_float":
            return "Enter a whole number." if kind.startswith("int") else "Enter a number."
        case "greater_than" | "greater_than_equal":
            word = "more than" if kind == "greater_than" else "at least"
            return f"Enter a number {word} {_number(ctx.get('gt', ctx.get('ge')))}."
        case "less_than" | "less_than_equal":
            word = "less than" if kind == "less_than" else "at most"
            return f"Enter a number {word} {_number(ctx.get('lt', ctx.get('le')))}."
        case "datetime_parsing" | "datetime_type" | "datetime_from_date_parsing":
            return "Enter a date and time, e.g. 2026-03-02 14:05."
        case "date_parsing" | "date_type" | "date_from_datetime_parsing":
            return "Enter a date, e.g. 2026-03-02."
        case "timezone_aware":
            return "Give the time with its time zone."
        case "extra_forbidden":
            return "This field is not expected here; remove it."
        case "json_invalid":
            return "The request is not valid JSON."
        case "bool_parsing" | "bool_type":
            return "Answer yes or no."
        case "list_type":
            return "Give a list."
        case "value_error" | "assertion_error":
            return _sentence(_value_error(raw))
    return _sentence(_value_error(raw))


def _pattern_hint(pattern: str) -> str:
    if "A-Z" in pattern and "-" in pattern and "{2}" in pattern:
        return ": use a team code such as NL-KLPD."
    return "."


def _number(value: Any) -> str:
    """A bound as a person writes it: 0, not 0.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _value_error(raw: str) -> str:
    text = re.sub(r"^(Value|Assertion) error, ", "", raw).strip()
    found = _PHONE_REGION.search(text)
    if found:
        code = found.group(1)
        calling = CALLING_CODES.get(code)
        example = f" (+{calling} …)" if calling else ""
        return (
            f"Not a valid phone number for {_region(code)}: check the digits, or write it "
            f"with its country code{example}"
        )
    return text


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return "This value is not accepted."
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def problems(
    errors: Iterable[Mapping[str, Any]], *, prefix: Sequence[str] = ()
) -> list[dict[str, str]]:
    """Pydantic's errors as rows ``{field, label, message}``, one per field (its first wins).

    ``prefix`` is put before each location (``("body",)`` for a command built from a body), so
    the ``field`` path is the one the request's own validation would have named.
    """
    found: dict[str, dict[str, str]] = {}
    for error in errors:
        loc = (*prefix, *error.get("loc", ()))
        field = ".".join(str(p) for p in loc) or "(body)"
        if field in found:
            continue
        found[field] = {"field": field, "label": label_of(loc), "message": plain_message(error)}
    return list(found.values())


def summary(rows: Sequence[Mapping[str, str]]) -> str:
    """One line above the form: which fields to correct, never every message again."""
    if not rows:
        return "The request was not accepted."
    if len(rows) == 1:
        row = rows[0]
        label = row.get("label") or row.get("field", "")
        return f"{label}: {row.get('message', '')}"
    labels = [str(r.get("label") or r.get("field")) for r in rows[:5]]
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return f"{len(rows)} fields need correcting: {', '.join(labels)}{more}."


PROBLEM_CONTENT_TYPE = "application/problem+json"
"""Every error the HTTP API answers is an RFC 9457 problem document."""


def problem_body(
    status: int, reason: str, errors: Iterable[Mapping[str, str]] = (), **extra: Any
) -> dict[str, Any]:
    """An RFC 9457 problem: ``title`` is the status's phrase and ``detail`` says what is wrong.

    ``error`` repeats ``detail`` for clients written against the first API version; ``errors``
    (an extension member) names each field with its problem, for forms and for clients that
    branch on a field.
    """
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {
        **extra,
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": reason,
        "error": reason,
    }
    rows = [dict(row) for row in errors]
    if rows:
        body["errors"] = rows
    return body
