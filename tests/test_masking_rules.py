"""The masker's rules, one at a time: which secrets count, where a weak one is masked, how spans join, and what the
end-of-run scan reads (files, zip members, the terminal transcript) and reports."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conformance.report import leaks
from conformance.report.masking import MASK, Masker, basic_tokens, is_distinct
from conformance.target import Credentials

DISTINCT = "Zq7-kx9W-Lm4"  # eight characters or more, not all digits, nowhere in the suite's own text
WEAK = "4321"  # digits only: masked only where it stands as a whole value


def test_which_secrets_are_distinct() -> None:
    assert is_distinct("Zq7-kx9W")  # eight characters are enough
    assert not is_distinct("Zq7-kx9")  # seven are not
    assert not is_distinct("12345678901")  # digits only
    assert not is_distinct("reset-password")  # the suite writes it itself (a Push path)


@pytest.mark.parametrize(
    "text, shown",
    [
        (WEAK, MASK),  # the whole text: a whole header value
        (f"pin={WEAK}", f"pin={MASK}"),  # a query or form value
        (f"={WEAK}&next=1", f"={MASK}&next=1"),
        (f'"{WEAK}"', f'"{MASK}"'),  # a JSON string
        (f'{{"pin": "{WEAK}"}}', f'{{"pin": "{MASK}"}}'),
        (f"{{'pin': '{WEAK}'}}", f"{{'pin': '{MASK}'}}"),  # single quotes, as Python and JavaScript write them
        (f"{WEAK} apples were sold", f"{WEAK} apples were sold"),  # running text: not a value
        (f"apples sold: {WEAK}", f"apples sold: {WEAK}"),
        (f"the {WEAK} apples", f"the {WEAK} apples"),
        (f"x{WEAK}x", f"x{WEAK}x"),
        (f'{{"{WEAK}": 1}}', f'{{"{WEAK}": 1}}'),  # a member's name is no value
        (f'{{"{WEAK}" : 1}}', f'{{"{WEAK}" : 1}}'),
        (f'{{"{WEAK}"\n  : 1}}', f'{{"{WEAK}"\n  : 1}}'),
    ],
)
def test_a_weak_secret_is_masked_where_it_stands_as_a_whole_value_only(text: str, shown: str) -> None:
    assert Masker([WEAK]).text(text) == shown


def test_a_distinct_secret_is_masked_everywhere_even_inside_words() -> None:
    assert Masker([DISTINCT]).text(f"abc{DISTINCT}def and {DISTINCT}") == f"abc{MASK}def and {MASK}"


def test_secrets_shorter_than_three_characters_are_ignored_and_three_are_enough() -> None:
    masker = Masker(["ab", "xyz"])
    assert masker.secrets == frozenset({"xyz"})
    assert masker.text("ab") == "ab"
    assert masker.text("xyz") == MASK


def test_a_secret_echoed_in_lower_case_is_masked_whatever_its_letters() -> None:
    secret = "PÄSSWORT-Zq7-kx9"  # Ä is no ASCII letter: the lower-case form must be searched for itself
    assert Masker([secret]).text(f"echo: {secret.lower()}!") == f"echo: {MASK}!"
    assert Masker([secret]).text(f"echo: {secret.upper()}!") == f"echo: {MASK}!"


def test_a_distinct_secret_stays_distinct_when_a_weak_one_shares_a_form() -> None:
    """ "Straße1" is weak (seven characters); its upper case STRASSE1 is a form of the distinct "strasse1"."""
    for order in (["strasse1", "Straße1"], ["Straße1", "strasse1"]):
        assert Masker(order).text("in a word: xxstrasse1xx") == f"in a word: xx{MASK}xx"


def test_adjacent_occurrences_become_one_mask() -> None:
    masker = Masker([DISTINCT])
    assert masker.spans(DISTINCT + DISTINCT) == [(0, 2 * len(DISTINCT))]
    assert masker.text(f"{DISTINCT}{DISTINCT} and {DISTINCT}") == f"{MASK} and {MASK}"


def test_a_masker_without_secrets_finds_and_changes_nothing() -> None:
    masker = Masker()
    assert list(masker.occurrences("anything at all, Zq7-kx9W-Lm4")) == []
    assert masker.text("anything") == "anything"
    assert masker.data(b"anything") == b"anything"
    assert leaks.seen_through(b"anything", leaks.finder([])) is None


def test_bytes_are_masked_in_any_charset_and_the_rest_kept_byte_for_byte() -> None:
    secret = "пароль-Zq7-kx9"
    masker = Masker([secret])
    for charset in ("utf-8", "cp1251", "utf-16-le"):
        body = b"\x00\xff head " + secret.encode(charset) + b" tail \xfe"
        assert masker.data(body) == b"\x00\xff head " + MASK.encode() + b" tail \xfe", charset
    assert masker.data(b"") == b""


def test_credentials_of_basic_auth_mask_the_password_and_its_token_not_the_login() -> None:
    credentials = Credentials("partner-login-name", "Zq7-kx9W-Lm4")
    token = next(iter(basic_tokens(credentials.username, credentials.password)))
    basic = Masker.for_credentials(credentials, basic=True)
    assert basic.text(f"user partner-login-name, pass {DISTINCT}, Basic {token}") == (
        f"user partner-login-name, pass {MASK}, Basic {MASK}"
    )
    in_headers = Masker.for_credentials(credentials, basic=False)  # both ride in headers of their own
    assert in_headers.text(f"partner-login-name {DISTINCT}") == f"{MASK} {MASK}"


def test_the_basic_token_of_a_weak_password_is_masked_everywhere() -> None:
    masker = Masker.for_credentials(Credentials("partner", "test"), basic=True)
    assert masker.text("Authorization: Basic cGFydG5lcjp0ZXN0, as sent") == f"Authorization: Basic {MASK}, as sent"
    assert masker.text("a test of the test page") == "a test of the test page"  # the word itself is no secret


def test_basic_tokens_are_the_utf8_and_latin1_encodings_of_the_pair() -> None:
    assert basic_tokens("u", "pässwort") == {"dTpww6Rzc3dvcnQ=", "dTpw5HNzd29ydA=="}
    assert basic_tokens("u", "пароль") == {"dTrQv9Cw0YDQvtC70Yw="}  # no Latin-1 form


# --- the end-of-run scan ----------------------------------------------------------------------------------------


def test_the_scan_reads_every_file_and_skips_what_is_not_one(tmp_path: Path) -> None:
    leaky = tmp_path / "push.log"
    leaky.write_text(f"echo {DISTINCT}", encoding="utf-8")
    clean = tmp_path / "push.json"
    clean.write_text("{}", encoding="utf-8")
    paths = [tmp_path / "gone.html", tmp_path, clean, leaky]  # a missing file and a directory come first
    assert leaks.scan(paths, leaks.finder([DISTINCT])) == ["push.log (as written)"]


def test_the_scan_reads_each_member_of_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "push-evidence.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("verdict.json", "{}")
        bundle.writestr("push.html", f"<pre>{DISTINCT}</pre>")
    assert leaks.scan([archive], leaks.finder([DISTINCT])) == ["push-evidence.zip:push.html (as written)"]


def test_the_scan_reads_the_texts_it_is_given_even_with_lone_surrogates() -> None:
    transcript = f"conformance: \udcff{DISTINCT} echoed"  # bytes a target sent, decoded with surrogateescape
    found = leaks.scan([], leaks.finder([DISTINCT]), texts=[("the terminal", transcript), ("stderr", "clean")])
    assert found == ["the terminal (as written)"]
    assert leaks.scan([], leaks.finder([DISTINCT]), texts=[("the terminal", "\udcff clean")]) == []


def test_the_scan_never_reports_a_weak_secret_even_standing_as_a_value() -> None:
    """A weak secret cannot be told from the suite's own words: it is masked where it stands, never searched for."""
    scanner = leaks.finder([WEAK, "password"])
    assert leaks.seen_through(f'{{"pin": "{WEAK}", "pass": "password"}}'.encode(), scanner) is None
    assert leaks.seen_through(WEAK.encode(), scanner) is None
