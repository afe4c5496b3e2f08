"""Shared plumbing for every Interlock service: settings, logging, Kafka, faust, Neo4j, identity.

Not a service: no domain logic lives here, and services may import it freely.
"""
