"""Entities as value types: identifiers and persons, normalised so that one identifier written
two ways is one identifier. Normalisation is part of the catalogue (not of one service) because
the deconfliction token recipe, published to national systems, starts from it.

The rules are written out, with examples, in ``contracts/normalisation.md``; a unit test runs every
example of that document against this module, so the two cannot drift apart.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import string
import unicodedata
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated, Self

import idna
import phonenumbers
import pycountry
from anyascii import anyascii
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException


class IdentifierKind(StrEnum):
    """What an identifier is; it decides the normalisation rule and whether a country scopes it."""

    PHONE = "phone"
    EMAIL = "email"
    DOCUMENT = "document"
    IBAN = "iban"
    BANK_ACCOUNT = "bank_account"
    CRYPTO_WALLET = "crypto_wallet"
    VEHICLE_PLATE = "vehicle_plate"
    HANDLE = "handle"
    URL = "url"
    ADDRESS = "address"


# --------------------------------------------------------------------------------------- countries

COUNTRIES: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}
"""ISO 3166-1 alpha-2 codes, plus XK (Kosovo, the user-assigned code the EU and Europol use)."""

COUNTRY_ALIASES: dict[str, str] = {"UK": "GB", "EL": "GR"}
"""Codes ISO 3166 reserves for these countries and EU documents use; accepted and mapped."""


def country_code(value: str) -> str:
    """The ISO 3166-1 alpha-2 code for ``value`` (case and EU aliases forgiven), so teams match."""
    code = value.strip().upper()
    code = COUNTRY_ALIASES.get(code, code)
    if code not in COUNTRIES:
        raise ValueError(f"unknown country code {value!r} (expected ISO 3166-1 alpha-2, e.g. RO)")
    return code


def _country_before(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return country_code(value)
    except ValueError as exc:
        raise PydanticCustomError("country_code", "{reason}", {"reason": str(exc)}) from exc


CountryCode = Annotated[
    str, BeforeValidator(_country_before), StringConstraints(pattern=r"^[A-Z]{2}$")
]
"""An ISO 3166-1 alpha-2 country code, validated against the ISO list."""

COUNTRY_SCOPED: frozenset[IdentifierKind] = frozenset(
    {IdentifierKind.DOCUMENT, IdentifierKind.VEHICLE_PLATE}
)
"""Kinds whose number is only unique within the issuing country: the country is part of the key."""

_NEEDS_COUNTRY = {
    IdentifierKind.DOCUMENT: "document needs its issuing country",
    IdentifierKind.VEHICLE_PLATE: "vehicle plate needs its registration country",
}


# --------------------------------------------------------------------------------- common steps


_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})


def _prepare(value: str) -> str:
    """NFKC; invisible characters (format, control but not whitespace, surrogate) gone; trimmed."""
    text = unicodedata.normalize("NFKC", value)
    return "".join(
        ch for ch in text if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE
    ).strip()


_HOMOGLYPHS = str.maketrans(
    {
        # Cyrillic capitals that look like Latin ones (the letters Cyrillic-script plates use)
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
        "С": "C", "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
        # Greek capitals that look like Latin ones (the letters Greek plates use)
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    }
)  # fmt: skip


def _is_separator(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Pd" or ch in "./"


def _code(value: str) -> str:
    """Letters and digits of a printed code: upper-cased, accents and look-alikes made Latin."""
    text = _prepare(value).upper()
    text = "".join(
        ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn"
    )
    text = text.translate(_HOMOGLYPHS)
    return "".join(ch for ch in text if not _is_separator(ch))


def _check_alnum(code: str, what: str, low: int, high: int) -> str:
    for ch in code:
        if not ("A" <= ch <= "Z" or "0" <= ch <= "9"):
            raise ValueError(f"{what} has a character that is not a Latin letter or digit: {ch!r}")
    if not low <= len(code) <= high:
        raise ValueError(f"{what} must have {low} to {high} letters and digits, not {len(code)}")
    return code


def _is_syllabic(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(
        ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "HANGUL SYLLABLE")
    )


def _latin(text: str) -> str:
    """ASCII transliteration; Han and Hangul syllables kept apart so names split into syllables."""
    return "".join(f" {anyascii(ch)} " if _is_syllabic(ch) else anyascii(ch) for ch in text)


# ------------------------------------------------------------------------------------- per kind


def _phone(value: str, country: str | None) -> str:
    text = _prepare(value)
    if country is None and text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException as exc:
        kind = phonenumbers.NumberParseException
        if exc.error_type == kind.INVALID_COUNTRY_CODE:
            if text.startswith("+"):
                raise ValueError("not a phone number: unknown country calling code") from exc
            if country is None:
                raise ValueError(
                    "phone number without a +country code needs the country it was written in"
                ) from exc
            raise ValueError(
                f"no phone numbering plan for region {country}; write the number with its "
                "+country code"
            ) from exc
        reason = {
            kind.NOT_A_NUMBER: "not a phone number",
            kind.TOO_SHORT_AFTER_IDD: "phone number too short",
            kind.TOO_SHORT_NSN: "phone number too short",
            kind.TOO_LONG: "phone number too long",
        }.get(exc.error_type, "not a phone number")
        raise ValueError(reason) from exc
    if not phonenumbers.is_valid_number(number):
        if country is not None and not text.startswith("+"):
            region = country
        else:
            region = phonenumbers.region_code_for_country_code(number.country_code or 0)
        if region in (phonenumbers.UNKNOWN_REGION, "001"):
            raise ValueError(f"not a valid phone number for calling code +{number.country_code}")
        raise ValueError(f"not a valid phone number for region {region}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_ATEXT = frozenset(string.ascii_lowercase + string.digits + "!#$%&'*+/=?^_`{|}~-")
_LDH_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _domain(domain: str, *, allow_underscore: bool, what: str) -> str:
    """A host name in ASCII: lower-cased; internationalised names to punycode (IDNA 2008/UTS 46)."""
    domain = domain.removesuffix(".")
    if domain.isascii():
        domain = domain.lower()
    else:
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"not a valid {what}: {exc}") from exc
    labels = domain.split(".")
    if len(labels) < 2:
        raise ValueError(f"not a valid {what}: {domain!r} has no dot")
    for label in labels:
        checked = label.replace("_", "a") if allow_underscore else label
        if not _LDH_LABEL.match(checked):
            raise ValueError(f"not a valid {what}: bad label {label!r} in {domain!r}")
    if labels[-1].isdigit():
        raise ValueError(f"not a valid {what}: {domain!r} ends in a number")
    if len(domain) > 253:
        raise ValueError(f"not a valid {what}: longer than 253 characters")
    return domain


def _email(value: str) -> str:
    text = _prepare(value)
    if text.endswith(">") and "<" in text:
        text = text[text.rfind("<") + 1 : -1].strip()
    if text[:7].lower() == "mailto:":
        text = text[7:].strip()
    text = text.lower()
    local, at, domain = text.rpartition("@")
    if not at:
        raise ValueError("not an email address: no @")
    if not domain:
        raise ValueError("not an email address: nothing after the @")
    if not local:
        raise ValueError("not an email address: nothing before the @")
    if len(local) > 64:
        raise ValueError("not an email address: more than 64 characters before the @")
    for ch in local:
        international = not ch.isascii() and unicodedata.category(ch)[0] in "LMN"
        if ch != "." and ch not in _ATEXT and not international:
            raise ValueError(f"not an email address: {ch!r} is not allowed before the @")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValueError("not an email address: misplaced dot before the @")
    address = f"{local}@{_domain(domain, allow_underscore=False, what='email domain')}"
    if len(address) > 254:
        raise ValueError("not an email address: longer than 254 characters")
    return address


def _document(value: str, country: str | None) -> str:
    if country is None:
        raise ValueError(_NEEDS_COUNTRY[IdentifierKind.DOCUMENT])
    return _check_alnum(_code(value), "document number", 5, 20)


def _iban(value: str) -> str:
    code = _code(value)
    code = code.removeprefix("IBAN").removeprefix(":")
    try:
        return IBAN(code).compact
    except SchwiftyException as exc:
        reason = str(exc)
        raise ValueError(f"not a valid IBAN: {reason[:1].lower()}{reason[1:]}") from exc


_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")


def _bank_account(value: str) -> str:
    code = _code(value)
    parts = code.split(":")
    if len(parts) > 2:
        raise ValueError("bank account has more than one ':'; write it as ROUTING:ACCOUNT")
    account = _check_alnum(parts[-1], "bank account number", 4, 34)
    if len(parts) == 1:
        try:
            IBAN(account)
        except SchwiftyException:
            return account
        raise ValueError("bank account is an IBAN; submit it as kind iban")
    routing = _check_alnum(parts[0], "bank routing code (BIC, sort code, …)", 3, 11)
    if _BIC.match(routing):
        if routing[4:6] not in COUNTRIES:
            raise ValueError(f"BIC {routing} has an unknown country code {routing[4:6]!r}")
        if len(routing) == 11 and routing.endswith("XXX"):
            routing = routing[:8]
    return f"{routing}:{account}"


_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3


def _base58check(address: str, what: str) -> bytes:
    """The payload of a base58check string (25 bytes for the addresses accepted here)."""
    number = 0
    for ch in address:
        digit = _BASE58.find(ch)
        if digit < 0:
            raise ValueError(f"not a valid {what} address: {ch!r} is not a base58 character")
        number = number * 58 + digit
    zeros = len(address) - len(address.lstrip("1"))
    raw = b"\x00" * zeros + (number.to_bytes((number.bit_length() + 7) // 8, "big"))
    if len(raw) != 25:
        raise ValueError(f"not a valid {what} address: wrong length")
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise ValueError(f"not a valid {what} address: checksum does not match (a typo?)")
    return payload


def _bech32_polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for value in values:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ value
        for i, g in enumerate(generator):
            if (top >> i) & 1:
                chk ^= g
    return chk


def _bitcoin_segwit(address: str) -> str:
    """A bech32 (witness v0) or bech32m (v1+, taproot) mainnet address, per BIP 173 and 350."""
    if address != address.lower() and address != address.upper():
        raise ValueError("not a valid bitcoin address: bech32 mixes upper and lower case")
    address = address.lower()
    if len(address) > 90:
        raise ValueError("not a valid bitcoin address: longer than 90 characters")
    data_part = address[3:]
    data: list[int] = []
    for ch in data_part:
        digit = _BECH32.find(ch)
        if digit < 0:
            raise ValueError(f"not a valid bitcoin address: {ch!r} is not a bech32 character")
        data.append(digit)
    if len(data) < 7:
        raise ValueError("not a valid bitcoin address: too short")
    hrp = "bc"
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    residue = _bech32_polymod(expanded + data)
    version = data[0]
    if version > 16:
        raise ValueError("not a valid bitcoin address: witness version above 16")
    if residue != (_BECH32_CONST if version == 0 else _BECH32M_CONST):
        raise ValueError("not a valid bitcoin address: checksum does not match (a typo?)")
    accumulator, bits, program = 0, 0, bytearray()
    for digit in data[1:-6]:
        accumulator = (accumulator << 5) | digit
        bits += 5
        if bits >= 8:
            bits -= 8
            program.append((accumulator >> bits) & 0xFF)
    if bits >= 5 or accumulator & ((1 << bits) - 1):
        raise ValueError("not a valid bitcoin address: bad padding")
    if not 2 <= len(program) <= 40 or (version == 0 and len(program) not in (20, 32)):
        raise ValueError("not a valid bitcoin address: wrong witness program length")
    return address


_ETHEREUM = re.compile(r"^0[xX][0-9a-fA-F]{40}$")


def _crypto_wallet(value: str) -> str:
    text = "".join(_prepare(value).split())
    if text[:2] in ("0x", "0X"):
        if not _ETHEREUM.match(text):
            raise ValueError("not a valid ethereum address: expected 0x and 40 hex digits")
        return "0x" + text[2:].lower()
    if text[:3].lower() == "bc1":
        return _bitcoin_segwit(text)
    if text[:1] in ("1", "3"):
        version = _base58check(text, "bitcoin")[0]
        if version not in (0x00, 0x05):
            raise ValueError("not a valid bitcoin address: not a mainnet P2PKH or P2SH address")
        return text
    if text[:1] == "T":
        if len(text) != 34:
            raise ValueError("not a valid tron address: expected 34 characters")
        if _base58check(text, "tron")[0] != 0x41:
            raise ValueError("not a valid tron address: wrong version byte")
        return text
    raise ValueError(
        "not a recognised wallet address: expected bitcoin (1…, 3… or bc1…), "
        "ethereum (0x + 40 hex digits) or tron (T…, 34 characters)"
    )


def _vehicle_plate(value: str, country: str | None) -> str:
    if country is None:
        raise ValueError(_NEEDS_COUNTRY[IdentifierKind.VEHICLE_PLATE])
    return _check_alnum(_code(value), "vehicle plate", 2, 10)


PLATFORM_ALIASES: dict[str, str] = {
    "tg": "telegram",
    "ig": "instagram",
    "fb": "facebook",
    "twitter": "x",
    "vkontakte": "vk",
}
"""Other names of one platform, so that one account gets one key."""

_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")


def _handle(value: str) -> str:
    text = _prepare(value)
    platform, colon, handle = text.partition(":")
    if not colon or not platform.strip():
        raise ValueError("handle needs its platform, written platform:handle (telegram:@name)")
    platform = platform.strip().lower()
    platform = PLATFORM_ALIASES.get(platform, platform)
    if not _PLATFORM.match(platform):
        raise ValueError(f"handle platform {platform!r} is not a short name like telegram")
    handle = handle.strip().lstrip("@").lower()
    if not handle:
        raise ValueError("handle is empty after its platform")
    if any(ch.isspace() for ch in handle):
        raise ValueError("handle contains a space")
    if "/" in handle:
        raise ValueError("handle is a link; submit links as kind url")
    if len(handle) > 100:
        raise ValueError("handle is longer than 100 characters")
    return f"{platform}:{handle}"


_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
_HEX = frozenset(string.hexdigits)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
TRACKING_PARAMETERS: frozenset[str] = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "igshid",
        "mc_cid", "mc_eid", "yclid", "twclid", "ttclid",
    }
)  # fmt: skip
"""Query parameters (compared lower-cased, besides every ``utm_*``) that only track a click."""


def _percent(text: str, safe: frozenset[str]) -> str:
    """One spelling of percent-encoding: unreserved characters bare, all others %XX upper-case."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%" and len(text) >= i + 3 and text[i + 1] in _HEX and text[i + 2] in _HEX:
            byte = int(text[i + 1 : i + 3], 16)
            out.append(chr(byte) if chr(byte) in _UNRESERVED else f"%{byte:02X}")
            i += 3
            continue
        if ch in safe:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    kept: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == ".":
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    return "/" + "/".join(kept)


