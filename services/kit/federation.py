"""Federated sign-in: the identity providers the gateway trusts, each bound to its teams.

Every country signs its own members in (OIDC). The gateway trusts a configured list of issuers
(``INTERLOCK_OIDC_ISSUERS``: a JSON file, or the JSON itself), and each issuer may vouch only for
the teams it is bound to: the Dutch police's provider signs in members of NL-KLPD, and a token
from it that names RO-DIICOT is refused (403). The local issuer (the demo's, the CLI's) is one
more entry, with its keys in hand instead of discovered.

For each issuer: OIDC discovery (``<issuer>/.well-known/openid-configuration``), its JWKS fetched
and cached (fetched again when a token names a key id it does not hold, at most once per
``jwks_min_refresh_seconds``, and whenever the cache is older than ``jwks_max_age_seconds``),
RS256 and ES256 only, and the claims checked: ``iss``, ``aud``, ``exp``, ``nbf``, ``iat``, with a
small leeway. Which claim names the member and the team (and, if trusted, the roles) is the
issuer's claim mapping. JIT membership and roles come from the directory
(:func:`services.kit.web.admitted`), never from a foreign token; an issuer configured with
``trust_roles`` may only narrow them.

A configuration the gateway cannot honour (an issuer URL that is not HTTPS, a team bound to two
issuers, a code that is no team) stops the gateway with a message naming the entry at fault.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import pycountry
from joserfc import jwk, jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from events.envelope import TEAM_PATTERN
from services.kit.identity import ALGORITHM, InvalidToken, Principal
from services.kit.logging import get_logger
from services.kit.settings import ConfigurationError, Settings

log = get_logger()

LOCAL = "local"
"""The name of the local issuer's entry."""
ANY_TEAM = "*"
"""A binding to every team (the local issuer only)."""
Algorithm = Literal["RS256", "ES256"]
ACCEPTED_ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES256")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class ClaimMapping(BaseModel):
    """Which of an issuer's claims carries what Interlock needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    member: str = Field(
        default="sub",
        description="The member id, as the directory knows it (Keycloak: preferred_username).",
    )
    team: str | None = Field(
        default="team",
        description="The team code; None: the issuer's one bound team is the member's.",
    )
    roles: str | None = Field(
        default=None, description="Roles (a list); read only when the issuer has trust_roles."
    )


class StepUp(BaseModel):
    """What a sensitive act asks of an authentication by this issuer (RFC 9470)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_age: int | None = Field(
        default=None, ge=0, description="Seconds since auth_time; None: INTERLOCK_STEP_UP_MAX_AGE."
    )
    acr_values: tuple[str, ...] = Field(
        default=(), description="acr values any of which is a second factor; () asks for none."
    )
    amr_values: tuple[str, ...] = Field(
        default=(), description="amr methods any of which is a second factor (e.g. otp, hwk)."
    )

    @property
    def second_factor(self) -> bool:
        return bool(self.acr_values or self.amr_values)


