"""The disclosure policy: what a viewer may see of a record, redacted how, marked how. Pure.

Every channel that lets a record leave the platform asks this module, and nothing else: the
graph's team-scoped views (lead, person card, network, paths, search, timeline, tasks' links,
hits, alerts), the exports (FtM, STIX), the feeds (Kafka and HTTP), desk streams and webhooks,
pages and messages. A rule changed here changes every channel; a channel that answers without
it is a defect, and ``tests/unit/kit/test_disclosure_channels.py`` looks for one.

The rules (Directive (EU) 2016/680 in mind: data minimisation, purpose limitation):

1. **Releasability.** A team sees a record when it is the originator or the originator released
   the record to it. Nothing is shared by default.
2. **TLP 2.0** (FIRST). RED: only the members the originator names (``readers``) besides the
   originating team; others of a receiving team get what an unknown id gets, and no feed or
   national system ever carries it. AMBER+STRICT: the receiving team's members only, never a
   national system's feed (a feed files it in another organisation's system). AMBER, GREEN and
   CLEAR: the audience as released.
3. **Handling codes** (SIENA-like). H0: law-enforcement use. H1: carries its condition (not
   evidence in judicial proceedings without the originator's permission) on every read, export
   and feed record. H2: no further dissemination and no action without permission: never on a
   national system's feed, not exportable by another team, shown with its condition.
4. **Victims.** Outside the team that recorded a person as a victim, her names (every spelling
   and script the record holds, any part of three or more letters), date of birth and
   identifiers are replaced in every field, free text included, by her pseudonym
   (``[victim V-174476E3]``). Free text is matched by meaning: names folded to Latin script,
   phone numbers in any written form (national or international, any spacing), e-mails, IBANs,
   document numbers and other identifiers with any separators. Search by any of these finds
   nothing for another team, because search matches the redacted text.
5. **Links.** A record's links to leads, tasks and operations name only those the viewer may
   see (:func:`visible_links`, :func:`fed_links`): a link never says that a hidden record exists.

``docs/disclosure.md`` states the rules once, with the channel × rule table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from typing import Any

import jellyfish
import phonenumbers

from events.handling import HandlingCode, Tlp, victim_pseudonym
from events.identifiers import name_parts

# ------------------------------------------------------------------------------------ viewers


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a member of a team, or a team's national system (its feed)."""

    team: str
    member: str | None = None
    national_system: bool = False

    @classmethod
    def feed(cls, team: str) -> Viewer:
        """A team's national system reading its feed: no named member, a further system."""
        return cls(team=team, national_system=True)


# ----------------------------------------------------------------------------------- markings

CONDITIONS: Mapping[HandlingCode, str | None] = {
    HandlingCode.H0: None,
    HandlingCode.H1: (
        "H1: not to be used as evidence in judicial proceedings without the originator's permission"
    ),
    HandlingCode.H2: (
        "H2: no further dissemination and no action on it without the originator's permission"
    ),
}

TLP_MEANING: Mapping[Tlp, str] = {
    Tlp.CLEAR: "TLP:CLEAR: disclosure is not limited",
    Tlp.GREEN: "TLP:GREEN: limited disclosure, within the community",
    Tlp.AMBER: "TLP:AMBER: limited disclosure, the recipients' organisations only",
    Tlp.AMBER_STRICT: "TLP:AMBER+STRICT: limited disclosure, the recipients' organisation only",
    Tlp.RED: "TLP:RED: for the eyes and ears of the named recipients only",
}


@dataclass(frozen=True)
class Marking:
    """A record's TLP label and handling code, as every channel shows them."""

    tlp: Tlp = Tlp.AMBER
    code: HandlingCode = HandlingCode.H0

    @classmethod
    def of(cls, tlp: str | Tlp | None, code: str | HandlingCode | None) -> Marking:
        return cls(Tlp(tlp) if tlp else Tlp.AMBER, HandlingCode(code) if code else HandlingCode.H0)

    @property
    def condition(self) -> str | None:
        """The handling condition a recipient must respect (None for H0)."""
        return CONDITIONS[self.code]

    @property
    def banner(self) -> str:
        """One readable line for pages, prints and exports: ``TLP:AMBER / H1: not to be…``."""
        return f"TLP:{self.tlp.value} / " + (self.condition or "H0: law-enforcement use")

    def as_dict(self) -> dict[str, Any]:
        return {
            "tlp": self.tlp.value,
            "handling": self.code.value,
            "banner": self.banner,
            "condition": self.condition,
        }