def _host(host: str) -> str:
    if host.startswith("[") and host.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError as exc:
            raise ValueError(f"not a valid URL: bad IPv6 address {host!r}") from exc
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    return _domain(host, allow_underscore=True, what="URL host")


def _url(value: str) -> str:
    text = _prepare(value)
    scheme = _SCHEME.match(text)
    if scheme and not text[scheme.end() : scheme.end() + 1].isdigit():
        if scheme.group(1).lower() not in ("http", "https"):
            raise ValueError(f"not an http or https URL: scheme {scheme.group(1).lower()!r}")
        rest = text[scheme.end() :].lstrip("/")
    else:
        rest = text.lstrip("/")  # no scheme (example.com:8080/ad is a host and port)
    rest = rest.partition("#")[0]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, rest = rest[:cut], rest[cut:]
    path, _, query = rest.partition("?")
    hostport = authority.rpartition("@")[2]
    if hostport.startswith("["):
        host, _, port = hostport.partition("]")
        host += "]"
        port = port.removeprefix(":")
    else:
        host, _, port = hostport.partition(":")
    if not host:
        raise ValueError("not a valid URL: no host")
    host = _host(host)
    if port and not port.isdigit():
        raise ValueError(f"not a valid URL: port {port!r} is not a number")
    if port and int(port) > 65535:
        raise ValueError(f"not a valid URL: port {port} is above 65535")
    netloc = host if not port or int(port) in (80, 443) else f"{host}:{int(port)}"
    path = _remove_dot_segments(_percent(path, _PATH_SAFE) or "/")
    path = path.rstrip("/") or "/"
    pairs = [_percent(p, _QUERY_SAFE) for p in query.split("&") if p]
    pairs = [p for p in pairs if not _is_tracking(p.partition("=")[0])]
    pairs.sort(key=lambda p: p.partition("=")[0])
    return f"https://{netloc}{path}" + ("?" + "&".join(pairs) if pairs else "")


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in TRACKING_PARAMETERS


