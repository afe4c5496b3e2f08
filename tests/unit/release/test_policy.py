"""The sharing policy: who sees an event, and what each team sees of a victim."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from events.alerts import AlertLink, AlertRaised, Category, LinkKind, Severity
from events.codec import encode
from events.deconfliction import DeconflictionDetailsDeclined
from events.directory import JitRegistered
from events.handling import HandlingCode, Tlp, victim_pseudonym
from events.identifiers import PersonRole
from events.leads import EntityObserved, LeadSubmitted, LeadTriaged
from events.tasking import InvestigativeAction, TaskLinks, TaskPriority, TaskRequested
from events.topics import (
    ALERT_EVENTS,
    DECONFLICTION_EVENTS,
    DIRECTORY,
    LEAD_COMMANDS,
    LEAD_EVENTS,
    OUTCOMES,
    TASK_EVENTS,
)
from services.admin import jit_record
from services.kit.disclosure import Record
from services.release.policy import (
    Directory,
    decide,
    fed_topics,
    links_of,
    person_entity_id,
    release,
    view_for,
)
from services.release.shares import from_json, share_of, to_json
from tests.unit.release.builders import (
    BG,
    FR,
    JIT,
    NL,
    OTHER_JIT,
    RO,
    T0,
    VICTIM_PHONE,
    details_released,
    envelope,
    hit,
    lead,
    observed_victim,
    observed_victim_phone,
)
from tests.unit.release.builders import (
    DIRECTORY as JITS,
)

TRIAGED = LeadTriaged(lead_id="lead-1", by="anna", assignee="anna", priority="high")


def test_a_record_is_its_originators_alone_by_default() -> None:
    """Nothing is visible to another team unless the originator released it."""
    assert decide(envelope(TRIAGED), JITS).teams == {NL}


def test_a_record_released_to_a_team_of_the_jit_reaches_both_feeds() -> None:
    """Releasability adds exactly the named teams."""
    decision = decide(envelope(TRIAGED, releasable_to={RO}), JITS)
    assert decision.teams == {NL, RO}
    assert decision.withheld == frozenset()


def test_a_team_outside_the_jit_is_withheld_even_when_named() -> None:
    """JIT membership comes from the directory: a named team that is no member sees nothing."""
    decision = decide(envelope(TRIAGED, releasable_to={RO, FR}), JITS)
    assert decision.teams == {NL, RO}
    assert decision.withheld == {FR}


def test_a_jit_the_directory_does_not_know_admits_only_the_originator() -> None:
    """An unknown JIT fails closed: no other team, and the refusal is reported for a re-check."""
    decision = decide(envelope(TRIAGED, releasable_to={RO}, jit="jit-unknown"), JITS)
    assert decision.teams == {NL}
    assert decision.withheld == {RO}


def test_the_directory_follows_jit_records_and_tombstones() -> None:
    """A JIT record replaces the members; a tombstone on its key forgets the JIT."""
    record = jit_record(
        JitRegistered(
            jit_id="jit-x",
            name="X",
            legal_basis="Art. 13 MLA Convention",
            coordinator_team=NL,
            member_teams=(NL, FR),
            starts_on=T0.date(),
        )
    )
    directory = Directory().with_record("jit:jit-x", record)
    assert directory.is_member(FR, "jit-x")
    assert not directory.is_member(RO, "jit-x")
    assert (
        not Directory()
        .with_record("jit:jit-x", record)
        .with_record("jit:jit-x", None)
        .knows("jit-x")
    )


def test_red_records_reach_no_other_feed() -> None:
    """TLP:RED is for named individuals, so no national system of another team files it."""
    assert decide(envelope(TRIAGED, releasable_to={RO, BG}, tlp=Tlp.RED), JITS).teams == {NL}


def test_details_released_later_reach_the_team_they_are_released_to() -> None:
    """A release by its originator widens the audience to the other side of the hit."""
    released = envelope(details_released(by_team=RO, to_team=NL), originator=RO)
    assert decide(released, JITS).teams == {RO, NL}


def test_a_release_of_another_teams_details_grants_nothing() -> None:
    """Only the originator can release its own side: a forged ``by_team`` widens nothing."""
    forged = envelope(details_released(by_team=RO, to_team=BG), originator=NL)
    assert decide(forged, JITS).teams == {NL}


def test_a_cross_jit_hit_reaches_the_holding_team_in_its_own_jit() -> None:
    """A party of a deconfliction record is checked against the JIT the record names it in."""
    cross = hit(registering=NL, holding=FR, holding_jit=OTHER_JIT)
    assert decide(envelope(cross, releasable_to={FR}), JITS).teams == {NL, FR}
    wrong_jit = hit(registering=NL, holding=FR, holding_jit=JIT)
    assert decide(envelope(wrong_jit, releasable_to={FR}), JITS).teams == {NL}


def test_a_declined_release_reaches_both_parties() -> None:
    """A decline names both teams of the hit as parties."""
    declined = DeconflictionDetailsDeclined(
        hit_id=details_released().hit_id, by_team=RO, to_team=FR, by="ioana", declined_at=T0
    )
    assert decide(envelope(declined, originator=RO, releasable_to={FR}), JITS).teams == {RO, FR}


def test_the_originator_sees_its_victim_unchanged() -> None:
    """Victim identity stays whole in the originating team's own feed."""
    env = envelope(lead(), releasable_to={RO})
    assert view_for(env, NL) is env


