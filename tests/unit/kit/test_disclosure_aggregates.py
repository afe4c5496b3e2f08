"""Rule 5 of the disclosure policy: figures, not records; another team's figures only for a
coordinator; victim cells of 1–4 withheld."""

from __future__ import annotations

from services.kit.disclosure import MIN_CELL, Viewer, may_see_figures, small_cell


def test_small_cells_are_one_to_four() -> None:
    """0 is shown (nobody), 1–4 are withheld, 5 and more are shown; booleans are not counts."""
    assert MIN_CELL == 5
    assert [n for n in range(8) if small_cell(n)] == [1, 2, 3, 4]
    assert not small_cell(None) and not small_cell(True) and not small_cell(2.5)


def test_own_figures_always_others_only_for_a_coordinator() -> None:
    """A team sees its own figures; another team's only as a coordinator; a national system
    never another team's."""
    nl = Viewer(team="NL-KLPD", member="anna")
    assert may_see_figures(nl, "NL-KLPD", coordinator=False)
    assert not may_see_figures(nl, "RO-DIICOT", coordinator=False)
    assert may_see_figures(nl, "RO-DIICOT", coordinator=True)
    assert not may_see_figures(Viewer.feed("NL-KLPD"), "RO-DIICOT", coordinator=True)
