"""Every example of contracts/normalisation.md, run against the implementation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from events.identifiers import Identifier, IdentifierKind, Person, name_parts, normalise, person_key

CONTRACT = Path(__file__).parents[3] / "contracts" / "normalisation.md"
NONE = "—"


@dataclass(frozen=True)
class Row:
    table: str
    kind: str | None
    cells: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.kind or ''} {' | '.join(self.cells)}"


def _cell(text: str) -> str:
    text = text.strip()
    match = re.fullmatch(r"`(.*)`", text)
    return match.group(1) if match else text


def _rows() -> list[Row]:
    rows: list[Row] = []
    kind: str | None = None
    table: str | None = None
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## `(\w+)`", line)
        if heading:
            kind = heading.group(1)
        elif line.startswith("## "):
            kind = None
        if not line.startswith("|"):
            table = None
            continue
        cells = tuple(_cell(c) for c in line.strip().strip("|").split(" | "))
        if table is None:
            table = " | ".join(cells)
        elif not set(line) <= set("|- "):
            rows.append(Row(table, kind, cells))
    return rows


ROWS = _rows()


def _country(cell: str) -> str | None:
    return None if cell == NONE else cell


def _table(header: str) -> list[Row]:
    return [row for row in ROWS if row.table == header]


def test_the_contract_has_examples_for_every_kind() -> None:
    """Each kind has at least two spellings of one value and one refused example."""
    for kind in IdentifierKind:
        valid = [r for r in _table("country | written | canonical") if r.kind == kind.value]
        invalid = [
            r for r in _table("country | written | rejected, because") if r.kind == kind.value
        ]
        assert len(valid) >= 2, kind
        assert len({r.cells[2] for r in valid}) < len(valid), f"{kind}: no two spellings meet"
        assert invalid, kind


@pytest.mark.parametrize("row", _table("country | written | canonical"), ids=str)
def test_canonical_examples(row: Row) -> None:
    """A written form normalises to the canonical value the contract states, and stays there."""
    assert row.kind is not None
    kind = IdentifierKind(row.kind)
    country, written, canonical = _country(row.cells[0]), row.cells[1], row.cells[2]
    assert normalise(kind, written, country) == canonical
    assert normalise(kind, canonical, country) == canonical


@pytest.mark.parametrize("row", _table("country | written | rejected, because"), ids=str)
def test_rejected_examples(row: Row) -> None:
    """A refused value is refused with exactly the reason the contract states."""
    assert row.kind is not None
    with pytest.raises(ValueError) as refused:
        normalise(IdentifierKind(row.kind), row.cells[1], _country(row.cells[0]))
    assert str(refused.value) == row.cells[2]


@pytest.mark.parametrize("row", _table("kind | country | written | key"), ids=str)
def test_key_examples(row: Row) -> None:
    """The key of an identifier is the one the contract states."""
    kind, country, written, key = row.cells
    identifier = Identifier(kind=IdentifierKind(kind), value=written, country=_country(country))
    assert identifier.key == key


@pytest.mark.parametrize("row", _table("written | latin_name | name_parts"), ids=str)
def test_name_examples(row: Row) -> None:
    """Latin name and name parts of a name are the ones the contract states."""
    written, latin, parts = row.cells
    assert Person(name=written).latin_name == latin
    assert " ".join(name_parts(written)) == parts


@pytest.mark.parametrize("row", _table("written | date of birth | person key"), ids=str)
def test_person_key_examples(row: Row) -> None:
    """The person key is the one the contract states."""
    written, born, key = row.cells
    dob = None if born == NONE else date.fromisoformat(born)
    assert person_key(Person(name=written, date_of_birth=dob)) == key


def test_the_parser_finds_the_tables() -> None:
    """The contract parser sees every table, so an edit cannot silently drop examples."""
    tables = {row.table for row in ROWS}
    assert {
        "country | written | canonical",
        "country | written | rejected, because",
        "kind | country | written | key",
        "written | latin_name | name_parts",
        "written | date of birth | person key",
    } <= tables
    assert len(_table("country | written | canonical")) >= 60
