"""Federated sign-in: trusted issuers bound to teams, their keys, forged tokens, and step-up.

The identity providers here are JWKS and discovery documents served through httpx's mock
transport; the same checks run against a real Keycloak in tests/integration/oidc.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jwk, jwt

from events.directory import JitRegistered, MemberRegistered, Role
from services.admin import jit_record, member_record
from services.kit.directory import DirectoryBook, StaticDirectory
from services.kit.federation import (
    ClaimMapping,
    IssuerConfig,
    StepUp,
    Trust,
    check_issuers,
    configured_issuers,
    read_issuers,
)
from services.kit.identity import InvalidToken, Issuer
from services.kit.settings import ConfigurationError, Settings
from services.kit.web import ApiError, Sensitive, api_routes, problem
from services.kit.web import StepUp as StepUpRule
from tests.support import UNIT_KAFKA

NL = "https://idp.politie.example/realms/nl-police"
RO = "https://idp.politia.example/realms/ro-police"


class Provider:
    """An identity provider: its discovery document and JWKS, and tokens signed by its keys."""

    def __init__(self, issuer: str, kind: str = "RSA") -> None:
        self.issuer = issuer
        self.keys = [self.new_key(kind)]
        self.jwks_calls = 0

    @staticmethod
    def new_key(kind: str) -> Any:
        key = jwk.generate_key(kind, 2048 if kind == "RSA" else "P-256", auto_kid=True)
        return key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) | {"use": "sig"} for k in self.keys]}

    def token(self, *, key: Any = None, alg: str | None = None, **claims: Any) -> str:
        key = key or self.keys[0]
        alg = alg or ("RS256" if key.key_type == "RSA" else "ES256")
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": "interlock",
            "sub": "3f0c9a52-uuid-of-keycloak",
            "preferred_username": "anna.devries",
            "iat": now,
            "auth_time": now,
            "exp": now + 300,
        } | claims
        return jwt.encode(
            {"alg": alg, "kid": key.kid}, {k: v for k, v in body.items() if v is not None}, key
        )


def transport(*providers: Provider) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        for p in providers:
            if str(request.url) == p.issuer + "/.well-known/openid-configuration":
                return httpx.Response(
                    200,
                    json={
                        "issuer": p.issuer,
                        "jwks_uri": p.issuer + "/certs",
                        "authorization_endpoint": p.issuer + "/auth",
                        "token_endpoint": p.issuer + "/token",
                    },
                )
            if str(request.url) == p.issuer + "/certs":
                p.jwks_calls += 1
                return httpx.Response(200, json=p.jwks())
        return httpx.Response(404)

    return httpx.MockTransport(handle)


def entry(name: str, issuer: str, teams: tuple[str, ...], **extra: Any) -> IssuerConfig:
    return IssuerConfig(
        name=name,
        issuer=issuer,
        teams=teams,
        claims=ClaimMapping(member="preferred_username", team="team"),
        **extra,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        jwt_key_file=str(tmp_path / "key.json"),
        oidc_jwks_min_refresh_seconds=0.5,
    )


@pytest.fixture
def nl() -> Provider:
    return Provider(NL)


@pytest.fixture
def ro() -> Provider:
    return Provider(RO, "EC")


@pytest.fixture
def trust(settings: Settings, nl: Provider, ro: Provider) -> Trust:
    local = Issuer(settings)
    issuers = [
        *configured_issuers(settings, local.jwks()),
        entry("nl-police", NL, ("NL-KLPD",)),
        entry("ro-police", RO, ("RO-DIICOT",), step_up=StepUp(max_age=60, acr_values=("2",))),
    ]
    return Trust(settings, check_issuers(issuers), http=httpx.Client(transport=transport(nl, ro)))


# ------------------------------------------------------------------------------ accepted


def test_an_rs256_token_of_a_country_idp_maps_to_its_member_and_bound_team(
    trust: Trust, nl: Provider
) -> None:
    """Member from the mapped claim, team from the one team the issuer is bound to; roles and
    JITs are the directory's, never the foreign token's."""
    principal = trust.verify(nl.token(roles=["coordinator"], jits=["jit-x"]))
    assert (principal.member, principal.team, principal.issuer) == (
        "anna.devries",
        "NL-KLPD",
        "nl-police",
    )
    assert principal.roles == () and principal.jits == ()
    assert principal.auth_time is not None


def test_an_es256_token_verifies_and_carries_acr_and_amr(trust: Trust, ro: Provider) -> None:
    principal = trust.verify(ro.token(preferred_username="ioana.popa", acr="2", amr=["pwd", "otp"]))
    assert (principal.member, principal.team) == ("ioana.popa", "RO-DIICOT")
    assert principal.acr == "2" and principal.amr == ("pwd", "otp")


def test_the_local_issuer_is_one_entry_of_the_list(trust: Trust, settings: Settings) -> None:
    token = Issuer(settings).issue(member="a", team="DE-BKA", jits=["j"], roles=["investigator"])
    principal = trust.verify(token)
    assert (principal.issuer, principal.team, principal.jits) == ("local", "DE-BKA", ("j",))


# ------------------------------------------------------------------------------ forged


def refused(trust: Trust, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as caught:
        trust.verify(token)
    return caught.value


def test_a_token_from_an_issuer_not_in_the_list_is_refused(trust: Trust) -> None:
    stranger = Provider("https://idp.elsewhere.example/realms/x")
    error = refused(trust, stranger.token())
    assert error.status == 401 and "does not trust" in error.reason


def test_a_token_claiming_the_trusted_iss_but_signed_by_another_key_is_refused(
    trust: Trust,
) -> None:
    impostor = Provider(NL)  # same iss, its own keys (kid unknown to the real provider)
    assert refused(trust, impostor.token()).status == 401


def test_a_team_outside_the_issuers_binding_is_403(trust: Trust, nl: Provider) -> None:
    """The Dutch police's provider may not sign in a member of RO-DIICOT."""
    error = refused(trust, nl.token(team="RO-DIICOT"))
    assert error.status == 403 and "nl-police may not vouch for team RO-DIICOT" in error.reason


