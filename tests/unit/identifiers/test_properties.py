"""Properties of normalisation over generated input: stable, order-free, and checked against
independent implementations where one exists."""

from __future__ import annotations

import hashlib
import random
import unicodedata
from importlib.metadata import version
from pathlib import Path

import phonenumbers
import pytest
import stdnum.bitcoin
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls
from schwifty import IBAN

from events.identifiers import COUNTRIES, IdentifierKind, name_parts, normalise

K = IdentifierKind
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def stable(kind: IdentifierKind, value: str, country: str | None = None) -> str:
    """Normalise, and check that normalising the result again changes nothing."""
    canonical = normalise(kind, value, country)
    assert normalise(kind, canonical, country) == canonical
    return canonical


def base58check(version: int, payload: bytes) -> str:
    raw = bytes([version]) + payload
    raw += hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    number = int.from_bytes(raw, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = BASE58[digit] + text
    return "1" * (len(raw) - len(raw.lstrip(b"\x00"))) + text


def segwit(version: int, program: bytes, constant: int) -> str:
    """A bc1 address built from the BIP 173 reference algorithm, with a chosen checksum constant."""
    acc, bits, data = 0, 0, [version]
    for byte in program:
        acc, bits = (acc << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    values = [3, 3, 0, 2, 3] + data + [0] * 6  # "bc" expanded
    chk = 1
    for value in values:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ value
        for i, g in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            chk ^= g if (top >> i) & 1 else 0
    polymod = chk ^ constant
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return "bc1" + "".join(BECH32[d] for d in data + checksum)


# -------------------------------------------------------------------------------------- phone

REGIONS = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if r in COUNTRIES)


@pytest.mark.parametrize("region", REGIONS)
def test_every_region_example_number_meets_in_all_formats(region: str) -> None:
    """For every region, a number written nationally, internationally or in E.164 is one number."""
    number = phonenumbers.example_number(region)
    if number is None:
        pytest.skip(f"no example number for {region}")
    formats = phonenumbers.PhoneNumberFormat
    e164 = phonenumbers.format_number(number, formats.E164)
    for style in (formats.NATIONAL, formats.INTERNATIONAL, formats.E164):
        assert stable(K.PHONE, phonenumbers.format_number(number, style), region) == e164
    assert stable(K.PHONE, "00" + e164[1:]) == e164


# -------------------------------------------------------------------------------------- email


@settings(max_examples=300)
@given(st.emails())
def test_generated_emails_are_accepted_and_stable(address: str) -> None:
    """Any syntactically valid address is accepted, lower-cased and stable."""
    assume(len(address) <= 254 and len(address.rpartition("@")[0]) <= 64)
    canonical = stable(K.EMAIL, address)
    assert canonical == canonical.lower()
    assert stable(K.EMAIL, address.upper()) == canonical


# ---------------------------------------------------------------------------------------- url


@settings(max_examples=300)
@given(urls())
def test_generated_urls_are_accepted_and_stable(url: str) -> None:
    """Any http(s) URL is accepted and normalising twice gives the same URL."""
    host = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    assume("." in host.rsplit(":", 1)[0])
    canonical = stable(K.URL, url)
    assert canonical.startswith("https://")
    assert "#" not in canonical


@given(st.permutations(["id=5", "page=2", "utm_source=x", "fbclid=y", "q=a%20b"]))
def test_url_parameter_order_does_not_matter(parameters: list[str]) -> None:
    """Parameters in any order, tracking ones anywhere, give one URL."""
    url = "https://example.com/ad?" + "&".join(parameters)
    assert stable(K.URL, url) == "https://example.com/ad?id=5&page=2&q=a%20b"


# ----------------------------------------------------------------------- printed codes

CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SEPARATORS = [" ", "-", ".", "/", "\u2013", "\u00a0", "\u200b"]


@given(
    st.text(CODE_ALPHABET, min_size=5, max_size=10),
    st.lists(st.tuples(st.integers(0, 10), st.sampled_from(SEPARATORS)), max_size=4),
    st.booleans(),
)
def test_separators_and_case_never_change_a_document_or_plate(
    code: str, inserts: list[tuple[int, str]], lower: bool
) -> None:
    """Any separators anywhere, in any case, leave a document or plate number unchanged."""
    written = code
    for position, separator in inserts:
        written = written[:position] + separator + written[position:]
    if lower:
        written = written.lower()
    assert stable(K.DOCUMENT, written, "RO") == code
    assert stable(K.VEHICLE_PLATE, written, "RO") == code


@pytest.mark.parametrize("country", ["DE", "FR", "RO", "NL", "GB", "IT", "ES", "BG", "GR", "MD"])
def test_generated_ibans_meet_in_print_form(country: str) -> None:
    """An IBAN in groups of four, lower case or compact is one IBAN (schwifty-generated)."""
    rng = random.Random(country)
    for _ in range(20):
        iban = IBAN.random(country_code=country, random=rng)
        compact = iban.compact
        assert stable(K.IBAN, iban.formatted) == compact
        assert stable(K.IBAN, compact.lower()) == compact


@given(st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=20))
def test_bank_accounts_are_stable(account: str) -> None:
    """A bank account, with or without a routing code, normalises to a fixed point."""
    assume(not account[:2].isalpha() or not account[2:4].isdigit())
    stable(K.BANK_ACCOUNT, account)
    stable(K.BANK_ACCOUNT, f"DEUTDEFF:{account}")


