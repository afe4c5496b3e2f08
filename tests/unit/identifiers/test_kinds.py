"""Normalisation per identifier kind: spellings that meet, and refusals that say why."""

from __future__ import annotations

import pytest

from events.identifiers import IdentifierKind, normalise

K = IdentifierKind


def same(kind: IdentifierKind, *spellings: str, country: str | None = None) -> str:
    """The one canonical value of several spellings (fails if they do not meet)."""
    values = {normalise(kind, s, country) for s in spellings}
    assert len(values) == 1, values
    return values.pop()


def refused(kind: IdentifierKind, value: str, country: str | None = None) -> str:
    with pytest.raises(ValueError) as error:
        normalise(kind, value, country)
    return str(error.value)


# ------------------------------------------------------------------------------------- phone


def test_phone_national_and_international_spellings_meet() -> None:
    """A Romanian mobile written nationally with RO, or internationally, is one E.164 number."""
    assert same(K.PHONE, "0721 234 567", "(0721) 234-567", "+40 721 234 567", country="RO") == (
        "+40721234567"
    )
    assert same(K.PHONE, "+40 721 234 567", "0040721234567", "+40-721-234-567") == "+40721234567"


def test_phone_country_is_only_the_default_region() -> None:
    """A number with +prefix keeps its own country whatever country it was reported from."""
    assert normalise(K.PHONE, "+44 20 7946 0958", "RO") == "+442079460958"
    assert normalise(K.PHONE, "020 7946 0958", "GB") == "+442079460958"


def test_phone_uses_the_international_prefix_of_the_region() -> None:
    """011 is the international prefix in the US, so 011 40 … is a Romanian number."""
    assert normalise(K.PHONE, "011 40 721 234 567", "US") == "+40721234567"


def test_phone_extension_is_dropped() -> None:
    """E.164 has no extensions; the line is the identifier."""
    assert normalise(K.PHONE, "+40 21 123 4567 ext. 12") == normalise(K.PHONE, "+40211234567")


@pytest.mark.parametrize(
    ("value", "country", "reason"),
    [
        ("12345", "RO", "not a valid phone number for region RO"),
        ("+40 12345", None, "not a valid phone number for region RO"),
        ("+44 20 7946", "RO", "not a valid phone number for region GB"),
        ("0721 234 567", None, "needs the country it was written in"),
        ("+999 123 456", None, "unknown country calling code"),
        ("not a number", "RO", "not a phone number"),
        ("0123 456", "AQ", "no phone numbering plan for region AQ"),
        ("0721 234 567", "ZZ", "unknown country code 'ZZ'"),
    ],
)
def test_phone_refusals_name_the_problem(value: str, country: str | None, reason: str) -> None:
    """An invalid phone number is refused with a reason naming the region or the defect."""
    assert reason in refused(K.PHONE, value, country)


# ------------------------------------------------------------------------------------- email


def test_email_case_space_and_wrapping_do_not_matter() -> None:
    """Case, surrounding space, mailto: and a display name do not make another address."""
    assert (
        same(
            K.EMAIL,
            "ion.popescu@example.ro",
            "  Ion.Popescu@EXAMPLE.ro ",
            "MAILTO:ion.popescu@example.ro",
            "Ion Popescu <ion.popescu@example.ro>",
            "ion.popescu@example.ro.",
        )
        == "ion.popescu@example.ro"
    )


def test_email_internationalised_domain_becomes_punycode() -> None:
    """An IDN domain written in Unicode or in punycode is one domain."""
    assert same(K.EMAIL, "maria@bücher.de", "maria@BÜCHER.DE", "maria@xn--bcher-kva.de") == (
        "maria@xn--bcher-kva.de"
    )