def test_another_team_sees_the_victim_as_the_shared_pseudonym() -> None:
    """Name, date of birth and nationality give way to the pseudonym the graph shows."""
    view = view_for(envelope(lead(), releasable_to={RO}), RO)
    assert view is not None
    assert isinstance(view.data, LeadSubmitted)
    victim, suspect = view.data.persons
    alias = victim_pseudonym(person_entity_id("lead-1", 0))
    assert (victim.name, victim.latin_name, victim.role) == (alias, alias, PersonRole.VICTIM)
    assert victim.date_of_birth is None
    assert victim.nationality is None
    assert suspect.name == "Ion Popescu"


def test_another_team_gets_no_identifier_of_a_victim() -> None:
    """The victim's phone is withheld; the suspect's IBAN is not."""
    view = view_for(envelope(lead(), releasable_to={RO}), RO)
    assert view is not None
    assert isinstance(view.data, LeadSubmitted)
    assert [i.kind.value for i in view.data.identifiers] == ["iban"]
    assert view.data.identifiers[0].person == 1


def test_the_summary_loses_the_victims_names_and_numbers() -> None:
    """Free text is redacted of the victim's names and identifier values: each becomes her
    pseudonym marker, the one the graph shows."""
    view = view_for(envelope(lead(), releasable_to={RO}), RO)
    assert view is not None
    assert isinstance(view.data, LeadSubmitted)
    marker = view.data.persons[0].name.replace("Victim ", "[victim V-") + "]"
    expected = f"{marker} (born 2001) was made to work; she called from {marker}."
    assert view.data.summary == expected
    text = encode(view).decode()
    assert "Mariana" not in text
    assert "Dumitrescu" not in text
    assert VICTIM_PHONE not in text


def test_an_observed_victim_is_pseudonymous_and_her_identifiers_hidden() -> None:
    """The entity's id gives the pseudonym; an identifier she owns is not shown at all."""
    person = view_for(envelope(observed_victim(), releasable_to={RO}), RO)
    assert person is not None
    assert isinstance(person.data, EntityObserved)
    assert person.data.person is not None
    assert person.data.person.name == victim_pseudonym("ent-victim-1")
    assert view_for(envelope(observed_victim_phone(), releasable_to={RO}), RO) is None
    own = envelope(observed_victim_phone(), releasable_to={RO})
    assert view_for(own, NL) is own


def test_release_lists_each_team_with_its_view() -> None:
    """``release`` combines the decision and the views; a hidden view drops that team only."""
    env = envelope(observed_victim_phone(), releasable_to={RO, BG})
    assert [team for team, _ in release(env, JITS)] == [NL]
    shared = envelope(lead(), releasable_to={RO, BG})
    assert [team for team, _ in release(shared, JITS)] == [BG, NL, RO]


def test_the_release_reads_every_event_topic_and_nothing_else() -> None:
    """Directory, outcomes and command topics are not fed; every context's events are."""
    names = {t.name for t in fed_topics()}
    contexts = {LEAD_EVENTS, DECONFLICTION_EVENTS, ALERT_EVENTS, TASK_EVENTS}
    assert {t.name for t in contexts} <= names
    assert not names & {DIRECTORY.name, OUTCOMES.name, LEAD_COMMANDS.name}


teams = st.sampled_from([NL, RO, BG, FR, "DE-BKA"])


@given(
    originator=teams,
    releasable=st.frozensets(teams, max_size=5),
    tlp=st.sampled_from(list(Tlp)),
    members=st.frozensets(teams, max_size=5),
)
def test_no_feed_beyond_the_audience_and_the_jit(
    originator: str, releasable: frozenset[str], tlp: Tlp, members: frozenset[str]
) -> None:
    """Whatever the releasability and membership, a feed outside both never gets the event."""
    directory = Directory.of({JIT: members})
    event = envelope(TRIAGED, originator=originator, releasable_to=releasable, tlp=tlp)
    decision = decide(event, directory)
    assert originator in decision.teams
    for team in decision.teams - {originator}:
        assert team in releasable
        assert team in members
        assert tlp is not Tlp.RED


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzăîșț", min_size=3, max_size=12).filter(
    lambda n: n != "victim" and not all(c in "abcdef" for c in n)
)


