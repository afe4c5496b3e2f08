"""``interlock provision``: the topics every role needs, the services' Kafka principals and their
ACLs (``services.principals``), and the graph's constraints."""

from __future__ import annotations

from services import roles
from services.kit.settings import Settings


def provision_all(settings: Settings) -> None:
    """Topics from the catalogue and the role registry, and the graph's constraints; idempotent."""
    from services.indicators.store import CONSTRAINTS as INDICATOR_CONSTRAINTS
    from services.kit.graphdb import driver
    from services.kit.kafka import admin_client, provision
    from services.principals import provision_principals
    from services.projection.graph import CONSTRAINTS

    created = provision(settings, roles.topics())
    acls = 0
    if settings.kafka_security_protocol != "PLAINTEXT":
        acls = provision_principals(settings, admin_client(settings))
    statements = (*CONSTRAINTS, *INDICATOR_CONSTRAINTS)
    with driver(settings) as db, db.session() as session:
        for statement in statements:
            session.run(statement).consume()
    print(
        f"provisioned: {len(created)} topics created, {acls} service ACLs and "
        f"{len(statements)} graph constraints ensured"
    )
