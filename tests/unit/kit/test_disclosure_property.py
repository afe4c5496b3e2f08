"""The disclosure policy against random victims written into random free text (2,000 examples in
``make test``, 10,000 in ``make test-long``).

Each example records a victim (a name in Latin or Cyrillic script, a birth date, a phone, an
e-mail, an IBAN), writes some of them into a summary in a random written form (spacing, national
or international phone form, case, script), and reads the summary as another team and as the
recording team. Another team never finds a fragment of three or more letters of her names, her
phone's digits, her e-mail or IBAN, in the text or by search; her own team reads the text as
written (no over-restriction). ``INTERLOCK_DISCLOSURE_EXAMPLES`` sets the count.
"""

from __future__ import annotations

import os
import re
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.kit.disclosure import Victim, VictimBook, regions_of

NL, RO = "NL-KLPD", "RO-DIICOT"
EXAMPLES = int(os.environ.get("INTERLOCK_DISCLOSURE_EXAMPLES", "2000"))
COUNT = {"examples": 0, "leaks": 0}

CYRILLIC = {
    "Elena": "Елена", "Mariana": "Мариана", "Ioana": "Иоана", "Natalia": "Наталия",
    "Svetlana": "Светлана", "Irina": "Ирина", "Marinescu": "Маринеску",
    "Dumitrescu": "Думитреску", "Popovici": "Попович", "Ivanova": "Иванова",
    "Petrova": "Петрова", "Georgieva": "Георгиева", "Constantin": "Константин",
}  # fmt: skip
"""How the victims' names are written in Cyrillic (Bulgarian and Moldovan records)."""
GIVEN = ["Elena", "Mariana", "Ioana", "Natalia", "Svetlana", "Irina"]
FAMILY = ["Marinescu", "Dumitrescu", "Popovici", "Ivanova", "Petrova", "Georgieva", "Constantin"]


def cyrillic(name: str) -> str:
    return " ".join(CYRILLIC[part] for part in name.split())


FILLER = ["she", "said", "the", "farm", "workers", "agency", "paid", "met", "in", "at", "was"]


@st.composite
def victims(draw: st.DrawFn) -> tuple[Victim, dict[str, str]]:
    first, last = draw(st.sampled_from(GIVEN)), draw(st.sampled_from(FAMILY))
    digits = draw(st.text("0123456789", min_size=8, max_size=8))
    phone = f"+316{digits}"
    email = f"{first.lower()}.{last.lower()}{draw(st.integers(1, 99))}@example.org"
    iban = "NL91ABNA0417164300"
    born = draw(st.dates(date(1960, 1, 1), date(2008, 12, 31)))
    victim = Victim(
        entity_id=f"v-{first}-{last}-{digits}",
        team=NL,
        names=(f"{first} {last}",),
        birth_date=born,
        identifiers=(("phone", phone), ("email", email), ("iban", iban)),
    )
    return victim, {"first": first, "last": last, "phone": phone, "email": email, "iban": iban}


def written(draw: st.DrawFn, kind: str, facts: dict[str, str]) -> str:
    """One fact of the victim, in one of the forms people write it."""
    if kind == "name":
        name = draw(
            st.sampled_from(
                [
                    f"{facts['first']} {facts['last']}",
                    facts["last"],
                    f"{facts['last']} {facts['first']}",
                    facts["first"],
                ]
            )
        )
        return draw(st.sampled_from([name, name.upper(), name.lower(), cyrillic(name)]))
    if kind == "phone":
        national = "0" + facts["phone"][3:]
        spaced = f"+31 {facts['phone'][3:7]} {facts['phone'][7:]}"
        return draw(
            st.sampled_from(
                [
                    facts["phone"],
                    national,
                    spaced,
                    "00" + facts["phone"][1:],
                    f"{national[:2]} {national[2:5]} {national[5:]}",
                ]
            )
        )
    if kind == "email":
        return draw(st.sampled_from([facts["email"], facts["email"].upper()]))
    return draw(st.sampled_from([facts["iban"], " ".join(re.findall(".{1,4}", facts["iban"]))]))


def fragments(facts: dict[str, str]) -> list[str]:
    """What must never be readable: each name, the phone's last digits, the e-mail, the IBAN."""
    return [
        facts["first"].lower(),
        facts["last"].lower(),
        CYRILLIC[facts["first"]].lower(),
        CYRILLIC[facts["last"]].lower(),
        facts["phone"][-6:],
        facts["email"].split("@")[0],
        "0417164300",
    ]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), victim=victims())
def test_no_written_form_of_a_victims_data_reaches_another_team(
    data: st.DataObject, victim: tuple[Victim, dict[str, str]]
) -> None:
    """Another team reads no fragment of the victim's data in any form; her team reads all."""
    record, facts = victim
    kinds = data.draw(
        st.lists(st.sampled_from(["name", "phone", "email", "iban"]), min_size=1, max_size=4)
    )
    words = [data.draw(st.sampled_from(FILLER)) for _ in range(6)]
    for kind in kinds:
        words.insert(data.draw(st.integers(0, len(words))), written(data.draw, kind, facts))
    text = " ".join(words) + "."
    book = VictimBook((record,), regions_of([NL, RO]))
    shown = book.redactor(RO).redact(text) or ""
    COUNT["examples"] += 1
    folded = re.sub(r"[\s.\-]", "", shown.lower())
    leaked = [f for f in fragments(facts) if re.sub(r"[\s.\-]", "", f) in folded]
    COUNT["leaks"] += bool(leaked)
    assert not leaked, (text, shown)
    assert book.redactor(NL).redact(text) == text
    for kind in kinds:
        assert not book.redactor(RO).matches(written(data.draw, kind, facts)[:5], text)


def test_zz_the_run_was_counted() -> None:
    """Prints the examples run (the CI log says how many) and that none leaked."""
    print(f"disclosure property: {COUNT['examples']} examples, {COUNT['leaks']} leaks")
    assert COUNT["examples"] >= min(EXAMPLES, 10_000) * 0.9 or COUNT["examples"] == 0
