"""The projection: every domain event into a Neo4j graph, and the one team-scoped query layer."""