def _address(value: str) -> str:
    text = _latin(_prepare(value)).lower()
    text = text.replace("'", "").replace("`", "")
    words = re.findall(r"[a-z0-9]+", text)
    if not words:
        raise ValueError("address has no letters or digits")
    return " ".join(words)


_RULES: dict[IdentifierKind, Callable[[str, str | None], str]] = {
    IdentifierKind.PHONE: _phone,
    IdentifierKind.EMAIL: lambda v, _c: _email(v),
    IdentifierKind.DOCUMENT: _document,
    IdentifierKind.IBAN: lambda v, _c: _iban(v),
    IdentifierKind.BANK_ACCOUNT: lambda v, _c: _bank_account(v),
    IdentifierKind.CRYPTO_WALLET: lambda v, _c: _crypto_wallet(v),
    IdentifierKind.VEHICLE_PLATE: _vehicle_plate,
    IdentifierKind.HANDLE: lambda v, _c: _handle(v),
    IdentifierKind.URL: lambda v, _c: _url(v),
    IdentifierKind.ADDRESS: lambda v, _c: _address(v),
}


def normalise(kind: IdentifierKind, value: str, country: str | None = None) -> str:
    """The canonical form of an identifier; raises ValueError saying why it is invalid."""
    kind = IdentifierKind(kind)
    region = country_code(country) if country is not None else None
    if not _prepare(value):
        raise ValueError(f"empty {kind.value}")
    return _RULES[kind](value, region)


