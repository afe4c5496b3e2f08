"""The pure parts of the query layer: search query building and the subgraph guard."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.projection.views import (
    ScopeViolationError,
    Subgraph,
    identifier_candidates,
    lucene_query,
)


@given(st.text(max_size=80))
def test_no_lucene_syntax_reaches_the_index(text: str) -> None:
    """Whatever is typed, only words, prefixes, fuzzy marks and AND/OR reach Lucene."""
    query = lucene_query(text)
    if query is None:
        return
    stripped = query.replace(" AND ", " ").replace(" OR ", " ").replace("(", "").replace(")", "")
    for ch in ':"\\/[]{}^!+-&|':
        assert ch not in stripped


def test_a_name_is_searched_in_its_script_and_in_latin() -> None:
    """Cyrillic input also searches its transliteration, so "Мария" finds "Mariya"."""
    query = lucene_query("Мария")
    assert query is not None
    assert "мария" in query
    assert "mariia" in query or "mariya" in query


def test_either_spelling_alone_may_match() -> None:
    """A name typed in Cyrillic finds a record written only in Latin: the spellings are OR'd."""
    assert lucene_query("Думитреску") == (
        "((думитреску* OR думитреску~1)) OR ((dumitresku* OR dumitresku~1))"
    )
    assert lucene_query("Ion Popescu") == "(ion* AND (popescu* OR popescu~1))"


def test_an_identifier_is_searched_in_its_canonical_form() -> None:
    """A phone typed with spaces is looked up as the canonical value the graph holds."""
    assert "+40721555123" in identifier_candidates("+40 721 555 123")
    assert "ion@example.org" in identifier_candidates("Ion@Example.org")


def test_the_subgraph_refuses_an_element_the_team_may_not_see() -> None:
    """A node outside the team's audience raises, even if a query returned it."""
    graph = Subgraph("RO-DIICOT")
    with pytest.raises(ScopeViolationError):
        graph.add_node(
            {"eid": "1", "labels": ["Lead"], "props": {"id": "l", "audience": ["NL-KLPD"]}}
        )


def test_the_subgraph_refuses_a_relationship_to_a_node_it_was_not_given() -> None:
    """An edge whose endpoint was not checked in is a bug: it would point at a hidden node."""
    graph = Subgraph("RO-DIICOT")
    graph.add_node(
        {"eid": "1", "labels": ["Lead"], "props": {"id": "l", "audience": ["RO-DIICOT"]}}
    )
    with pytest.raises(ScopeViolationError):
        graph.add_edge(
            {"type": "MENTIONS", "props": {"audience": ["RO-DIICOT"]}, "start": "1", "end": "2"}
        )
