"""The services' Kafka principals and their least-privilege ACLs, derived from the role registry.

Every process role connects as a SCRAM-SHA-512 principal of its own, ``svc-<role>`` (the
gateway as ``svc-gateway``); the admin principal (``KAFKA_ADMIN_USER``, the broker's only super
user) provisions. Each principal may, under the deployment's topic prefix:

- read the topics its role reads (``ProcessRole.topics``, every event topic when
  ``reads_events``, the ``read_prefixes``) and the common ones (the key ring, the directory);
- write the topics it writes (``ProcessRole.writes``, the ``write_prefixes``, which it may also
  create) and the common ones (the key ring, the dead letters);
- create, read and write its own internal topics: faust's changelogs and repartition topics,
  named ``<prefix>interlock-<role>-…``;
- use the consumer groups (and transactional ids) ``<prefix>interlock-<role>…``;

and nothing else: no other topic, no other group, nothing on the cluster. The passwords are
generated once into ``kafka_secrets_dir/<principal>.password`` (mode 0600) and never logged;
a process role reads its own (``Settings.as_principal``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from events import topics as t
from events.topics import TopicSpec
from services import roles
from services.kit.logging import get_logger
from services.kit.settings import Settings

log = get_logger()

ITERATIONS = 4096
TIMEOUT = 30.0


@dataclass(frozen=True)
class Grants:
    """What one principal may do, by logical topic name (the prefix is added when applied)."""

    principal: str
    role: str
    reads: frozenset[str]
    writes: frozenset[str]
    read_prefixes: frozenset[str] = frozenset()
    write_prefixes: frozenset[str] = frozenset()

    def internal_prefix(self, settings: Settings) -> str:
        """faust's changelogs and repartition topics of the role, and its consumer groups."""
        return f"{settings.topic_prefix}interlock-{self.role}"

    def bindings(self, settings: Settings) -> list[AclBinding]:
        user = f"User:{self.principal}"

        def acl(
            kind: ResourceType, name: str, pattern: ResourcePatternType, op: AclOperation
        ) -> AclBinding:
            return AclBinding(kind, name, pattern, user, "*", op, AclPermissionType.ALLOW)

        topic, group, txn = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID
        literal, prefixed = ResourcePatternType.LITERAL, ResourcePatternType.PREFIXED
        found = [acl(topic, settings.topic(n), literal, AclOperation.READ) for n in self.reads]
        found += [acl(topic, settings.topic(n), literal, AclOperation.WRITE) for n in self.writes]
        found += [
            acl(topic, settings.topic(p), prefixed, AclOperation.READ) for p in self.read_prefixes
        ]
        found += [
            acl(topic, settings.topic(p), prefixed, op)
            for p in self.write_prefixes
            for op in (AclOperation.WRITE, AclOperation.CREATE)
        ]
        internal = self.internal_prefix(settings)
        found += [
            acl(topic, f"{internal}-", prefixed, op)
            for op in (
                AclOperation.READ,
                AclOperation.WRITE,
                AclOperation.CREATE,
                AclOperation.DESCRIBE_CONFIGS,
            )
        ]
        found.append(acl(group, internal, prefixed, AclOperation.READ))
        found.append(acl(txn, internal, prefixed, AclOperation.WRITE))
        return found


def _names(specs: Iterable[TopicSpec]) -> frozenset[str]:
    return frozenset(spec.name for spec in specs)


def role_grants(entry: roles.ProcessRole) -> Grants:
    """A worker's grants, read off its registry entry."""
    reads = _names((*entry.topics, *roles.COMMON_READS))
    if entry.reads_events:
        reads |= _names(t.EVENT_TOPICS)
    return Grants(
        principal=roles.principal(entry.name),
        role=entry.name,
        reads=reads,
        writes=_names((*entry.writes, *roles.COMMON_WRITES)),
        read_prefixes=frozenset(entry.read_prefixes),
        write_prefixes=frozenset(entry.write_prefixes),
    )


def gateway_grants() -> Grants:
    """The gateway's: it writes commands, reads outcomes, events and the read models."""
    return Grants(
        principal=roles.principal(roles.GATEWAY),
        role=roles.GATEWAY,
        reads=_names((*t.EVENT_TOPICS, *roles.GATEWAY_READS, *roles.COMMON_READS)),
        writes=_names((*roles.GATEWAY_WRITES, *roles.COMMON_WRITES)),
        read_prefixes=frozenset({t.FEED_PREFIX}),
    )


def all_grants() -> list[Grants]:
    """Every service principal's grants: one per worker role, and the gateway's."""
    return [*(role_grants(r) for r in roles.ROLES if r.worker is not None), gateway_grants()]


def password_file(settings: Settings, principal: str) -> Path:
    return Path(settings.kafka_secrets_dir) / f"{principal}.password"


def _ensure_password(path: Path) -> tuple[str, bool]:
    """The password kept in ``path``, made (mode 0600) if missing; and whether it is new."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        return path.read_text().strip(), False
    password = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    return password, True


def _has_credential(admin: AdminClient, users: list[str]) -> set[str]:
    futures = admin.describe_user_scram_credentials(users)
    assert isinstance(futures, dict)
    found = set()
    for user, future in futures.items():
        try:
            if future.result(TIMEOUT).scram_credential_infos:
                found.add(user)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.RESOURCE_NOT_FOUND:
                raise
    return found


def provision_principals(settings: Settings, admin: AdminClient) -> int:
    """Create the service principals that are missing (password files included) and grant
    each its ACLs under this deployment's prefix; idempotent. Returns the ACLs ensured."""
    grants = all_grants()
    users = [g.principal for g in grants]
    known = _has_credential(admin, users)
    upserts: list[UserScramCredentialAlteration] = []
    for g in grants:
        password, new = _ensure_password(password_file(settings, g.principal))
        if new or g.principal not in known:
            info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS)
            upserts.append(UserScramCredentialUpsertion(g.principal, info, password.encode()))
    if upserts:
        for future in admin.alter_user_scram_credentials(upserts).values():
            future.result(TIMEOUT)
        log.info("service principals created", count=len(upserts))
    bindings = [b for g in grants for b in g.bindings(settings)]
    for future in admin.create_acls(bindings, request_timeout=TIMEOUT).values():
        future.result(TIMEOUT)
    return len(bindings)
