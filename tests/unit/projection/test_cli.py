"""``interlock projection rebuild|hash`` are wired into the one CLI (no services needed)."""

from __future__ import annotations

import pytest

from services.cli import main


def test_rebuild_refuses_without_confirmation(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --yes nothing is deleted: the command explains and exits 2."""
    assert main(["projection", "rebuild"]) == 2
    err = capsys.readouterr().err
    assert "--yes" in err
    assert "deletes the whole graph" in err


def test_rebuild_names_the_scope_it_would_delete(capsys: pytest.CaptureFixture[str]) -> None:
    """A scoped rebuild says which JITs it would clear."""
    assert main(["projection", "rebuild", "--jit", "jit-1", "--team", "NL-KLPD"]) == 2
    assert "['jit-1']" in capsys.readouterr().err


def test_projection_alone_is_still_the_worker_role() -> None:
    """``interlock projection`` parses as the worker role, with no sub-command handler."""
    from services.cli import _parser

    args = _parser().parse_args(["projection"])
    assert args.command == "projection"
    assert getattr(args, "handler", None) is None
    assert _parser().parse_args(["projection", "hash", "--jit", "j"]).jit == ["j"]