# -------------------------------------------------------------------------------------- wallets


@settings(max_examples=200)
@given(st.binary(min_size=20, max_size=20), st.sampled_from([0x00, 0x05]))
def test_generated_bitcoin_base58_addresses_agree_with_stdnum(payload: bytes, version: int) -> None:
    """A generated P2PKH/P2SH address is accepted, as python-stdnum also accepts it."""
    address = base58check(version, payload)
    assert stdnum.bitcoin.is_valid(address)
    assert stable(K.CRYPTO_WALLET, address) == address


@settings(max_examples=200)
@given(st.binary(min_size=20, max_size=20), st.integers(1, 33), st.sampled_from(BASE58))
def test_one_changed_base58_character_is_refused(payload: bytes, position: int, char: str) -> None:
    """A single mistyped character in a base58 address is caught by the checksum."""
    address = base58check(0x00, payload)
    position = min(position, len(address) - 1)
    assume(address[position] != char)
    typo = address[:position] + char + address[position + 1 :]
    assert not stdnum.bitcoin.is_valid(typo)
    with pytest.raises(ValueError, match="not a valid bitcoin address"):
        normalise(K.CRYPTO_WALLET, typo)


@settings(max_examples=200)
@given(st.binary(min_size=20, max_size=20))
def test_generated_tron_addresses_are_accepted(payload: bytes) -> None:
    """A base58check address with Tron's 0x41 version byte is a Tron address."""
    address = base58check(0x41, payload)
    assert address.startswith("T")
    assert len(address) == 34
    assert stable(K.CRYPTO_WALLET, address) == address


@settings(max_examples=200)
@given(st.sampled_from([20, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_segwit_v0_needs_bech32_and_agrees_with_stdnum(program: bytes) -> None:
    """Witness v0 is valid with the bech32 constant and refused with the bech32m one."""
    address = segwit(0, program, 1)
    assert stdnum.bitcoin.is_valid(address)
    assert stable(K.CRYPTO_WALLET, address.upper()) == address
    with pytest.raises(ValueError, match="checksum does not match"):
        normalise(K.CRYPTO_WALLET, segwit(0, program, 0x2BC830A3))


@settings(max_examples=200)
@given(st.integers(1, 16), st.binary(min_size=2, max_size=40))
def test_segwit_v1_and_later_need_bech32m(version: int, program: bytes) -> None:
    """Witness v1–16 (taproot and later) are valid with bech32m and refused with bech32."""
    assert stable(K.CRYPTO_WALLET, segwit(version, program, 0x2BC830A3))
    with pytest.raises(ValueError, match="checksum does not match"):
        normalise(K.CRYPTO_WALLET, segwit(version, program, 1))


# ----------------------------------------------------------------------------- handles, text


@given(
    st.sampled_from(["telegram", "Telegram", "TG", "tg"]),
    st.text(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.", min_size=1, max_size=30
    ),
    st.integers(0, 3),
)
def test_handles_meet_whatever_the_at_signs_and_case(platform: str, handle: str, ats: int) -> None:
    """Platform alias, case and leading @ signs never make another handle."""
    assert stable(K.HANDLE, f"{platform}:{'@' * ats}{handle}") == f"telegram:{handle.lower()}"


@settings(max_examples=300)
@given(st.text(min_size=1, max_size=80))
def test_addresses_are_stable_ascii(text: str) -> None:
    """Any text that makes an address key makes a stable, lower-case ASCII one."""
    try:
        canonical = stable(K.ADDRESS, text)
    except ValueError:
        return
    assert canonical.isascii()
    assert canonical == canonical.lower()
    assert "  " not in canonical
    assert canonical == canonical.strip()


@settings(max_examples=300)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4), st.randoms())
def test_name_parts_ignore_word_order(words: list[str], rng: random.Random) -> None:
    """The parts of a name do not depend on the order its words are written in."""
    shuffled = list(words)
    rng.shuffle(shuffled)
    assert name_parts(" ".join(words)) == name_parts(" ".join(shuffled))
    assert name_parts(" ".join(words)) == tuple(sorted(name_parts(" ".join(words))))


@given(st.text(min_size=1, max_size=40))
def test_name_parts_are_plain_ascii(name: str) -> None:
    """Name parts are lower-case ASCII letters and digits, whatever the script."""
    for part in name_parts(name):
        assert part.isascii()
        assert part.isalnum()
        assert part == part.lower()


# ---------------------------------------------------------------------------- contract pins


def test_the_versions_the_contract_names_are_the_ones_installed() -> None:
    """Upgrading a library the recipe depends on fails here until the contract is reviewed."""
    contract = (Path(__file__).parents[3] / "contracts" / "normalisation.md").read_text("utf-8")
    installed = {
        "Unicode character database": unicodedata.unidata_version,
        "phonenumbers": version("phonenumbers"),
        "schwifty": version("schwifty"),
        "anyascii": version("anyascii"),
        "idna": version("idna"),
        "pycountry": version("pycountry"),
    }
    rows = [line for line in contract.splitlines() if line.startswith("| ")]
    for name, pinned in installed.items():
        row = next(line for line in rows if name in line)
        stated = row.strip(" |").split(" | ")[-1].split()[0]
        assert stated == pinned, f"{name}: the contract says {stated}, {pinned} is installed"