@given(first=names, last=names)
def test_no_victim_name_reaches_another_teams_feed(first: str, last: str) -> None:
    """No word of any victim name is left in the names or the summary another team receives."""
    name = f"{first.capitalize()} {last.capitalize()}"
    data = lead(summary=f"Report about {name}; {last.upper()} is at risk.")
    victim = data.persons[0].model_copy(update={"name": name, "latin_name": None})
    data = data.model_copy(update={"persons": (victim,), "identifiers": data.identifiers[:1]})
    view = view_for(envelope(data, releasable_to={RO}), RO)
    assert view is not None
    assert isinstance(view.data, LeadSubmitted)
    shown = [view.data.summary, *(p.name for p in view.data.persons)]
    shown += [p.latin_name or "" for p in view.data.persons]
    words = {w.lower() for text in shown for w in re.findall(r"\w+", text)}
    assert first not in words
    assert last not in words


def test_amber_strict_and_h2_reach_no_other_teams_feed() -> None:
    """AMBER+STRICT and H2 stay with the receiving team's members: its national system is a
    further dissemination (the disclosure policy's may_feed)."""
    strict = envelope(TRIAGED, releasable_to={RO}, tlp=Tlp.AMBER_STRICT)
    assert decide(strict, JITS).teams == {NL}
    h2 = envelope(TRIAGED, releasable_to={RO}).model_copy(update={"handling": HandlingCode.H2})
    assert decide(h2, JITS).teams == {NL}
    h1 = envelope(TRIAGED, releasable_to={RO}).model_copy(update={"handling": HandlingCode.H1})
    assert decide(h1, JITS).teams == {NL, RO}


def test_a_victims_phone_is_withheld_in_any_written_form() -> None:
    """A phone written with spaces, in national form or with 00 never reaches the feed."""
    national = "0" + VICTIM_PHONE.removeprefix("+40")
    spaced = " ".join(re.findall(r".{1,3}", VICTIM_PHONE))
    summary = f"She uses {spaced}, {national} and 00{VICTIM_PHONE[1:]}."
    view = view_for(envelope(lead(summary=summary), releasable_to={RO}), RO, ("NL", "RO"))
    assert view is not None and isinstance(view.data, LeadSubmitted)
    digits = VICTIM_PHONE[-6:]
    assert digits not in re.sub(r"\D", "", view.data.summary), view.data.summary


def _task_linking(*leads: str) -> TaskRequested:
    return TaskRequested(
        task_id="task-1", at=T0, by="anna", team=NL, jit=JIT, to_team=RO,
        title="Check the flat", description="Check who lives there",
        priority=TaskPriority.NORMAL, links=TaskLinks(leads=leads, operations=("op-unknown",)),
        details=InvestigativeAction(),
    )  # fmt: skip


def _alert_linking(*leads: str) -> AlertRaised:
    return AlertRaised(
        alert_id="alert-1", jit=JIT, severity=Severity.P2, category=Category.SUSPECT_MOVEMENT,
        target_teams=(RO,), summary="Suspect car seen at the border",
        links=(*(AlertLink(kind=LinkKind.LEAD, id=lead) for lead in leads),
               AlertLink(kind=LinkKind.HIT, id="hit-1")),
        raised_by="anna", raising_team=NL, raised_at=T0, coordinator_team=NL,
    )  # fmt: skip


SHARES = {
    "lead-shared": Record.of(NL, {RO}),
    "lead-own": Record.of(NL, ()),
    "lead-red": Record.of(NL, {RO}, tlp=Tlp.RED, readers={"ioana"}),
}


def test_a_tasks_links_name_only_the_leads_the_receiving_feed_may_carry() -> None:
    """Rule 7: a lead never released to RO, a RED lead and an unknown id leave RO's feed record;
    the requesting team's own feed keeps every link."""
    task = envelope(_task_linking("lead-shared", "lead-own", "lead-red", "lead-unknown"),
                    releasable_to={RO}, subject="task-1")  # fmt: skip
    views = dict(release(task, JITS, SHARES))
    assert views[RO].data.links.leads == ("lead-shared",)
    assert views[RO].data.links.operations == ()
    assert views[NL].data.links.leads == ("lead-shared", "lead-own", "lead-red", "lead-unknown")
    assert links_of(task) == {"lead-shared", "lead-own", "lead-red", "lead-unknown", "op-unknown"}


def test_an_alerts_links_to_records_the_feed_may_not_carry_are_dropped() -> None:
    """Rule 7 for alerts: lead links are filtered, links to hits (an id both sides hold) stay."""
    alert = envelope(_alert_linking("lead-shared", "lead-own"), releasable_to={RO},
                     subject="alert-1")  # fmt: skip
    [(_, ro)] = [(t, v) for t, v in release(alert, JITS, SHARES) if t == RO]
    assert [(link.kind, link.id) for link in ro.data.links] == [
        (LinkKind.LEAD, "lead-shared"),
        (LinkKind.HIT, "hit-1"),
    ]


def test_the_share_book_remembers_each_records_sharing() -> None:
    """A lead event leaves its sharing (audience, markings, readers) as the book stores it."""
    submitted = envelope(lead(), releasable_to={RO}, tlp=Tlp.RED, subject="lead-1")
    found = share_of(submitted)
    assert found is not None
    subject, record = found
    assert subject == "lead-1" and record.audience == {NL, RO}
    assert from_json(to_json(record)) == record
    assert share_of(envelope(details_released(), originator=RO)) is None
