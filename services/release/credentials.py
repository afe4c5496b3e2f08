"""National systems' Kafka credentials and ACLs.

One SCRAM-SHA-512 principal per team, ``ns-<team in lower case>`` (after the deployment's topic
prefix), allowed exactly:

- READ and DESCRIBE on its team's feed topic ``interlock.feed.<TEAM>``;
- READ on consumer groups whose id starts with ``<principal>-`` (PREFIXED);
- WRITE and DESCRIBE on its team's own command topics ``interlock.<context>.commands.<TEAM>``.

Per-team command topics rather than WRITE on the shared ones: Kafka does not bind a record's
content to the principal that wrote it, so a national system allowed to write the shared topic
could write a command in another team's name. On its own topic the ACL proves the team, and the
release worker's relay forwards only commands whose originator and actor are that team.

Nothing else: no other topic, no internal topic, no topic creation, no cluster operation
(the authorizer runs with ``allow.everyone.if.no.acl.found=false``).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Literal

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from events.envelope import TEAM_PATTERN
from events.topics import TopicSpec, feed_topic
from services.kit.kafka import admin_client, ensure_topics
from services.kit.logging import get_logger
from services.kit.settings import Settings
from services.release.policy import command_topics, team_command_topic

log = get_logger()

MECHANISM = "SCRAM-SHA-512"
ITERATIONS = 8192
TIMEOUT = 30.0


class CredentialError(RuntimeError):
    """A credential operation that cannot be done; the message says why and what to do."""


def check_team(team: str) -> str:
    """The team code, or ValueError naming the option."""
    if not re.match(TEAM_PATTERN, team):
        raise ValueError(f"--team: {team!r} is not a team code like RO-DIICOT")
    return team


def principal_name(settings: Settings, team: str) -> str:
    """The SCRAM user of ``team``'s national system."""
    return f"{settings.topic_prefix}ns-{check_team(team).lower()}"


def group_prefix(settings: Settings, team: str) -> str:
    """Consumer group ids the national system may use start with this."""
    return principal_name(settings, team) + "-"


def feed_topic_name(settings: Settings, team: str) -> str:
    return settings.topic(feed_topic(check_team(team)).name)


def command_topic_specs(settings: Settings, team: str) -> dict[str, TopicSpec]:
    """``team``'s own command topics by physical name, one per context."""
    check_team(team)
    return {
        settings.topic(team_command_topic(context, team)): TopicSpec(
            team_command_topic(context, team),
            f"Commands of team {team}'s national system to {context.name}; relayed after checks.",
            partitions=context.partitions,
            retention_ms=context.retention_ms,
        )
        for context in command_topics()
    }


@dataclass(frozen=True)
class Grant:
    """One ACL rule of a national system, in words an operator reads."""

    resource: Literal["topic", "group"]
    name: str
    pattern: Literal["literal", "prefixed"]
    operation: Literal["read", "write", "describe"]

    def __str__(self) -> str:
        kind = "prefix" if self.pattern == "prefixed" else "name"
        return f"ALLOW {self.operation.upper():8} {self.resource} {kind} {self.name}"


def grants(settings: Settings, team: str) -> list[Grant]:
    """Everything ``team``'s principal may do, and nothing else."""
    feed = feed_topic_name(settings, team)
    out = [
        Grant("topic", feed, "literal", "read"),
        Grant("topic", feed, "literal", "describe"),
        Grant("group", group_prefix(settings, team), "prefixed", "read"),
    ]
    for name in command_topic_specs(settings, team):
        out.append(Grant("topic", name, "literal", "write"))
        out.append(Grant("topic", name, "literal", "describe"))
    return out


_RESOURCE = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}
_PATTERN = {"literal": ResourcePatternType.LITERAL, "prefixed": ResourcePatternType.PREFIXED}
_OPERATION = {
    "read": AclOperation.READ,
    "write": AclOperation.WRITE,
    "describe": AclOperation.DESCRIBE,
}


def acl_bindings(settings: Settings, team: str) -> list[AclBinding]:
    principal = f"User:{principal_name(settings, team)}"
    return [
        AclBinding(
            _RESOURCE[g.resource],
            g.name,
            _PATTERN[g.pattern],
            principal,
            "*",
            _OPERATION[g.operation],
            AclPermissionType.ALLOW,
        )
        for g in grants(settings, team)
    ]


