"""``interlock provision``: the topics every role needs and the graph's constraints."""

from __future__ import annotations

from services import roles
from services.kit.settings import Settings


def provision_all(settings: Settings) -> None:
    """Topics from the catalogue and the role registry, and the graph's constraints; idempotent."""
    from services.indicators.store import CONSTRAINTS as INDICATOR_CONSTRAINTS
    from services.kit.graphdb import driver
    from services.kit.kafka import provision
    from services.projection.graph import CONSTRAINTS

    created = provision(settings, roles.topics())
    statements = (*CONSTRAINTS, *INDICATOR_CONSTRAINTS)
    with driver(settings) as db, db.session() as session:
        for statement in statements:
            session.run(statement).consume()
    print(
        f"provisioned: {len(created)} topics created, {len(statements)} graph constraints ensured"
    )