@dataclass(frozen=True)
class Record:
    """What the policy needs of any record: who made it, who it is released to, its marking."""

    originator: str
    audience: frozenset[str]
    marking: Marking = Marking()
    readers: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        originator: str,
        audience: Iterable[str] | None,
        *,
        tlp: str | Tlp | None = None,
        handling: str | HandlingCode | None = None,
        readers: Iterable[str] | None = None,
    ) -> Record:
        return cls(
            originator=originator,
            audience=frozenset(audience or ()) | {originator},
            marking=Marking.of(tlp, handling),
            readers=frozenset(readers or ()),
        )

    @classmethod
    def of_envelope(cls, envelope: Any) -> Record:
        """The record an event's envelope describes: its originator, releasability, TLP,
        handling code and named readers (the CloudEvents attributes every event carries)."""
        return cls.of(
            envelope.originator,
            envelope.releasable_to,
            tlp=envelope.tlp,
            handling=envelope.handling,
            readers=envelope.readers,
        )

    @classmethod
    def of_props(cls, props: Mapping[str, Any]) -> Record | None:
        """The record a graph element's properties describe; None when they name no audience."""
        audience = props.get("audience")
        if audience is None:
            return None
        originator = props.get("originator") or props.get("team") or props.get("raising_team")
        return Record(
            originator=str(originator) if originator else "",
            audience=frozenset(audience),
            marking=Marking.of(props.get("tlp"), props.get("handling")),
            readers=frozenset(props.get("readers") or ()),
        )


def may_see(viewer: Viewer, record: Record) -> bool:
    """Rules 1-3: whether ``viewer`` may see ``record`` at all."""
    if viewer.team == record.originator and not viewer.national_system:
        return True
    if viewer.team not in record.audience:
        return False
    tlp = record.marking.tlp
    if tlp is Tlp.RED:
        return not viewer.national_system and (
            viewer.team == record.originator or viewer.member in record.readers
        )
    further = tlp is Tlp.AMBER_STRICT or record.marking.code is HandlingCode.H2
    return not (viewer.national_system and viewer.team != record.originator and further)


def may_export(viewer: Viewer, record: Record) -> bool:
    """Rule 3: H2 leaves in no export but its originator's; otherwise as :func:`may_see`."""
    if not may_see(viewer, record):
        return False
    return record.marking.code is not HandlingCode.H2 or viewer.team == record.originator


def may_feed(team: str, record: Record) -> bool:
    """Whether ``team``'s national system (its feed) may receive ``record``."""
    if team == record.originator:
        return True
    return may_see(Viewer.feed(team), record)


def fed_links(team: str, links: Iterable[str], records: Mapping[str, Record]) -> tuple[str, ...]:
    """The ids among ``links`` whose record ``team``'s feed may carry; unknown ids are dropped,
    so a link to a record the feed never received does not even say that it exists."""
    return tuple(link for link in links if link in records and may_feed(team, records[link]))


# ------------------------------------------------------------------------------------ victims

MIN_NAME_PART = 3
"""Name parts shorter than this are not redacted on their own (they would blank out words)."""
MIN_FUZZY = 4
"""Name parts shorter than this are matched exactly only, never by sound."""


def victim_marker(entity_id: str) -> str:
    """The pseudonym that stands in free text where a victim's data was."""
    return f"[victim V-{victim_pseudonym(entity_id).removeprefix('Victim ')}]"


MARKER = re.compile(r"\[victim V-[0-9A-Za-z]+\]")
"""A victim marker in redacted text: not content, so search never matches inside it."""


@dataclass(frozen=True)
class Victim:
    """A person recorded as a victim, with what identifies her, and who may know who she is."""

    entity_id: str
    team: str
    names: tuple[str, ...] = ()
    birth_date: date | None = None
    identifiers: tuple[tuple[str, str], ...] = ()
    """(kind, canonical value) pairs."""
    identity_audience: frozenset[str] = frozenset()

    def hidden_from(self, team: str) -> bool:
        return team != self.team and team not in self.identity_audience

    @property
    def marker(self) -> str:
        return victim_marker(self.entity_id)


@lru_cache(maxsize=65_536)
def _parts(word: str) -> tuple[str, ...]:
    return name_parts(word)


def _fold(word: str) -> str:
    return "".join(_parts(word))


@lru_cache(maxsize=65_536)
def _sound(part: str) -> str:
    """A phonetic key, so that one name transliterated two ways is one name (ц/ts, ск/sc)."""
    return str(jellyfish.metaphone(part))