@dataclass(frozen=True)
class Credentials:
    """What a national system's operator needs, printed once: the password is not kept."""

    team: str
    principal: str
    password: str
    mechanism: str
    group_prefix: str
    feed_topic: str
    command_topics: tuple[str, ...]


class NationalSystems:
    """Issues, rotates and revokes national systems' SCRAM credentials and their ACLs.

    Talks to the cluster through the services' own (super-user) listener.
    """

    def __init__(self, settings: Settings, admin: AdminClient | None = None) -> None:
        self.settings = settings
        self.admin = admin or admin_client(settings)

    def issued(self, team: str) -> bool:
        """Whether ``team``'s principal has a SCRAM credential."""
        user = principal_name(self.settings, team)
        futures = self.admin.describe_user_scram_credentials([user])
        assert isinstance(futures, dict)  # a list of users gives a future per user
        future = futures[user]
        try:
            description = future.result(TIMEOUT)
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.RESOURCE_NOT_FOUND:
                return False
            raise
        return bool(description.scram_credential_infos)

    def issue(self, team: str) -> Credentials:
        """A new principal with its topics and ACLs; refused if the team has one already."""
        if self.issued(team):
            raise CredentialError(
                f"team {team} already has national-system credentials; use rotate to replace "
                "the password or revoke to withdraw them"
            )
        self.ensure_topics(team)
        self.grant(team)
        return self._set_password(team)

    def rotate(self, team: str) -> Credentials:
        """A new password for an existing principal; the old one stops working for new logins."""
        if not self.issued(team):
            raise CredentialError(f"team {team} has no national-system credentials; use issue")
        self.grant(team)
        return self._set_password(team)

    def revoke(self, team: str) -> None:
        """Withdraw the ACLs (effective at once) and replace the password by one nobody knows.

        The credential is overwritten, not deleted: in Kafka 4.0–4.4 deleting a SCRAM user and
        restarting the broker can lose every SCRAM credential (``ScramDelta.apply``), the
        admin's included.
        """
        for future in self.admin.delete_acls([self._filter(team)]).values():
            future.result(TIMEOUT)
        if self.issued(team):
            self._set_password(team)
        log.info("national-system credentials revoked", team=team)

    def ensure_topics(self, team: str) -> list[str]:
        """The team's feed and command topics, created if missing, so it can subscribe at once."""
        specs = {feed_topic_name(self.settings, team): feed_topic(team)}
        specs |= command_topic_specs(self.settings, team)
        return ensure_topics(self.settings, specs, admin=self.admin, timeout=TIMEOUT)

    def grant(self, team: str) -> list[AclBinding]:
        """Create the team's ACLs (idempotent)."""
        bindings = acl_bindings(self.settings, team)
        for future in self.admin.create_acls(bindings, request_timeout=TIMEOUT).values():
            future.result(TIMEOUT)
        return bindings

    def acls(self, team: str) -> list[AclBinding]:
        """The ACLs the cluster holds for ``team``'s principal."""
        found: list[AclBinding] = self.admin.describe_acls(self._filter(team)).result(TIMEOUT)
        return sorted(found, key=lambda b: (b.restype_int, b.name, b.operation_int))

    def _filter(self, team: str) -> AclBindingFilter:
        # None matches any resource name and any host; the stubs type them as str only
        return AclBindingFilter(
            ResourceType.ANY,
            None,  # type: ignore[arg-type]
            ResourcePatternType.ANY,
            f"User:{principal_name(self.settings, team)}",
            None,  # type: ignore[arg-type]
            AclOperation.ANY,
            AclPermissionType.ANY,
        )

    def _set_password(self, team: str) -> Credentials:
        user = principal_name(self.settings, team)
        password = secrets.token_urlsafe(32)
        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS)
        upsert = UserScramCredentialUpsertion(user, info, password.encode())
        for future in self.admin.alter_user_scram_credentials([upsert]).values():
            future.result(TIMEOUT)
        log.info("national-system password set", team=team, principal=user)
        return Credentials(
            team=team,
            principal=user,
            password=password,
            mechanism=MECHANISM,
            group_prefix=group_prefix(self.settings, team),
            feed_topic=feed_topic_name(self.settings, team),
            command_topics=tuple(command_topic_specs(self.settings, team)),
        )