def test_email_keeps_provider_specific_variants_apart() -> None:
    """Dots and +tags are not folded: that is true of some providers only."""
    assert normalise(K.EMAIL, "ion.popescu@gmail.com") != normalise(K.EMAIL, "ionpopescu@gmail.com")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("ion.popescu.example.ro", "no @"),
        ("@example.ro", "nothing before the @"),
        ("ion@", "nothing after the @"),
        (".ion@example.ro", "misplaced dot"),
        ("ion..popescu@example.ro", "misplaced dot"),
        ('"ion"@example.ro', "'\"' is not allowed"),
        ("ion@example", "has no dot"),
        ("ion@exa_mple.ro", "bad label"),
        ("ion@-example.ro", "bad label"),
        ("ion@10.0.0.1", "ends in a number"),
        ("x" * 65 + "@example.ro", "more than 64"),
    ],
)
def test_email_refusals_name_the_problem(value: str, reason: str) -> None:
    """An address that fails the syntax check is refused, saying which part is wrong."""
    assert reason in refused(K.EMAIL, value)


# ---------------------------------------------------------------------------------- document


def test_document_spacing_dashes_and_case_do_not_matter() -> None:
    """A passport number with spaces, dashes or dots, in any case, is one number."""
    assert same(K.DOCUMENT, "AB123456", "ab 123 456", "AB-123-456", "ab.123.456", country="RO") == (
        "AB123456"
    )


def test_document_cyrillic_look_alikes_read_as_latin() -> None:
    """A series typed with Cyrillic look-alike letters meets the one typed in Latin letters."""
    assert same(K.DOCUMENT, "СН 123456", "CH123456", country="UA") == "CH123456"


def test_document_needs_its_country() -> None:
    """A document number without its issuing country cannot be compared, so it is refused."""
    assert refused(K.DOCUMENT, "AB123456") == "document needs its issuing country"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("AB12", "5 to 20 letters and digits, not 4"),
        ("A" * 21, "5 to 20 letters and digits, not 21"),
        ("AB#123456", "not a Latin letter or digit: '#'"),
        ("ЖЖ123456", "not a Latin letter or digit: 'Ж'"),
    ],
)
def test_document_refusals_name_the_problem(value: str, reason: str) -> None:
    """A document number that is too short, too long or has other characters is refused."""
    assert reason in refused(K.DOCUMENT, value, "RO")


# -------------------------------------------------------------------------------------- iban


def test_iban_print_and_electronic_forms_meet() -> None:
    """The grouped print form, dashes, lower case and an IBAN: prefix give the compact IBAN."""
    assert (
        same(
            K.IBAN,
            "RO49 AAAA 1B31 0075 9384 0000",
            "ro49aaaa1b31007593840000",
            "RO49-AAAA-1B31-0075-9384-0000",
            "IBAN: RO49 AAAA 1B31 0075 9384 0000",
        )
        == "RO49AAAA1B31007593840000"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("RO49 AAAA 1B31 0075 9384 0001", "not a valid IBAN: invalid checksum digits"),
        ("DE89 3704 0044 0532 0130 0", "not a valid IBAN: invalid IBAN length"),
        ("XX89 3704 0044 0532 0130 00", "not a valid IBAN: unknown country-code 'XX'"),
    ],
)
def test_iban_refusals_carry_schwiftys_reason(value: str, reason: str) -> None:
    """An invalid IBAN is refused with the library's reason (checksum, length, country)."""
    assert refused(K.IBAN, value) == reason


# ------------------------------------------------------------------------------ bank account


def test_bank_account_with_bic_meets_in_every_spelling() -> None:
    """A BIC with or without the XXX head-office branch, spaced or not, is one routing code."""
    assert same(K.BANK_ACCOUNT, "DEUTDEFFXXX:1234567890", "deut de ff : 1234 5678 90") == (
        "DEUTDEFF:1234567890"
    )


def test_bank_account_with_sort_code() -> None:
    """A UK sort code written with dashes is the six digits before the colon."""
    assert same(K.BANK_ACCOUNT, "20-00-00:12345678", "200000:1234 5678") == "200000:12345678"