def test_wrong_audience_expired_and_not_yet_valid_tokens_are_refused(
    trust: Trust, nl: Provider
) -> None:
    now = int(time.time())
    assert "aud" in refused(trust, nl.token(aud="account")).reason
    assert "expired" in refused(trust, nl.token(exp=now - 60)).reason
    assert refused(trust, nl.token(nbf=now + 120)).status == 401
    assert "future" in refused(trust, nl.token(iat=now + 120)).reason
    assert refused(trust, nl.token(exp=None)).status == 401


def test_a_token_within_the_leeway_is_accepted(trust: Trust, nl: Provider) -> None:
    trust.verify(nl.token(exp=int(time.time()) - 3))


def b64(value: dict[str, Any] | bytes) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_alg_none_is_refused(trust: Trust, nl: Provider) -> None:
    claims = jwt.decode(nl.token(), nl.keys[0]).claims
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert "algorithm 'none'" in refused(trust, unsigned).reason


def test_hs256_signed_with_the_public_key_as_secret_is_refused(trust: Trust, nl: Provider) -> None:
    """The classic key-confusion forgery: HMAC keyed with the RSA public key (PEM or JWK)."""
    import hashlib
    import hmac

    claims = jwt.decode(nl.token(), nl.keys[0]).claims
    for secret in (
        nl.keys[0].as_pem(private=False),
        json.dumps(nl.keys[0].as_dict(private=False)).encode(),
    ):
        signing_input = f"{b64({'alg': 'HS256', 'kid': nl.keys[0].kid})}.{b64(claims)}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        forged = f"{signing_input}.{b64(mac)}"
        assert "algorithm 'HS256' is not accepted" in refused(trust, forged).reason


def test_an_algorithm_the_issuer_does_not_use_is_refused(settings: Settings, nl: Provider) -> None:
    only_es = entry("nl-police", NL, ("NL-KLPD",), algorithms=("ES256",))
    trust = Trust(settings, [only_es], http=httpx.Client(transport=transport(nl)))
    assert "does not sign with RS256" in refused(trust, nl.token()).reason


