"""National systems: their ACLs, the command relay's checks, feed cursors and the contract check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.leads import LeadTriaged, SubmitLead, TriageLead
from events.schemas import all_contracts
from events.topics import DECONFLICTION_COMMANDS, LEAD_COMMANDS
from services.kit.settings import Settings
from services.release.credentials import (
    check_team,
    command_topic_specs,
    grants,
    group_prefix,
    principal_name,
)
from services.release.policy import admit_command, parse_team_command_topic, view_for
from services.release.reader import Cursor, InvalidCursorError
from services.release.subscriber import Contract
from tests.unit.release.builders import NL, RO, T0, envelope, lead

SETTINGS = Settings.model_validate({"INTERLOCK_TOPIC_PREFIX": "t1."})


def test_a_national_system_principal_is_named_after_its_team() -> None:
    """``ns-<team>`` after the prefix; its group ids start with the principal and a dash."""
    assert principal_name(SETTINGS, "RO-DIICOT") == "t1.ns-ro-diicot"
    assert group_prefix(SETTINGS, "RO-DIICOT") == "t1.ns-ro-diicot-"


def test_a_bad_team_code_is_refused_naming_the_option() -> None:
    """A team code that is not one is refused before anything touches the cluster."""
    with pytest.raises(ValueError, match="--team"):
        check_team("ro-diicot")


def test_grants_are_the_own_feed_groups_and_command_topics_only() -> None:
    """READ+DESCRIBE on the feed, READ on the group prefix, WRITE+DESCRIBE on own command topics."""
    rules = {(g.resource, g.name, g.pattern, g.operation) for g in grants(SETTINGS, RO)}
    feed = "t1.interlock.feed.RO-DIICOT"
    assert ("topic", feed, "literal", "read") in rules
    assert ("topic", feed, "literal", "describe") in rules
    assert ("group", "t1.ns-ro-diicot-", "prefixed", "read") in rules
    assert ("topic", "t1.interlock.leads.commands.RO-DIICOT", "literal", "write") in rules
    for resource, name, pattern, operation in rules:
        if resource == "topic":
            assert pattern == "literal"
            assert name == feed or (name.endswith(".RO-DIICOT") and ".commands." in name)
            assert operation in (("read", "describe") if name == feed else ("write", "describe"))
    assert not any(g.operation == "write" and "feed" in g.name for g in grants(SETTINGS, RO))


def test_every_context_has_a_command_topic_per_team() -> None:
    """A team's command topics mirror the shared ones, named ``<context>.commands.<TEAM>``."""
    names = set(command_topic_specs(SETTINGS, NL))
    assert "t1.interlock.leads.commands.NL-KLPD" in names
    assert "t1.interlock.deconfliction.commands.NL-KLPD" in names


def test_team_command_topics_are_parsed_back_to_context_and_team() -> None:
    """The relay reads context and team from the topic name; anything else is no such topic."""
    assert parse_team_command_topic("interlock.leads.commands.NL-KLPD") == (LEAD_COMMANDS, NL)
    assert parse_team_command_topic("interlock.leads.commands") is None
    assert parse_team_command_topic("interlock.leads.commands.nl-klpd") is None
    assert parse_team_command_topic("interlock.nothing.commands.NL-KLPD") is None


def _submit(team: str, actor_team: str) -> SubmitLead:
    from events.envelope import Actor

    data = lead()
    return SubmitLead(
        actor=Actor(member="ns", team=actor_team, roles=("national_system",)),
        lead_id="lead-9",
        idempotency_key="k",
        source=data.source,
        received_at=T0,
        summary="s",
        reliability=data.reliability,
        credibility=data.credibility,
    )


def test_the_relay_admits_a_command_that_speaks_for_the_topics_team() -> None:
    """Originator and actor are the topic's team, and the type belongs to the topic's context."""
    command = envelope(_submit(NL, NL), originator=NL)
    assert admit_command(command, team=NL, context=LEAD_COMMANDS) is None


def test_the_relay_refuses_a_command_in_another_teams_name() -> None:
    """A national system cannot forge another team's originator or actor on its own topic."""
    forged_originator = envelope(_submit(NL, RO), originator=RO)
    reason = admit_command(forged_originator, team=NL, context=LEAD_COMMANDS)
    assert reason is not None
    assert "originator RO-DIICOT" in reason
    forged_actor = envelope(_submit(NL, RO), originator=NL)
    reason = admit_command(forged_actor, team=NL, context=LEAD_COMMANDS)
    assert reason is not None
    assert "actor team RO-DIICOT" in reason


def test_the_relay_refuses_events_and_other_contexts_commands() -> None:
    """Only commands of the topic's own context go on."""
    event = envelope(LeadTriaged(lead_id="l", by="a", assignee="a", priority="high"))
    assert "not a command" in (admit_command(event, team=NL, context=LEAD_COMMANDS) or "")
    from events.envelope import Actor

    triage = TriageLead(
        actor=Actor(member="a", team=NL), lead_id="l", assignee="a", priority="high"
    )
    misplaced = admit_command(envelope(triage), team=NL, context=DECONFLICTION_COMMANDS)
    assert misplaced is not None
    assert "belongs on interlock.leads.commands" in misplaced


@given(st.dictionaries(st.integers(0, 500), st.integers(0, 2**62), max_size=50))
def test_a_cursor_survives_its_round_trip(offsets: dict[int, int]) -> None:
    """What a page hands out decodes to the same positions."""
    cursor = Cursor(offsets)
    assert dict(Cursor.decode(cursor.encode()).offsets) == offsets


@pytest.mark.parametrize(
    "text", ["", "v2.e30", "v1.", "v1.!!!", "v1.WzFd", "v1.eyJhIjoxfQ", "v1.eyIwIjotMX0"]
)
def test_a_damaged_cursor_is_refused(text: str) -> None:
    """Wrong version, bad base64, a list, a non-numeric partition, a negative offset."""
    with pytest.raises(InvalidCursorError):
        Cursor.decode(text)


def test_advancing_a_cursor_moves_one_partition_past_the_record() -> None:
    """The cursor after a record resumes at the next offset of that partition only."""
    assert dict(Cursor({0: 4, 1: 9}).advanced(1, 9).offsets) == {0: 4, 1: 10}


def _contract() -> Contract:
    files = all_contracts()
    payloads = {
        doc["x-interlock-type"]: doc
        for name, doc in files.items()
        if name.startswith("schemas/") and doc.get("x-interlock-kind") == "event"
    }
    return Contract(files["schemas/cloudevent.json"], payloads)


def test_a_pseudonymised_view_still_honours_the_published_contract() -> None:
    """Every team's view of a lead validates against the envelope and payload schemas."""
    contract = _contract()
    shared = envelope(lead(), releasable_to={RO})
    for team in (NL, RO):
        view = view_for(shared, team)
        assert view is not None
        assert contract.problems(view.to_wire()) == []


def test_the_contract_check_names_the_offending_field() -> None:
    """A payload missing a field, or an unknown type, is reported by its path."""
    contract = _contract()
    wire = envelope(lead()).to_wire()
    del wire["data"]["lead_id"]
    assert any(p.startswith("data:") and "lead_id" in p for p in contract.problems(wire))
    assert any(p.startswith("type:") for p in contract.problems({**wire, "type": "x.y"}))