def test_bank_account_keeps_a_branch_bic() -> None:
    """A BIC with a real branch code is a different routing code from the head office."""
    assert normalise(K.BANK_ACCOUNT, "DEUTDEFF500:12345678") == "DEUTDEFF500:12345678"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("DE89 3704 0044 0532 0130 00", "bank account is an IBAN; submit it as kind iban"),
        ("1:2:3456", "more than one ':'"),
        ("123", "4 to 34 letters and digits, not 3"),
        ("AB:12345678", "3 to 11 letters and digits, not 2"),
        ("ABCDQQ22:12345678", "unknown country code 'QQ'"),
        ("12345678#", "not a Latin letter or digit: '#'"),
    ],
)
def test_bank_account_refusals_name_the_problem(value: str, reason: str) -> None:
    """A bank account that is an IBAN, malformed or of the wrong length is refused."""
    assert reason in refused(K.BANK_ACCOUNT, value)


# ----------------------------------------------------------------------------- vehicle plate


def test_vehicle_plate_separators_and_case_do_not_matter() -> None:
    """A plate written with spaces, dashes or dots, in any case, is one plate."""
    assert same(K.VEHICLE_PLATE, "B-123-ABC", "b 123 abc", "B.123.ABC", country="RO") == "B123ABC"


@pytest.mark.parametrize(
    ("country", "written", "latin"),
    [
        ("BG", "СА 1234 ВХ", "CA 1234 BX"),
        ("GR", "ΙΚΑ-1234", "IKA 1234"),
        ("UA", "АА 1234 ІХ", "AA1234IX"),
    ],
)
def test_vehicle_plate_cyrillic_and_greek_letters_read_as_latin(
    country: str, written: str, latin: str
) -> None:
    """A plate from the register in Cyrillic or Greek meets the one read off the car in Latin."""
    assert same(K.VEHICLE_PLATE, written, latin, country=country)


def test_vehicle_plate_umlauts_lose_their_dots() -> None:
    """A German district with an umlaut meets the same district typed without it."""
    assert same(K.VEHICLE_PLATE, "MÜ-AB 12", "MU AB 12", country="DE") == "MUAB12"


def test_vehicle_plate_needs_its_country() -> None:
    """A plate without its registration country is refused."""
    assert refused(K.VEHICLE_PLATE, "B123ABC") == "vehicle plate needs its registration country"


@pytest.mark.parametrize(
    ("value", "reason"),
    [("A", "not 1"), ("ABCDEFGHIJK", "not 11"), ("B 123 ÄB*", "'*'"), ("ЖЖ 123", "'Ж'")],
)
def test_vehicle_plate_refusals_name_the_problem(value: str, reason: str) -> None:
    """A plate of the wrong length or with other characters is refused."""
    assert reason in refused(K.VEHICLE_PLATE, value, "RO")


# ------------------------------------------------------------------------------------ handle


def test_handle_at_sign_case_and_platform_alias_do_not_matter() -> None:
    """@, case and a platform's other name do not make another account."""
    assert same(K.HANDLE, "telegram:@Foo_Bar", "Telegram: foo_bar", "tg:@@FOO_BAR") == (
        "telegram:foo_bar"
    )
    assert same(K.HANDLE, "twitter:@Foo", "x:foo") == "x:foo"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("@foo_bar", "handle needs its platform"),
        (":foo_bar", "handle needs its platform"),
        ("telegram:@", "handle is empty"),
        ("telegram:foo bar", "contains a space"),
        ("https://t.me/foo_bar", "submit links as kind url"),
        ("my platform:foo", "not a short name"),
        ("telegram:" + "a" * 101, "longer than 100"),
    ],
)
def test_handle_refusals_name_the_problem(value: str, reason: str) -> None:
    """A handle without platform, empty, with a space or a link in it is refused."""
    assert reason in refused(K.HANDLE, value)