class IssuerConfig(BaseModel):
    """One trusted identity provider."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    label: str = Field(default="", max_length=120, description="Shown as 'Sign in with <label>'.")
    issuer: str = Field(min_length=1, description="The exact iss of its tokens.")
    teams: tuple[str, ...] = Field(min_length=1, description="The teams it may vouch for.")
    audience: str | None = Field(default=None, description="None: INTERLOCK_JWT_AUDIENCE.")
    algorithms: tuple[Algorithm, ...] = ACCEPTED_ALGORITHMS
    claims: ClaimMapping = ClaimMapping()
    trust_roles: bool = False
    client_id: str | None = Field(
        default=None, description="The web UI's public client (authorization code with PKCE)."
    )
    scope: str = "openid"
    step_up: StepUp = StepUp()
    discovery_url: str | None = Field(
        default=None, description="None: <issuer>/.well-known/openid-configuration."
    )
    jwks: dict[str, Any] | None = Field(
        default=None, description="Keys in hand (the local issuer): no discovery."
    )

    @property
    def discovery(self) -> str:
        return self.discovery_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def vouches_for(self, team: str) -> bool:
        return ANY_TEAM in self.teams or team in self.teams


# ------------------------------------------------------------------------------- configuration


def _check_url(entry: str, what: str, url: str) -> None:
    parts = urlsplit(url)
    loopback = parts.hostname in LOOPBACK
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ConfigurationError(f"issuer {entry}: {what} {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not loopback:
        raise ConfigurationError(
            f"issuer {entry}: {what} {url!r} must be https (plain http only on loopback)"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(f"issuer {entry}: {what} {url!r} has a query or fragment")


def _check_team(entry: str, team: str) -> None:
    import re

    if team == ANY_TEAM:
        if entry != LOCAL:
            raise ConfigurationError(
                f"issuer {entry}: only the local issuer may vouch for every team ('*'); "
                "bind it to team codes"
            )
        return
    if not re.match(TEAM_PATTERN, team) or pycountry.countries.get(alpha_2=team[:2]) is None:
        raise ConfigurationError(
            f"issuer {entry}: unknown team {team!r} (a team code is a country's two letters, "
            "'-', and the unit, e.g. NL-KLPD)"
        )


def check_issuers(entries: Sequence[IssuerConfig]) -> list[IssuerConfig]:
    """The entries, or a :class:`ConfigurationError` naming the first problem found."""
    names: dict[str, IssuerConfig] = {}
    issuers: dict[str, str] = {}
    bound: dict[str, str] = {}
    for entry in entries:
        if entry.name in names:
            raise ConfigurationError(f"issuer {entry.name}: the name is used twice")
        names[entry.name] = entry
        if entry.issuer in issuers:
            raise ConfigurationError(
                f"issuer {entry.name}: iss {entry.issuer!r} is also issuer {issuers[entry.issuer]}"
            )
        issuers[entry.issuer] = entry.name
        if entry.jwks is None:
            _check_url(entry.name, "issuer URL", entry.issuer)
            if entry.discovery_url:
                _check_url(entry.name, "discovery URL", entry.discovery_url)
        for team in entry.teams:
            _check_team(entry.name, team)
            if team != ANY_TEAM and team in bound:
                raise ConfigurationError(
                    f"team {team} is bound to two issuers, {bound[team]} and {entry.name}: "
                    "a team signs in with one identity provider"
                )
            bound[team] = entry.name
        real = [t for t in entry.teams if t != ANY_TEAM]
        if entry.claims.team is None and len(real) != 1:
            raise ConfigurationError(
                f"issuer {entry.name}: it vouches for {len(real) or 'any number of'} teams, so "
                "its claim mapping must name the claim that carries the team (claims.team)"
            )
        if entry.trust_roles and not entry.claims.roles:
            raise ConfigurationError(
                f"issuer {entry.name}: trust_roles needs the roles claim (claims.roles)"
            )
    return list(entries)


def read_issuers(source: str) -> list[IssuerConfig]:
    """The issuers of ``INTERLOCK_OIDC_ISSUERS``: a JSON list, or a path to a file holding one."""
    text = source.strip()
    if not text:
        return []
    where = "INTERLOCK_OIDC_ISSUERS"
    if not text.startswith("["):
        path = Path(text)
        if not path.is_file():
            raise ConfigurationError(f"{where}: {text!r} is neither a JSON list nor a file")
        where, text = str(path), path.read_text()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{where}: not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(raw, list):
        raise ConfigurationError(f"{where}: must be a JSON list of issuers")
    entries = []
    for index, item in enumerate(raw):
        name = item.get("name", f"#{index + 1}") if isinstance(item, dict) else f"#{index + 1}"
        try:
            entries.append(IssuerConfig.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            raise ConfigurationError(f"{where}: issuer {name}: {problems}") from None
    return entries


def configured_issuers(settings: Settings, local_jwks: Mapping[str, Any]) -> list[IssuerConfig]:
    """The local issuer's entry (unless switched off) and the configured ones, checked."""
    entries = []
    local_teams = tuple(t.strip() for t in settings.local_issuer_teams.split(",") if t.strip())
    if local_teams:
        entries.append(
            IssuerConfig(
                name=LOCAL,
                label="Interlock (local)",
                issuer=settings.jwt_issuer,
                teams=local_teams,
                algorithms=(ALGORITHM,),
                claims=ClaimMapping(member="sub", team="team", roles="roles"),
                jwks=dict(local_jwks),
            )
        )
    entries.extend(read_issuers(settings.oidc_issuers))
    return check_issuers(entries)


# ----------------------------------------------------------------------------------- keys