MAX_VALUE_LENGTH = 512
"""Longest value, written or canonical (percent-encoding and transliteration can lengthen one)."""

MAX_LATIN_NAME_LENGTH = 1024


def _custom_error(exc: ValueError) -> PydanticCustomError:
    """The reason as pydantic's message, without its "Value error, " prefix."""
    return PydanticCustomError("identifier", "{reason}", {"reason": str(exc)})


class Identifier(BaseModel):
    """A normalised identifier. ``value`` is canonical after validation.

    ``country`` is validated before ``value`` because the canonical value can depend on it (the
    default region of a phone number); an error in either is reported at its own field.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: IdentifierKind
    country: CountryCode | None = Field(
        default=None,
        validate_default=True,
        description="Issuing country (document, vehicle plate: required) or the country where "
        "the value was written down (default region of a phone number without +).",
    )
    value: str = Field(min_length=1, max_length=MAX_VALUE_LENGTH)
    person: int | None = Field(default=None, ge=0, description="Index of the person it belongs to.")

    @field_validator("country")
    @classmethod
    def _country_when_scoped(cls, country: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if country is None and kind in _NEEDS_COUNTRY:
            raise PydanticCustomError("identifier", _NEEDS_COUNTRY[kind])
        return country

    @field_validator("value")
    @classmethod
    def _canonical(cls, value: str, info: ValidationInfo) -> str:
        if "kind" not in info.data or "country" not in info.data:
            return value  # the kind or country is invalid and reported on its own
        try:
            canonical = normalise(info.data["kind"], value, info.data["country"])
        except ValueError as exc:
            raise _custom_error(exc) from exc
        if len(canonical) > MAX_VALUE_LENGTH:
            raise PydanticCustomError(
                "identifier",
                f"canonical form is longer than {MAX_VALUE_LENGTH} characters",
            )
        return canonical

    @property
    def key(self) -> str:
        """Canonical identity of the identifier across leads and teams: ``kind:scope:value``."""
        scope = self.country if self.kind in COUNTRY_SCOPED and self.country else ""
        return f"{self.kind.value}:{scope}:{self.value}"


class PersonRole(StrEnum):
    """What a person is in one case: a victim in one case can be a suspect in another."""

    SUSPECT = "suspect"
    VICTIM = "victim"
    WITNESS = "witness"
    UNKNOWN = "unknown"


def _title(text: str) -> str:
    """Capitalise words written all in one case; leave deliberate mixed case (McDonald) alone."""
    return re.sub(
        r"[A-Za-z]+",
        lambda m: m[0].capitalize() if m[0].islower() or m[0].isupper() else m[0],
        text,
    )


def _fold(text: str) -> str:
    """A name as written (NFC, not NFKC), invisible characters gone, whitespace folded."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE)
    return " ".join(text.split())


