"""A thread's text on the page: mentions marked (the viewer's own more strongly), everything else
escaped, never parsed as HTML."""

from __future__ import annotations

from services.web.pages import _mentions


def test_mentions_are_marked_and_the_rest_escaped() -> None:
    shown = str(
        _mentions("@anna, ask @desk:RO-DIICOT <b>now</b> (mail a@b.org) @bob.", "anna", "RO-DIICOT")
    )
    assert shown.startswith('<mark class="mention me">@anna</mark>,')
    assert '<mark class="mention me">@desk:RO-DIICOT</mark>' in shown
    assert "&lt;b&gt;now&lt;/b&gt;" in shown and "<b>" not in shown
    assert "a@b.org" in shown and "@b.org</mark>" not in shown, "an address is no mention"
    assert shown.endswith('<mark class="mention">@bob</mark>.')


def test_a_mention_cannot_smuggle_markup() -> None:
    shown = str(_mentions('@x"><script>', "", ""))
    assert "<script>" not in shown and shown.startswith('<mark class="mention">@x</mark>')