# --------------------------------------------------------------------------------------- url


def test_url_scheme_host_port_fragment_and_trailing_slash_do_not_matter() -> None:
    """http or https, host case, default port, fragment and trailing slash: one advertisement."""
    assert (
        same(
            K.URL,
            "https://www.example.com/ad/123",
            "HTTP://WWW.EXAMPLE.COM:80/ad/123/",
            "https://www.example.com:443/ad/123#photos",
            "www.example.com/ad/123",
            "//www.example.com/ad/123/",
        )
        == "https://www.example.com/ad/123"
    )


def test_url_tracking_parameters_are_dropped_and_the_rest_sorted() -> None:
    """utm_*, fbclid, gclid … are dropped; parameter order does not matter."""
    assert (
        same(
            K.URL,
            "https://example.com/ad?id=5&page=2",
            "https://example.com/ad?page=2&utm_source=fb&utm_Medium=x&id=5&fbclid=AbC",
            "https://example.com/ad?gclid=1&id=5&&page=2",
        )
        == "https://example.com/ad?id=5&page=2"
    )


def test_url_only_tracking_parameters_leave_no_question_mark() -> None:
    """A URL whose every parameter tracks the click is the bare URL."""
    assert normalise(K.URL, "https://example.com/ad?utm_source=x&fbclid=y") == (
        "https://example.com/ad"
    )


def test_url_percent_encoding_and_dot_segments_have_one_spelling() -> None:
    """Encoded unreserved characters, hex case, raw Unicode and ../ give one path."""
    assert (
        same(
            K.URL,
            "https://example.com/~ion/anunț/x",
            "https://example.com/%7Eion/anun%c8%9b/x",
            "https://example.com/a/../%7eion/./anun%C8%9B/x/",
        )
        == "https://example.com/~ion/anun%C8%9B/x"
    )


def test_url_internationalised_host_becomes_punycode() -> None:
    """A host written in Unicode meets its punycode form."""
    assert same(K.URL, "https://bücher.de/x", "https://XN--BCHER-KVA.DE/x") == (
        "https://xn--bcher-kva.de/x"
    )


def test_url_keeps_other_ports_and_drops_credentials() -> None:
    """A non-default port is part of the address; credentials are never kept."""
    assert normalise(K.URL, "http://user:pw@example.com:8080/x") == "https://example.com:8080/x"


def test_url_keeps_path_case_and_www() -> None:
    """Paths are case-sensitive and www. is another host name: neither is folded."""
    assert normalise(K.URL, "https://example.com/Ad") != normalise(K.URL, "https://example.com/ad")
    assert normalise(K.URL, "https://www.example.com/") != normalise(K.URL, "https://example.com/")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("ftp://example.com/x", "not an http or https URL: scheme 'ftp'"),
        ("mailto:ion@example.ro", "not an http or https URL: scheme 'mailto'"),
        ("https://?id=5", "no host"),
        ("https://localhost/x", "has no dot"),
        ("https://example.com:http/x", "port 'http' is not a number"),
        ("https://example.com:70000/x", "above 65535"),
        ("https://[zz::1]/x", "bad IPv6 address"),
    ],
)
def test_url_refusals_name_the_problem(value: str, reason: str) -> None:
    """A URL that is not http(s), has no proper host or a bad port is refused."""
    assert reason in refused(K.URL, value)


# ----------------------------------------------------------------------------------- address


def test_address_case_punctuation_and_diacritics_do_not_matter() -> None:
    """An address with or without diacritics, punctuation and extra space is one key."""
    assert (
        same(
            K.ADDRESS,
            "Str. Lipscani nr. 5, București",
            "STR LIPSCANI NR 5 BUCURESTI",
            "str.  lipscani,  nr.5 ,bucurești",
        )
        == "str lipscani nr 5 bucuresti"
    )


