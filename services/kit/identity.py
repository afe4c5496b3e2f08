"""Identity: signed JWT bearer tokens (OIDC-compatible claims) and the principal they carry.

The local issuer signs with an EC P-256 key kept outside git; the gateway publishes the public
part as a JWKS, so a production deployment can swap the local issuer for an OIDC provider that
issues the same claims (iss, aud, exp, sub, team, jits, roles).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from joserfc import jwk, jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from events.envelope import ID_PATTERN, TEAM_PATTERN, Actor
from services.kit.settings import Settings

ALGORITHM = "ES256"


class Principal(BaseModel):
    """Who is calling: a member (or national system) of one team, in some JITs, with roles."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    member: str = Field(alias="sub", pattern=ID_PATTERN)
    team: str = Field(pattern=TEAM_PATTERN)
    jits: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    token_id: str | None = Field(default=None, alias="jti")
    issuer: str = Field(default="local", description="The name of the trusted issuer that signed.")
    auth_time: int | None = Field(
        default=None, description="When the member last authenticated (seconds, OIDC auth_time)."
    )
    acr: str | None = Field(default=None, description="Authentication context class (OIDC acr).")
    amr: tuple[str, ...] = Field(default=(), description="Authentication methods (RFC 8176).")
    roles_from_token: bool = Field(
        default=False,
        description="The issuer is trusted to narrow roles: the directory's roles are kept only "
        "where the token names them too.",
    )

    def actor(self) -> Actor:
        return Actor(member=self.member, team=self.team, roles=self.roles)

    def has_role(self, *roles: str) -> bool:
        return bool(set(roles).intersection(self.roles))


class InvalidToken(Exception):
    """A bearer token that must not be honoured; ``reason`` is safe to log (no token material).

    ``status`` is 401 (who the caller is is not established) unless the token is genuine but its
    issuer may not vouch for the team it names: then 403.
    """

    def __init__(self, reason: str, *, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def load_or_create_key(path: str | Path) -> jwk.ECKey:
    """The issuer's signing key, created on first use with owner-only permissions."""
    path = Path(path)
    if path.exists():
        key = jwk.import_key(json.loads(path.read_text()), "EC")
        return key
    key = jwk.generate_key("EC", "P-256", parameters={"use": "sig", "alg": ALGORITHM})
    key.ensure_kid()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(key.as_dict(private=True), fh)
    return key


class Issuer:
    """The local development and demo issuer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.key = load_or_create_key(settings.jwt_key_file)

    def issue(
        self,
        *,
        member: str,
        team: str,
        jits: Sequence[str],
        roles: Sequence[str],
        ttl_seconds: int | None = None,
        auth_time: int | None = None,
    ) -> str:
        """A token for ``member``; ``auth_time`` (default: now) is when they authenticated,
        which step-up for sensitive acts reads."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "sub": member,
            "team": team,
            "jits": list(jits),
            "roles": list(roles),
            "iat": now,
            "auth_time": now if auth_time is None else auth_time,
            "nbf": now - 5,
            "exp": now + (ttl_seconds or self.settings.token_ttl_seconds),
            "jti": str(uuid.uuid4()),
        }
        Principal.model_validate(claims)
        header = {"alg": ALGORITHM, "kid": self.key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self.key)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}


class Verifier:
    """Verifies bearer tokens against a JWKS, issuer and audience."""

    def __init__(self, settings: Settings, jwks: dict[str, Any]) -> None:
        self.keys = jwk.KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        self.claims = JWTClaimsRegistry(
            iss={"essential": True, "value": settings.jwt_issuer},
            aud={"essential": True, "value": settings.jwt_audience},
            exp={"essential": True},
            sub={"essential": True},
            leeway=5,
        )

    def verify(self, token: str) -> Principal:
        if not token or token.count(".") != 2:
            raise InvalidToken("malformed bearer token")
        try:
            decoded = jwt.decode(token, self.keys, algorithms=[ALGORITHM])
            self.claims.validate(decoded.claims)
        except JoseError as exc:
            raise InvalidToken(f"token refused: {exc.error}") from None
        except (ValueError, KeyError) as exc:
            raise InvalidToken(f"token refused: {type(exc).__name__}") from None
        try:
            return Principal.model_validate(decoded.claims)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise InvalidToken(f"token claims invalid: {fields}") from None
