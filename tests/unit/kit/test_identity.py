"""Tokens from the local issuer and their verification."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from services.kit.identity import InvalidToken, Issuer, Verifier
from services.kit.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(jwt_key_file=str(tmp_path / "key.json"))  # type: ignore[call-arg]


def test_issued_token_verifies_to_its_principal(settings: Settings) -> None:
    """A token carries member, team, JITs and roles, and verifies against the JWKS."""
    issuer = Issuer(settings)
    token = issuer.issue(member="anna", team="NL-KLPD", jits=["jit-1"], roles=["investigator"])
    principal = Verifier(settings, issuer.jwks()).verify(token)
    assert (principal.member, principal.team) == ("anna", "NL-KLPD")
    assert principal.jits == ("jit-1",) and principal.roles == ("investigator",)


def test_the_key_is_created_once_with_owner_only_permissions(settings: Settings) -> None:
    """The signing key is generated on first use, kept 0600, and reused afterwards."""
    first = Issuer(settings).jwks()
    assert Issuer(settings).jwks() == first
    assert Path(settings.jwt_key_file).stat().st_mode & 0o777 == 0o600
    assert "d" not in first["keys"][0]


def test_expired_token_is_refused(settings: Settings) -> None:
    """An expired token is refused with a reason that names expiry."""
    issuer = Issuer(settings)
    token = issuer.issue(member="a", team="NL-KLPD", jits=[], roles=[], ttl_seconds=1)
    time.sleep(7)
    with pytest.raises(InvalidToken) as refused:
        Verifier(settings, issuer.jwks()).verify(token)
    assert "expired" in refused.value.reason


def test_forged_and_foreign_tokens_are_refused(settings: Settings, tmp_path: Path) -> None:
    """A tampered signature, another issuer's key, or a wrong audience is refused."""
    issuer = Issuer(settings)
    verifier = Verifier(settings, issuer.jwks())
    token = issuer.issue(member="a", team="NL-KLPD", jits=[], roles=[])
    with pytest.raises(InvalidToken):
        verifier.verify(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    other = Issuer(Settings(jwt_key_file=str(tmp_path / "other.json")))  # type: ignore[call-arg]
    with pytest.raises(InvalidToken):
        verifier.verify(other.issue(member="a", team="NL-KLPD", jits=[], roles=[]))
    wrong_audience = Settings(jwt_key_file=settings.jwt_key_file, jwt_audience="elsewhere")  # type: ignore[call-arg]
    with pytest.raises(InvalidToken):
        verifier.verify(Issuer(wrong_audience).issue(member="a", team="NL-KLPD", jits=[], roles=[]))
    with pytest.raises(InvalidToken) as refused:
        verifier.verify("not-a-token")
    assert "malformed" in refused.value.reason


def test_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad environment variable stops the process with a message naming it."""
    from services.kit.settings import ConfigurationError, load_settings

    load_settings.cache_clear()
    monkeypatch.setenv("INTERLOCK_GATEWAY_PORT", "not-a-port")
    with pytest.raises(ConfigurationError) as stopped:
        load_settings()
    assert "INTERLOCK_GATEWAY_PORT" in str(stopped.value)
    load_settings.cache_clear()