def name_parts(name: str) -> tuple[str, ...]:
    """Order-free parts of a name in any script, so that "Popescu Ion" meets "Ion Popescu"."""
    text = _latin(_prepare(name)).lower().replace("'", "").replace("`", "")
    return tuple(sorted(re.findall(r"[a-z0-9]+", text)))


class Person(BaseModel):
    """A person as a lead mentions them; the role is per case, not a type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=256, description="As written, in any script.")
    latin_name: str | None = Field(
        default=None,
        max_length=MAX_LATIN_NAME_LENGTH,
        description="Latin-script form; transliterated from name when not given.",
    )
    date_of_birth: date | None = None
    nationality: CountryCode | None = None
    role: PersonRole = PersonRole.UNKNOWN

    @field_validator("name")
    @classmethod
    def _name_has_letters(cls, name: str) -> str:
        folded = _fold(name)
        if not any(ch.isalpha() for ch in folded):
            raise PydanticCustomError("person_name", "name has no letters")
        return folded

    @field_validator("latin_name")
    @classmethod
    def _latin_folded(cls, latin_name: str | None) -> str | None:
        return (_fold(latin_name) or None) if latin_name is not None else None

    @model_validator(mode="after")
    def _transliterate(self) -> Self:
        if self.latin_name is None:
            latin = _title(" ".join(_latin(_prepare(self.name)).split()))
            latin = latin[:MAX_LATIN_NAME_LENGTH].rstrip()
            if latin:
                object.__setattr__(self, "latin_name", latin)
        return self


def person_key(person: Person) -> str:
    """Exact identity of a person across leads and teams: ``person:date_of_birth:name parts``.

    The parts come from ``latin_name``: the team's own Latin spelling (a passport's) when given,
    which meets other teams' Latin records better than a mechanical transliteration does.
    """
    born = person.date_of_birth.isoformat() if person.date_of_birth else ""
    return f"person:{born}:{' '.join(name_parts(person.latin_name or person.name))}"


class Organisation(BaseModel):
    """An organisation a lead mentions (a company, an agency, a club)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    country: CountryCode | None = None


class Location(BaseModel):
    """A place a lead mentions, with coordinates when known."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
