"""Validation errors in plain words (services/kit/errors.py)."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from events.identifiers import Identifier
from services.kit.errors import label_of, plain_message, problems, summary


class _Body(BaseModel):
    summary: str = Field(min_length=1, max_length=10)
    count: Annotated[int, Field(ge=1)] = 1
    identifiers: list[Identifier] = Field(default_factory=list)


def _errors(payload: dict[str, object]) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as caught:
        _Body.model_validate(payload)
    return problems(caught.value.errors(include_url=False), prefix=("body",))


def test_a_bad_phone_is_named_by_its_row_and_said_plainly() -> None:
    """A bad phone names "Identifier 1 — value", its country by name and the calling code."""
    rows = _errors(
        {"summary": "x", "identifiers": [{"kind": "phone", "value": "123", "country": "RO"}]}
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["field"] == "body.identifiers.0.value"
    assert row["label"] == "Identifier 1 — value"
    assert row["message"].startswith("Not a valid phone number for Romania (RO)")
    assert "+40" in row["message"]
    assert "Value error" not in row["message"]
    assert "body." not in summary(rows)


def test_missing_and_empty_fields_ask_to_fill_them_in() -> None:
    """A missing or empty required text says "Fill this in." and the number its bound."""
    rows = _errors({"summary": "", "count": 0})
    by_field = {r["field"]: r for r in rows}
    assert by_field["body.summary"]["message"] == "Fill this in."
    assert by_field["body.count"]["message"] == "Enter a number at least 1."
    assert rows == _errors({"summary": "", "count": 0})
    assert plain_message({"type": "missing", "msg": "Field required"}) == "Fill this in."


def test_one_row_per_field_and_a_summary_that_does_not_repeat_every_message() -> None:
    """Two errors on one field come back once; the summary of many names the fields only."""
    rows = problems(
        [
            {"type": "value_error", "loc": ("value",), "msg": "Value error, first"},
            {"type": "value_error", "loc": ("value",), "msg": "Value error, second"},
        ]
    )
    assert rows == [{"field": "value", "label": "Value", "message": "First."}]
    many = _errors({"summary": "", "count": 0})
    assert summary(many) == "2 fields need correcting: Summary, Count."


def test_labels_count_rows_from_one() -> None:
    """Locations become names: list positions count from one, the request's part is dropped."""
    assert label_of(("body", "persons", 2, "date_of_birth")) == "Person 3 — date of birth"
    assert label_of(("query", "limit")) == "Limit"
    assert label_of(()) == "The request"


class _Times(BaseModel):
    seconds: Annotated[float, Field(gt=0)]


def test_sentences_end_with_a_full_stop_and_bounds_are_written_as_people_write_them() -> None:
    """A bound of 0.0 reads "0"; a message ending in a parenthesis still ends with a full stop."""
    with pytest.raises(ValidationError) as caught:
        _Times(seconds=0)
    [row] = problems(caught.value.errors(include_url=False))
    assert row["message"] == "Enter a number more than 0."
    rows = _errors(
        {"summary": "x", "identifiers": [{"kind": "phone", "value": "123", "country": "RO"}]}
    )
    assert rows[0]["message"].endswith("(+40 …).")