def test_address_in_cyrillic_meets_its_transliteration() -> None:
    """A Cyrillic address meets the same address written in (anyascii) Latin."""
    assert same(K.ADDRESS, "ул. Тверская, 7, Москва", "UL. TVERSKAYA 7, MOSKVA")


def test_address_refuses_punctuation_only() -> None:
    """An address with no letter or digit is refused."""
    assert refused(K.ADDRESS, "-- , --") == "address has no letters or digits"


# ---------------------------------------------------------------------------------- wallets


def test_ethereum_address_case_does_not_matter() -> None:
    """An Ethereum address in checksum case, upper or lower case is one address."""
    assert (
        same(
            K.CRYPTO_WALLET,
            "0xDE0B295669a9FD93d5F28D9Ec85E40f4cb697BAe",
            "0XDE0B295669A9FD93D5F28D9EC85E40F4CB697BAE",
            " 0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae ",
        )
        == "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae"
    )


def test_bitcoin_bech32_case_does_not_matter() -> None:
    """A bech32 address in upper or lower case is one address, written in lower case."""
    assert (
        same(
            K.CRYPTO_WALLET,
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        )
        == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    )


def test_base58_addresses_lose_only_whitespace() -> None:
    """Base58 is case-sensitive, so only whitespace is taken out of a P2PKH or Tron address."""
    assert same(
        K.CRYPTO_WALLET,
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        "1A1z P1eP5 QGefi2DMPTfTL5SLmv7DivfNa",
    )
    assert same(
        K.CRYPTO_WALLET,
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        " TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t\n",
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "bitcoin address: checksum does not match"),
        ("1a1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "not a valid bitcoin address"),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0", "'0' is not a base58 character"),
        ("1A1zP1eP5QGefi2DMPT", "bitcoin address: wrong length"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "bitcoin address: checksum does not match"),
        ("bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "mixes upper and lower case"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3tb", "'b' is not a bech32 character"),
        ("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "not a recognised wallet address"),
        ("0x12345", "expected 0x and 40 hex digits"),
        ("0xZZ0B295669a9FD93d5F28D9Ec85E40f4cb697BAe", "expected 0x and 40 hex digits"),
        ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", "tron address: checksum does not match"),
        ("TR7NHqjeKQxGTCi8q8ZY4pL8ot", "tron address: expected 34 characters"),
        ("LcHKx4sMdVxLA2d1GzC8JnDfY3rGxAjcZx", "not a recognised wallet address"),
    ],
)
def test_wallet_refusals_name_the_problem(value: str, reason: str) -> None:
    """A mistyped or unsupported wallet address is refused, saying which check failed."""
    assert reason in refused(K.CRYPTO_WALLET, value)


# ------------------------------------------------------------------------------------ common


@pytest.mark.parametrize("kind", list(IdentifierKind))
def test_empty_values_are_refused(kind: IdentifierKind) -> None:
    """An empty or blank value of any kind is refused as empty."""
    assert refused(kind, " \t ", "RO") == f"empty {kind.value}"


@pytest.mark.parametrize(
    ("kind", "plain", "dressed"),
    [
        (K.PHONE, "+40721234567", "\ufeff+40\u00a0721\u200b234\u00a0567"),
        (K.EMAIL, "ion@example.ro", "ion\u200b@example.ro\u200e"),
        (
            K.IBAN,
            "RO49AAAA1B31007593840000",
            "RO49\u00a0AAAA\u00a01B31\u00a00075\u00a09384\u00a00000",
        ),
        (K.DOCUMENT, "AB123456", "ＡＢ１２３４５６"),
    ],
)
def test_invisible_and_full_width_characters_do_not_matter(
    kind: IdentifierKind, plain: str, dressed: str
) -> None:
    """Zero-width marks, non-breaking spaces and full-width forms from copy-paste are ignored."""
    assert same(kind, plain, dressed, country="RO") == plain