SIMILAR = 0.88
"""Jaro-Winkler similarity above which two name parts are one name: with the same sound, or one
letter apart in a part of six letters or more (Попович read as ``popovich`` is Popovici)."""


def _same_name(part: str, known: str) -> bool:
    if len(part) < MIN_FUZZY or jellyfish.jaro_winkler_similarity(part, known) < SIMILAR:
        return False
    if _sound(part) == _sound(known):
        return True
    return (
        min(len(part), len(known)) >= 6 and jellyfish.damerau_levenshtein_distance(part, known) <= 1
    )


def _national_forms(phone: str) -> list[str]:
    """A phone's national forms (``0`` and the national number, and the bare number), found even
    where the matcher would not call the number valid."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return []
    national = str(number.national_number)
    return [f"0{national}", national] if len(national) >= MIN_PHONE_DIGITS else []


def _date_forms(day: date) -> set[str]:
    d, m, y = day.day, day.month, day.year
    forms = {day.isoformat(), f"{y}/{m:02d}/{d:02d}"}
    for sep in ".-/ ":
        forms |= {f"{d:02d}{sep}{m:02d}{sep}{y}", f"{d}{sep}{m}{sep}{y}"}
        forms |= {f"{m:02d}{sep}{d:02d}{sep}{y}", f"{m}{sep}{d}{sep}{y}"}
    return forms


MIN_PHONE_DIGITS = 6
_SEPARATORS = r"[\s.\-/_()]*"
WORD = re.compile(r"\w+", re.UNICODE)


def _loose(value: str) -> str:
    """A pattern for ``value`` written with any separators between its characters."""
    chars = [c for c in value if c.isalnum() or c in "@+"]
    return _SEPARATORS.join(re.escape(c) for c in chars)


@dataclass(frozen=True)
class Redactor:
    """Replaces the data of victims hidden from one viewer, wherever free text holds it."""

    victims: tuple[Victim, ...] = ()
    regions: tuple[str, ...] = ()
    """Countries whose national phone formats free text may use (the JIT's teams')."""

    @cached_property
    def _names(self) -> dict[str, str]:
        """Folded name part → marker."""
        parts: dict[str, str] = {}
        for victim in self.victims:
            for name in victim.names:
                for part in name_parts(name):
                    if len(part) >= MIN_NAME_PART:
                        parts.setdefault(part, victim.marker)
        return parts

    @cached_property
    def _phones(self) -> dict[str, str]:
        return {
            value: v.marker
            for v in self.victims
            for kind, value in v.identifiers
            if kind == "phone"
        }

    @cached_property
    def _literal(self) -> tuple[re.Pattern[str], tuple[str, ...]] | None:
        """Identifier values with any separators, and birth dates in common written forms."""
        alternatives: list[tuple[str, str]] = []
        for victim in self.victims:
            for kind, value in victim.identifiers:
                if sum(c.isalnum() for c in value) >= 4:
                    alternatives.append((_loose(value), victim.marker))
                    if value.startswith("+"):
                        alternatives.append((_loose("00" + value[1:]), victim.marker))
                if kind == "phone":
                    alternatives += [(_loose(f), victim.marker) for f in _national_forms(value)]
            if victim.birth_date is not None:
                forms = _date_forms(victim.birth_date)
                alternatives += [(re.escape(f), victim.marker) for f in forms]
        if not alternatives:
            return None
        alternatives.sort(key=lambda a: len(a[0]), reverse=True)
        body = "|".join(f"(?P<g{i}>{p})" for i, (p, _) in enumerate(alternatives))
        pattern = re.compile(rf"(?<![\w@])(?:{body})(?![\w@])", re.IGNORECASE)
        return pattern, tuple(m for _, m in alternatives)

    def __bool__(self) -> bool:
        return bool(self.victims)

    def redact(self, text: str | None) -> str | None:
        """``text`` with every hidden victim's data replaced by her pseudonym marker."""
        if not text or not self.victims:
            return text
        text = self._redact_phones(text)
        literal = self._literal
        if literal is not None:
            pattern, markers = literal
            text = pattern.sub(lambda m: markers[int((m.lastgroup or "g0")[1:])], text)
        return self._redact_names(text)

    def _redact_phones(self, text: str) -> str:
        if not self._phones or sum(c.isdigit() for c in text) < MIN_PHONE_DIGITS:
            return text
        spans: list[tuple[int, int, str]] = []
        for region in self.regions or ("ZZ",):
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=0):
                number = phonenumbers.format_number(
                    match.number, phonenumbers.PhoneNumberFormat.E164
                )
                marker = self._phones.get(number)
                if marker is not None:
                    spans.append((match.start, match.end, marker))
        return _replace(text, spans)

    def _redact_names(self, text: str) -> str:
        names = self._names
        if not names:
            return text
        spans: list[tuple[int, int, str]] = []
        for match in WORD.finditer(text):
            folded = _fold(match.group())
            marker = names.get(folded)
            if marker is None and len(folded) >= MIN_NAME_PART:
                parts = _parts(match.group())
                marker = next((names[p] for p in parts if p in names), None)
            if marker is None and len(folded) >= MIN_FUZZY:
                marker = next((m for known, m in names.items() if _same_name(folded, known)), None)
            if marker is not None:
                spans.append((match.start(), match.end(), marker))
        merged: list[tuple[int, int, str]] = []
        for start, end, marker in spans:
            if merged and merged[-1][2] == marker and _only_gap(text[merged[-1][1] : start]):
                merged[-1] = (merged[-1][0], end, marker)
            else:
                merged.append((start, end, marker))
        return _replace(text, merged)

    def redact_all(self, values: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
        """``values`` with each of ``fields`` that holds text redacted."""
        out = dict(values)
        for name in fields:
            value = out.get(name)
            if isinstance(value, str):
                out[name] = self.redact(value)
        return out

    def matches(self, query: str, *texts: str | None) -> bool:
        """Whether ``query`` finds one of ``texts`` as this viewer may read them (redacted)."""
        wanted = _search_key(query)
        if not wanted:
            return False
        return any(
            text and wanted in _search_key(MARKER.sub(" ", self.redact(text) or ""))
            for text in texts
        )


def _only_gap(between: str) -> bool:
    return len(between) <= 3 and not any(c.isalnum() for c in between)


def _replace(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    if not spans:
        return text
    out: list[str] = []
    at = 0
    for start, end, marker in sorted(spans):
        if start < at:
            continue
        out += [text[at:start], marker]
        at = end
    out.append(text[at:])
    return "".join(out)


def _search_key(text: str) -> str:
    """Text folded for search: lower case, any script in Latin letters, spacing collapsed."""
    return " ".join(" ".join(_parts(w)) for w in WORD.findall(text))


@dataclass(frozen=True)
class VictimBook:
    """The victims recorded in one JIT (by any team); a viewer's :class:`Redactor` from them."""

    victims: tuple[Victim, ...] = ()
    regions: tuple[str, ...] = ()
    _by_team: dict[str, Redactor] = field(default_factory=dict, compare=False, repr=False)

    def redactor(self, viewer: Viewer | str) -> Redactor:
        team = viewer.team if isinstance(viewer, Viewer) else viewer
        found = self._by_team.get(team)
        if found is None:
            found = Redactor(tuple(v for v in self.victims if v.hidden_from(team)), self.regions)
            self._by_team[team] = found
        return found


def regions_of(teams: Iterable[str]) -> tuple[str, ...]:
    """Phone regions of the teams' countries: a team code starts with its country (``NL-…``)."""
    return tuple(sorted({t.split("-", 1)[0] for t in teams if re.match(r"^[A-Z]{2}-", t)}))


# ---------------------------------------------------------------------------------- links


def visible_links(
    viewer: Viewer, links: Iterable[str], records: Mapping[str, Record | None]
) -> tuple[str, ...]:
    """The ids among ``links`` whose record ``viewer`` may see; unknown ids are dropped."""
    out = []
    for link in links:
        record = records.get(link)
        if record is not None and may_see(viewer, record):
            out.append(link)
    return tuple(out)


# ---------------------------------------------------------------------------- aggregates

MIN_CELL = 5
"""Rule 5 (indicators, evaluation report): a count of victims, or a figure computed over them,
of 1–4 is not shown outside the team that recorded them — it could single a victim out. 0 is
shown (nobody)."""


def small_cell(count: object) -> bool:
    """Whether a count is a small cell (1 … MIN_CELL − 1) that rule 5 withholds."""
    return isinstance(count, int) and not isinstance(count, bool) and 0 < count < MIN_CELL


def may_see_figures(viewer: Viewer, team: str, *, coordinator: bool) -> bool:
    """Rule 5: a team sees its own figures (and the JIT's aggregate); another team's figures
    only a coordinator of the JIT, never a national system. Numbers only: no record behind one."""
    if viewer.national_system:
        return viewer.team == team
    return viewer.team == team or coordinator
