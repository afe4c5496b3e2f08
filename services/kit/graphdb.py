"""The Neo4j driver, configured once per process from settings."""

from __future__ import annotations

from typing import Any

from neo4j import (
    AsyncDriver,
    AsyncGraphDatabase,
    Driver,
    GraphDatabase,
    NotificationDisabledClassification,
    TrustCustomCAs,
)

from services.kit.settings import Settings

QUIET = [NotificationDisabledClassification.UNRECOGNIZED]
"""Notifications the server need not send: "property key does not exist" fires for every read
of a property no node has yet (a fresh graph's checkpoints, an optional property), which is
expected here; deprecations and performance hints stay on."""


def tls(settings: Settings) -> dict[str, Any]:
    """Bolt over TLS, the server's certificate verified against ``neo4j_ca_file`` (the local CA
    of deploy/certs.sh), when one is set; a ``bolt+s://`` URI uses the system's CAs instead."""
    if not settings.neo4j_ca_file:
        return {}
    return {"encrypted": True, "trusted_certificates": TrustCustomCAs(settings.neo4j_ca_file)}


def async_driver(settings: Settings) -> AsyncDriver:
    return AsyncGraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        max_connection_pool_size=50,
        notifications_disabled_classifications=QUIET,
        **tls(settings),
    )


def driver(settings: Settings) -> Driver:
    return GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        notifications_disabled_classifications=QUIET,
        **tls(settings),
    )
