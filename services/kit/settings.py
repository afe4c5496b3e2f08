"""Settings from the environment (``INTERLOCK_*``), with errors that name the offending variable."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(SystemExit):
    """A setting is missing or invalid; the message names the environment variable."""


def _env(name: str, *fallbacks: str) -> AliasChoices:
    return AliasChoices(f"INTERLOCK_{name.upper()}", *fallbacks)


class Settings(BaseSettings):
    """Everything a service process reads from its environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092",
        validation_alias=_env("kafka_bootstrap", "KAFKA_BOOTSTRAP"),
        pattern=r"^[^\s,]+:\d+(,[^\s,]+:\d+)*$",
    )
    kafka_security_protocol: Literal["SASL_PLAINTEXT", "SASL_SSL", "PLAINTEXT"] = Field(
        default="SASL_PLAINTEXT",
        validation_alias=_env("kafka_security_protocol", "KAFKA_SECURITY_PROTOCOL"),
        description="How every Kafka client of this process connects; PLAINTEXT only for a "
        "broker with no authentication at all (the testcontainers path).",
    )
    kafka_username: str = Field(
        default="",
        validation_alias=_env("kafka_username", "KAFKA_ADMIN_USER"),
        description="This process's SCRAM-SHA-512 principal; a process role replaces it by its "
        "own (svc-<role>, password from kafka_secrets_dir).",
    )
    kafka_password: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=_env("kafka_password", "KAFKA_ADMIN_PASSWORD"),
    )
    kafka_password_file: str = Field(
        default="",
        validation_alias=_env("kafka_password_file", "KAFKA_ADMIN_PASSWORD_FILE"),
        description="A file holding the password (wins over kafka_password).",
    )
    kafka_secrets_dir: str = Field(
        default=".data/infra/principals",
        validation_alias=_env("kafka_secrets_dir", "KAFKA_SECRETS_DIR"),
        description="Where `interlock provision` keeps each service principal's password "
        "(svc-<role>.password, mode 0600) and where a process role reads its own.",
    )
    kafka_ca_file: str = Field(
        default="",
        validation_alias=_env("kafka_ca_file", "KAFKA_CA_FILE"),
        description="PEM of the CA that signed the broker's certificate (SASL_SSL).",
    )
    topic_prefix: str = Field(
        default="", validation_alias=_env("topic_prefix"), pattern=r"^[a-z0-9._-]*$"
    )
    neo4j_uri: str = Field(
        default="bolt://127.0.0.1:7687",
        validation_alias=_env("neo4j_uri", "NEO4J_URI"),
        pattern=r"^(bolt|neo4j)(\+s|\+ssc)?://",
    )
    neo4j_user: str = Field(default="neo4j", validation_alias=_env("neo4j_user", "NEO4J_USER"))
    neo4j_password: SecretStr = Field(
        default=SecretStr(""), validation_alias=_env("neo4j_password", "NEO4J_PASSWORD")
    )
    jwt_issuer: str = Field(default="interlock-local", validation_alias=_env("jwt_issuer"))
    jwt_audience: str = Field(default="interlock", validation_alias=_env("jwt_audience"))
    jwt_key_file: str = Field(
        default=".data/keys/jwt-signing.json",
        validation_alias=_env("jwt_key_file"),
        description="The local issuer's private JWK (EC P-256); its public part is the JWKS.",
    )
    local_issuer_teams: str = Field(
        default="*",
        validation_alias=_env("local_issuer_teams"),
        description="Teams the local issuer may vouch for: '*' every team, a comma list, or "
        "empty to trust only the configured identity providers.",
    )
    oidc_issuers: str = Field(
        default="",
        validation_alias=_env("oidc_issuers"),
        description="The trusted identity providers: a JSON list, or the path of a file holding "
        "one (docs/security.md).",
    )
    oidc_leeway_seconds: int = Field(
        default=10, validation_alias=_env("oidc_leeway_seconds"), ge=0, le=300
    )
    oidc_jwks_min_refresh_seconds: float = Field(
        default=10.0,
        validation_alias=_env("oidc_jwks_min_refresh_seconds"),
        ge=0,
        description="An unknown key id fetches an issuer's keys again at most this often.",
    )
    oidc_jwks_max_age_seconds: float = Field(
        default=600.0, validation_alias=_env("oidc_jwks_max_age_seconds"), gt=0
    )
    step_up_max_age: int = Field(
        default=900,
        validation_alias=_env("step_up_max_age"),
        ge=0,
        description="Seconds since the member authenticated within which a sensitive act is "
        "allowed, unless their issuer says otherwise.",
    )
    token_ttl_seconds: int = Field(
        default=8 * 3600, validation_alias=_env("token_ttl_seconds"), gt=0
    )
    deconfliction_secret: SecretStr = Field(
        default=SecretStr("dev-only-deconfliction-master-secret"),
        validation_alias=_env("deconfliction_secret"),
    )
    master_key: SecretStr = Field(
        default=SecretStr("dev-only-interlock-master-key"),
        validation_alias=_env("master_key"),
        description="Wraps every per-subject data key (crypto-shredding); a long random secret.",
    )
    gateway_host: str = Field(default="127.0.0.1", validation_alias=_env("gateway_host"))
    gateway_port: int = Field(default=8000, validation_alias=_env("gateway_port"), gt=0, lt=65536)
    command_timeout_seconds: float = Field(
        default=5.0, validation_alias=_env("command_timeout_seconds"), gt=0
    )
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        default="at_least_once", validation_alias=_env("processing_guarantee")
    )
    partitions: int = Field(default=6, validation_alias=_env("partitions"), ge=1, le=1000)
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", validation_alias=_env("log_level")
    )
    log_format: Literal["json", "console"] = Field(
        default="json", validation_alias=_env("log_format")
    )

    neo4j_ca_file: str = Field(
        default="",
        validation_alias=_env("neo4j_ca_file", "NEO4J_CA_FILE"),
        description="PEM of the CA that signed Neo4j's Bolt certificate (bolt+s:// URIs).",
    )
    gateway_tls_cert: str = Field(
        default="",
        validation_alias=_env("gateway_tls_cert"),
        description="PEM certificate (chain) the gateway serves HTTPS with; empty: plain HTTP.",
    )
    gateway_tls_key: str = Field(default="", validation_alias=_env("gateway_tls_key"))

    def topic(self, name: str) -> str:
        """The physical topic name for a logical one."""
        return f"{self.topic_prefix}{name}"

    @property
    def kafka_role(self) -> str:
        """The role this process speaks for on Kafka: ``leads`` for ``svc-leads``."""
        return self.kafka_username.removeprefix("svc-") or "interlock"

    def group_id(self, name: str) -> str:
        """A consumer group of this process's role: ``<prefix>interlock-<role>-<name>``, inside
        the group prefix its principal is granted (``services.principals``)."""
        return f"{self.topic_prefix}interlock-{self.kafka_role}-{name}"

    def kafka_secret(self) -> str:
        """The Kafka password: from ``kafka_password_file`` if set, else ``kafka_password``."""
        if self.kafka_password_file:
            try:
                with open(self.kafka_password_file) as f:
                    return f.read().strip()
            except OSError as exc:
                raise ConfigurationError(
                    f"INTERLOCK_KAFKA_PASSWORD_FILE: cannot read {self.kafka_password_file} "
                    f"({exc.strerror})"
                ) from None
        return self.kafka_password.get_secret_value()

    def as_principal(self, principal: str) -> Settings:
        """These settings for another Kafka principal whose password file is in
        ``kafka_secrets_dir`` (a process role's own); unchanged on an unauthenticated broker."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return self
        secret = os.path.join(self.kafka_secrets_dir, f"{principal}.password")
        return self.model_copy(
            update={
                "kafka_username": principal,
                "kafka_password": SecretStr(""),
                "kafka_password_file": secret,
            }
        )


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def read_settings(model: type[SettingsT]) -> SettingsT:
    """Read one settings model from the environment; a bad value stops the process with a
    message naming the variable (``INTERLOCK_<SERVICE>_<FIELD>``), or saying what a check
    across fields found."""
    prefix = model.model_config.get("env_prefix") or "INTERLOCK_"
    try:
        return model()
    except ValidationError as exc:
        problems = [
            f"{_variable(prefix, err['loc'])}: {err['msg']}"
            if err["loc"]
            else str(err["msg"]).removeprefix("Value error, ")
            for err in exc.errors(include_url=False)
        ]
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None


def _variable(prefix: str, loc: tuple[int | str, ...]) -> str:
    """The environment variable an error's location names (a field aliased to its variable
    already carries the prefix)."""
    name = ".".join(str(p) for p in loc).upper()
    return name if name.startswith(prefix) else prefix + name


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Read the shared settings once."""
    return read_settings(Settings)


def use_principal(principal: str) -> Settings:
    """From now on this process speaks for ``principal`` on Kafka (a process role: its own
    ``svc-<role>``, password from ``kafka_secrets_dir``): ``load_settings()`` answers with it too,
    so no code path of the process falls back to the environment's (the admin's) user."""
    chosen = load_settings().as_principal(principal)
    if chosen.kafka_security_protocol != "PLAINTEXT":
        os.environ["INTERLOCK_KAFKA_USERNAME"] = principal
        os.environ["INTERLOCK_KAFKA_PASSWORD_FILE"] = chosen.kafka_password_file
        for name in ("INTERLOCK_KAFKA_PASSWORD", "KAFKA_ADMIN_PASSWORD"):
            os.environ.pop(name, None)
        load_settings.cache_clear()
    return load_settings()