def _segment(part: str) -> dict[str, Any]:
    padded = part + "=" * (-len(part) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A token's header and claims, *not verified*: only to choose the issuer and the key."""
    if not token or token.count(".") != 2:
        raise InvalidToken("malformed bearer token")
    head, body, _ = token.split(".")
    try:
        return _segment(head), _segment(body)
    except (ValueError, UnicodeError):
        raise InvalidToken("malformed bearer token") from None


class IssuerKeys:
    """One issuer's discovery document and signing keys, cached; refreshed on an unknown key id
    (rate-limited) and when older than the maximum age."""

    def __init__(
        self,
        config: IssuerConfig,
        http: httpx.Client | None,
        *,
        min_refresh: float,
        max_age: float,
    ) -> None:
        self.config = config
        self._http = http
        self._min_refresh = min_refresh
        self._max_age = max_age
        self._lock = threading.RLock()
        self._metadata: dict[str, Any] | None = None
        self._keys: jwk.KeySet | None = None
        self._kids: frozenset[str] = frozenset()
        self._fetched = float("-inf")
        self.fetches = 0
        if config.jwks is not None:
            self._set(config.jwks)

    def _set(self, document: Mapping[str, Any]) -> None:
        keys = [
            k
            for k in document.get("keys", [])
            if isinstance(k, dict)
            and k.get("use", "sig") == "sig"
            and k.get("kty") in {"RSA", "EC"}
        ]
        self._keys = jwk.KeySet.import_key_set({"keys": keys})
        self._kids = frozenset(str(k.get("kid")) for k in keys if k.get("kid"))

    @property
    def static(self) -> bool:
        return self.config.jwks is not None

    def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document (fetched once, then cached)."""
        if self._metadata is None:
            with self._lock:
                if self._metadata is None:
                    self._metadata = self._discover()
        return self._metadata

    def _get(self, url: str) -> dict[str, Any]:
        client = self._http or httpx.Client(timeout=5.0)
        try:
            response = client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        finally:
            if self._http is None:
                client.close()
        if not isinstance(document, dict):
            raise ValueError(f"{url} did not answer a JSON object")
        return document

    def _discover(self) -> dict[str, Any]:
        try:
            document = self._get(self.config.discovery)
        except (httpx.HTTPError, ValueError) as exc:
            raise InvalidToken(
                f"discovery of issuer {self.config.name} failed: {type(exc).__name__}"
            ) from None
        if document.get("issuer") != self.config.issuer:
            raise InvalidToken(
                f"issuer {self.config.name}: discovery names issuer {document.get('issuer')!r}"
            )
        if not isinstance(document.get("jwks_uri"), str):
            raise InvalidToken(f"issuer {self.config.name}: discovery names no jwks_uri")
        return document

    def key_set(self, kid: str | None) -> jwk.KeySet:
        """The keys to verify a token signed with ``kid``."""
        if self.static:
            assert self._keys is not None
            return self._keys
        now = time.monotonic()
        stale = now - self._fetched > self._max_age
        unknown = kid is not None and kid not in self._kids
        if (self._keys is None or stale or unknown) and now - self._fetched >= self._min_refresh:
            with self._lock:
                if time.monotonic() - self._fetched >= self._min_refresh:
                    self._refresh()
        if self._keys is None:
            raise InvalidToken(f"the keys of issuer {self.config.name} are not available")
        return self._keys

    def _refresh(self) -> None:
        self._fetched = time.monotonic()
        try:
            uri = self.metadata()["jwks_uri"]
            _check_url(self.config.name, "jwks_uri", uri)
            self._set(self._get(uri))
            self.fetches += 1
            log.info("issuer keys fetched", issuer=self.config.name, kids=sorted(self._kids))
        except (httpx.HTTPError, ValueError, JoseError, ConfigurationError) as exc:
            # keep the keys we had: a provider briefly away must not sign everyone out
            log.warning("issuer keys not fetched", issuer=self.config.name, error=repr(exc)[:200])


# ------------------------------------------------------------------------------- verifier


class Trust:
    """Verifies bearer tokens from any trusted issuer into a :class:`Principal`.

    Drop-in for :class:`services.kit.identity.Verifier` (``verify``), plus what the sign-in
    flow and step-up ask of an issuer.
    """

    def __init__(
        self,
        settings: Settings,
        issuers: Iterable[IssuerConfig],
        *,
        http: httpx.Client | None = None,
    ) -> None:
        self.settings = settings
        self.leeway = settings.oidc_leeway_seconds
        self.issuers = {i.name: i for i in issuers}
        self._by_iss = {i.issuer: i for i in self.issuers.values()}
        self._keys = {
            i.name: IssuerKeys(
                i,
                http,
                min_refresh=settings.oidc_jwks_min_refresh_seconds,
                max_age=settings.oidc_jwks_max_age_seconds,
            )
            for i in self.issuers.values()
        }

    @classmethod
    def of(cls, settings: Settings, local_jwks: Mapping[str, Any]) -> Trust:
        return cls(settings, configured_issuers(settings, local_jwks))

    def keys(self, name: str) -> IssuerKeys:
        return self._keys[name]

    def warm(self) -> None:
        """Fetch every remote issuer's keys now (a failure is logged; tokens retry later)."""
        for keys in self._keys.values():
            if not keys.static:
                try:
                    keys.key_set(None)
                except InvalidToken as exc:
                    log.warning("issuer not reachable", issuer=keys.config.name, reason=exc.reason)

    def sign_in_choices(self) -> list[IssuerConfig]:
        """The issuers the web UI offers ('Sign in with …'): those with a public client."""
        return [i for i in self.issuers.values() if i.client_id and i.jwks is None]

    def step_up(self, name: str) -> StepUp:
        """The step-up an issuer's members meet for a sensitive act (its max_age filled in)."""
        issuer = self.issuers.get(name)
        policy = issuer.step_up if issuer is not None else StepUp()
        if policy.max_age is None:
            policy = policy.model_copy(update={"max_age": self.settings.step_up_max_age})
        return policy

    def decode(
        self, token: str, *, audience: str | None = None, nonce: str | None = None
    ) -> tuple[IssuerConfig, dict[str, Any]]:
        """The issuer and verified claims of ``token`` (signature, iss, aud, exp, nbf, iat)."""
        header, peeked = unverified(token)
        alg = header.get("alg")
        if alg not in ACCEPTED_ALGORITHMS:
            raise InvalidToken(f"token refused: algorithm {str(alg)[:16]!r} is not accepted")
        config = self._by_iss.get(str(peeked.get("iss")))
        if config is None:
            raise InvalidToken("token refused: from an issuer this gateway does not trust")
        if alg not in config.algorithms:
            raise InvalidToken(f"token refused: issuer {config.name} does not sign with {alg}")
        kid = header.get("kid")
        keys = self._keys[config.name].key_set(str(kid) if kid is not None else None)
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": config.issuer},
            "aud": {
                "essential": True,
                "value": audience or config.audience or self.settings.jwt_audience,
            },
            "exp": {"essential": True},
        }
        if nonce is not None:
            options["nonce"] = {"essential": True, "value": nonce}
        registry = JWTClaimsRegistry(leeway=self.leeway, **options)
        try:
            decoded = jwt.decode(token, keys, algorithms=list(config.algorithms))
            registry.validate(decoded.claims)
        except JoseError as exc:
            said = f" ({exc.description})" if exc.description else ""
            raise InvalidToken(f"token refused: {exc.error}{said}"[:200]) from None
        except (ValueError, KeyError) as exc:
            raise InvalidToken(f"token refused: {type(exc).__name__}") from None
        claims = decoded.claims
        issued = claims.get("iat")
        if isinstance(issued, int | float) and issued > time.time() + self.leeway:
            raise InvalidToken("token refused: issued in the future")
        return config, claims

    def verify(self, token: str) -> Principal:
        config, claims = self.decode(token)
        return self.principal(config, claims)

    def principal(self, config: IssuerConfig, claims: Mapping[str, Any]) -> Principal:
        """The principal a verified token's claims map to under its issuer's mapping."""
        mapping = config.claims
        member = claims.get(mapping.member)
        if mapping.team is not None and mapping.team in claims:
            team = claims.get(mapping.team)
        elif len(config.teams) == 1 and config.teams[0] != ANY_TEAM:
            team = config.teams[0]
        else:
            raise InvalidToken(f"token claims invalid: no {mapping.team or 'team'} claim")
        if not isinstance(team, str) or not config.vouches_for(team):
            raise InvalidToken(
                f"issuer {config.name} may not vouch for team {str(team)[:32]}", status=403
            )
        local = config.name == LOCAL
        roles: Any = ()
        if (local or config.trust_roles) and mapping.roles:
            roles = claims.get(mapping.roles) or ()
        amr = claims.get("amr") or ()
        fields = {
            "sub": member,
            "team": team,
            "jits": (claims.get("jits") or ()) if local else (),
            "roles": tuple(roles) if isinstance(roles, list | tuple) else (),
            "jti": claims.get("jti"),
            "issuer": config.name,
            "auth_time": claims.get("auth_time"),
            "acr": str(claims["acr"]) if claims.get("acr") is not None else None,
            "amr": tuple(str(m) for m in amr) if isinstance(amr, list | tuple) else (),
            "roles_from_token": config.trust_roles and not local,
        }
        try:
            return Principal.model_validate(fields)
        except ValidationError as exc:
            names = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise InvalidToken(f"token claims invalid: {names}") from None