def test_malformed_tokens_are_refused(trust: Trust) -> None:
    for token in ("", "abc", "a.b.c", f"{b64(b'[1]')}.{b64(b'{}')}.x"):
        assert refused(trust, token).status == 401


# ------------------------------------------------------------------------------ keys


def test_keys_are_cached_and_a_rotated_key_is_fetched_once(trust: Trust, nl: Provider) -> None:
    """A new key id fetches the JWKS again; a burst of unknown ids fetches at most once per
    interval (a forger cannot make the gateway hammer the provider)."""
    trust.verify(nl.token())
    trust.verify(nl.token())
    assert nl.jwks_calls == 1
    time.sleep(0.6)
    nl.keys.insert(0, Provider.new_key("RSA"))  # the provider rotates: a new active key
    assert trust.verify(nl.token()).member == "anna.devries"
    assert nl.jwks_calls == 2
    forger = Provider.new_key("RSA")
    time.sleep(0.6)
    for _ in range(5):
        refused(trust, nl.token(key=forger))
    assert nl.jwks_calls == 3  # one refetch for the unknown kid, then the rate limit holds
    nl.keys.pop()  # the old key is withdrawn
    time.sleep(0.6)
    old = Provider.new_key("RSA")
    refused(trust, nl.token(key=old))
    assert trust.keys("nl-police").fetches == 4


def test_discovery_naming_another_issuer_is_refused(settings: Settings) -> None:
    liar = Provider(NL)

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issuer": RO, "jwks_uri": NL + "/certs"})

    trust = Trust(
        settings,
        [entry("nl-police", NL, ("NL-KLPD",))],
        http=httpx.Client(transport=httpx.MockTransport(handle)),
    )
    assert "discovery names issuer" in refused(trust, liar.token()).reason


def test_an_unreachable_provider_refuses_its_tokens_and_spares_the_others(
    settings: Settings, ro: Provider
) -> None:
    trust = Trust(
        settings,
        [entry("nl-police", NL, ("NL-KLPD",)), entry("ro-police", RO, ("RO-DIICOT",))],
        http=httpx.Client(transport=transport(ro)),
    )
    trust.warm()
    assert refused(trust, Provider(NL).token()).status == 401
    assert trust.verify(ro.token()).team == "RO-DIICOT"


# ------------------------------------------------------------------------------ configuration


def config_error(*entries: IssuerConfig) -> str:
    with pytest.raises(ConfigurationError) as caught:
        check_issuers(entries)
    return str(caught.value)


def test_configuration_errors_name_the_problem() -> None:
    assert "must be https" in config_error(
        entry("nl", "http://idp.politie.example/r", ("NL-KLPD",))
    )
    assert "not an http(s) URL" in config_error(entry("nl", "idp.politie.example", ("NL-KLPD",)))
    twice = config_error(entry("nl", NL, ("NL-KLPD",)), entry("nl-2", RO, ("NL-KLPD",)))
    assert "team NL-KLPD is bound to two issuers, nl and nl-2" in twice
    assert "unknown team 'XX-KLPD'" in config_error(entry("nl", NL, ("XX-KLPD",)))
    assert "unknown team 'nl-klpd'" in config_error(entry("nl", NL, ("nl-klpd",)))
    assert "only the local issuer" in config_error(entry("nl", NL, ("*",)))
    multi = IssuerConfig(
        name="eu", issuer=NL, teams=("NL-KLPD", "RO-DIICOT"), claims=ClaimMapping(team=None)
    )
    assert "must name the claim that carries the team" in config_error(multi)
    assert "used twice" in config_error(
        entry("nl", NL, ("NL-KLPD",)), entry("nl", RO, ("RO-DIICOT",))
    )
    check_issuers([entry("dev", "http://127.0.0.1:4080/realms/nl", ("NL-KLPD",))])


def test_the_issuer_list_is_read_from_json_or_a_file(tmp_path: Path) -> None:
    listed = [{"name": "nl-police", "issuer": NL, "teams": ["NL-KLPD"]}]
    assert read_issuers(json.dumps(listed))[0].name == "nl-police"
    path = tmp_path / "issuers.json"
    path.write_text(json.dumps(listed))
    assert read_issuers(str(path))[0].teams == ("NL-KLPD",)
    with pytest.raises(ConfigurationError, match="issuer nl-police: teams"):
        read_issuers(json.dumps([{"name": "nl-police", "issuer": NL, "teams": []}]))
    with pytest.raises(ConfigurationError, match="neither a JSON list nor a file"):
        read_issuers(str(tmp_path / "missing.json"))


def test_local_issuer_narrowed_or_off(tmp_path: Path) -> None:
    key = str(tmp_path / "k.json")
    jwks = Issuer(Settings(jwt_key_file=key)).jwks()  # type: ignore[call-arg]
    narrowed = Settings(jwt_key_file=key, local_issuer_teams="DE-BKA")  # type: ignore[call-arg]
    assert configured_issuers(narrowed, jwks)[0].teams == ("DE-BKA",)
    off = Settings(
        jwt_key_file=key,
        local_issuer_teams="",
        oidc_issuers=json.dumps([{"name": "nl", "issuer": NL, "teams": ["NL-KLPD"]}]),
    )  # type: ignore[call-arg]
    assert [i.name for i in configured_issuers(off, jwks)] == ["nl"]


# ------------------------------------------------------------------------------ step-up


def jit_book(members: dict[str, tuple[str, tuple[Role, ...]]]) -> DirectoryBook:
    """A directory of JIT ``j`` (coordinated by NL-KLPD) whose member teams are those of
    ``members``: member id → (team, roles)."""
    teams = tuple(dict.fromkeys(team for team, _ in members.values()))
    return DirectoryBook.of(
        [
            jit_record(
                JitRegistered(
                    jit_id="j",
                    name="j",
                    legal_basis="agreement",
                    coordinator_team="NL-KLPD",
                    member_teams=teams,
                    starts_on=date(2026, 1, 1),
                )
            ),
            *(
                member_record(
                    MemberRegistered(
                        member_id=member, team=team, display_name=member, roles=roles, jits=("j",)
                    )
                )
                for member, (team, roles) in members.items()
            ),
        ]
    )


def step_up_app(trust: Trust) -> TestClient:
    app = FastAPI()
    app.state.verifier = trust
    app.state.directory = StaticDirectory(
        jit_book(
            {
                "anna.devries": ("NL-KLPD", (Role.INVESTIGATOR,)),
                "ioana.popa": ("RO-DIICOT", (Role.INVESTIGATOR,)),
            }
        )
    )

    @app.exception_handler(ApiError)
    async def _api_error(_: Any, exc: ApiError) -> Any:
        return problem(exc.status_code, str(exc.detail), exc.errors, exc.headers)

    @app.post("/jits/{jit}/erase")
    async def erase(jit: str, principal: Sensitive) -> dict[str, str]:
        return {"by": principal.member}

    return TestClient(app)


def test_a_sensitive_act_needs_a_recent_authentication(trust: Trust, nl: Provider) -> None:
    client = step_up_app(trust)
    fresh = client.post("/jits/j/erase", headers={"Authorization": f"Bearer {nl.token()}"})
    assert fresh.status_code == 200, fresh.text
    old = nl.token(auth_time=int(time.time()) - 3600)
    stale = client.post("/jits/j/erase", headers={"Authorization": f"Bearer {old}"})
    assert stale.status_code == 401
    challenge = stale.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="insufficient_user_authentication"')
    assert "max_age=900" in challenge and "acr_values" not in challenge
    assert "within the last 900 s" in stale.json()["error"]
    none = nl.token(auth_time=None)
    assert (
        client.post("/jits/j/erase", headers={"Authorization": f"Bearer {none}"}).status_code == 401
    )


def test_a_second_factor_where_the_issuer_says_so(trust: Trust, ro: Provider) -> None:
    client = step_up_app(trust)
    member = {"preferred_username": "ioana.popa"}
    one = client.post(
        "/jits/j/erase", headers={"Authorization": f"Bearer {ro.token(acr='1', **member)}"}
    )
    assert one.status_code == 401
    assert 'max_age=60, acr_values="2"' in one.headers["WWW-Authenticate"]
    assert "a second factor" in one.json()["error"]
    two = client.post(
        "/jits/j/erase", headers={"Authorization": f"Bearer {ro.token(acr='2', **member)}"}
    )
    assert two.status_code == 200, two.text


def test_amr_counts_as_a_second_factor_where_configured(settings: Settings, nl: Provider) -> None:
    policy = StepUp(max_age=300, amr_values=("otp", "hwk"))
    trust = Trust(
        settings,
        [entry("nl-police", NL, ("NL-KLPD",), step_up=policy)],
        http=httpx.Client(transport=transport(nl)),
    )
    client = step_up_app(trust)
    pwd = client.post("/jits/j/erase", headers={"Authorization": f"Bearer {nl.token(amr=['pwd'])}"})
    assert pwd.status_code == 401
    otp = client.post(
        "/jits/j/erase", headers={"Authorization": f"Bearer {nl.token(amr=['pwd', 'otp'])}"}
    )
    assert otp.status_code == 200


def test_a_foreign_team_is_403_before_any_step_up(trust: Trust, nl: Provider) -> None:
    client = step_up_app(trust)
    answer = client.post(
        "/jits/j/erase", headers={"Authorization": f"Bearer {nl.token(team='RO-DIICOT')}"}
    )
    assert answer.status_code == 403


SENSITIVE = {
    ("POST", "/jits/{jit}/hits/{hit_id}/release"),
    ("POST", "/jits/{jit}/retention/{kind}/{subject_id}/erase"),
    ("POST", "/jits/{jit}/evidence/{evidence_id}/erase"),
    ("POST", "/jits/{jit}/evidence/packages"),
    ("GET", "/jits/{jit}/export.ftm"),
    ("GET", "/jits/{jit}/export.stix"),
}


def test_the_sensitive_routes_declare_step_up(tmp_path: Path) -> None:
    """Releasing details after a hit, erasure and exports declare the step-up rule, and no other
    route does (it would ask members to sign in again for nothing)."""
    from services.gateway.app import create_app

    app = create_app(Settings(jwt_key_file=str(tmp_path / "k.json"), **UNIT_KAFKA))  # type: ignore[call-arg]

    def has_step_up(dependant: Any) -> bool:
        return any(isinstance(d.call, StepUpRule) or has_step_up(d) for d in dependant.dependencies)

    declared = {
        (method, route.path)
        for route in api_routes(app)
        if has_step_up(route.dependant)
        for method in route.methods
    }
    assert declared == SENSITIVE


def test_roles_from_a_trusted_issuer_only_narrow_the_directorys(
    settings: Settings, nl: Provider
) -> None:
    """An issuer with ``trust_roles`` may take a role away (the token's roles are a subset of
    what the member holds for now) but never add one the directory does not grant."""
    from services.kit.web import admitted

    trusted = IssuerConfig(
        name="nl-police",
        issuer=NL,
        teams=("NL-KLPD",),
        trust_roles=True,
        claims=ClaimMapping(member="preferred_username", team="team", roles="roles"),
    )
    trust = Trust(settings, [trusted], http=httpx.Client(transport=transport(nl)))
    book = jit_book({"anna.devries": ("NL-KLPD", (Role.INVESTIGATOR, Role.DESK_OFFICER))})

    def roles_with(claimed: list[str]) -> tuple[str, ...]:
        principal = trust.verify(nl.token(team="NL-KLPD", roles=claimed))
        assert principal.roles_from_token
        found = admitted(book, principal, "j")
        assert found is not None
        return tuple(found.roles)

    assert roles_with(["investigator"]) == ("investigator",)
    assert roles_with(["investigator", "coordinator"]) == ("investigator",)
    assert roles_with([]) == ()
    untrusted = Trust(
        settings,
        [entry("nl-police", NL, ("NL-KLPD",))],
        http=httpx.Client(transport=transport(nl)),
    )
    plain = untrusted.verify(nl.token(team="NL-KLPD", roles=["coordinator"]))
    assert not plain.roles_from_token
    found = admitted(book, plain, "j")
    assert found is not None and set(found.roles) == {"investigator", "desk_officer"}
