"""The views of a text, one decoding at a time: what each decodes, where a secret it shows stands in the original
text (the masked span is exact, escapes and all), how deep views of views go, and the bound on their number."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.report import leaks
from conformance.report import views as views_module
from conformance.report.masking import MASK, Masker
from conformance.report.views import (
    LARGE_TEXT,
    MAX_BLOB,
    MAX_DEPTH,
    WORK_FACTOR,
    WORK_FLOOR,
    View,
    _base64,
    _text_like,
    fold,
    views,
)

SECRET = "Zq7-kx9W-Lm4"


def masked(text: str, secret: str = SECRET) -> str:
    return Masker([secret]).text(text)


def entities(text: str) -> str:
    return "".join(f"&#{ord(character)};" for character in text)


@pytest.mark.parametrize(
    "written",
    [
        "\\u005aq7-kx9W-Lm4",  # a JSON escape at the start
        "Zq7-kx9W-Lm\\u0034",  # at the end
        "Zq7\\u002dkx9W\\x2dLm4",  # \\u and \\x in the middle
        "%5Aq7-kx9W-Lm%34",  # percent-encoding
        "&#90;q7-kx9W-Lm&#x34;",  # HTML entities, decimal and hex
        "&#90;q7&#45;kx9W-Lm4",
    ],
)
def test_an_escaped_secret_is_masked_exactly_escapes_and_all(written: str) -> None:
    assert masked(f"before {written} after") == f"before {MASK} after"


def test_a_secret_after_an_escape_keeps_the_escape_visible() -> None:
    assert masked(f"\\u0041{SECRET}\\u0042") == f"\\u0041{MASK}\\u0042"
    assert masked(f"%41{SECRET}%42") == f"%41{MASK}%42"


def test_every_view_places_a_plain_secret_at_the_same_span() -> None:
    text = f"x {SECRET} \\u0041 %41 &amp; {base64.b64encode(b'padding-only').decode()}"
    start = text.index(SECRET)
    spans = {(begin, end) for begin, end, _ in Masker([SECRET]).occurrences(text)}
    assert spans == {(start, start + len(SECRET))}


def test_a_secret_with_a_character_beyond_the_bmp_written_as_a_surrogate_pair() -> None:
    secret = "Zq7-\U0001f600-kx9W"
    written = json.dumps(secret)  # "Zq7-\ud83d\ude00-kx9W"
    assert "\\ud83d\\ude00" in written
    assert masked(f"echo {written} done", secret) == f'echo "{MASK}" done'


def test_a_form_encoded_secret_is_read_with_plus_as_a_space() -> None:
    secret = "Zq7 kx9W Lm4"
    assert masked("q=Zq7+kx9W+Lm4&next=1", secret) == f"q={MASK}&next=1"


def test_an_entity_that_is_no_entity_does_not_stop_the_decoding() -> None:
    assert masked(f"&zzzz; {entities(SECRET)} &zzzz;") == f"&zzzz; {MASK} &zzzz;"


@pytest.mark.parametrize(
    "secret",
    ["Zq7?kx9W?Lm4", "Zq7-kx9W-Lm4~~~"],  # base64url with only `_`, and with only `-`
)
def test_a_secret_in_base64url_is_masked(secret: str) -> None:
    run = base64.urlsafe_b64encode(secret.encode()).decode()
    assert ("_" in run) != ("-" in run)
    assert masked(f"token {run} end", secret) == f"token {MASK} end"


@pytest.mark.parametrize("secret", ["Zq7-kx9W-LmW", "Zq7-kx9W-Lm4", "Zq7-kx9W-Lm4?"])
def test_a_secret_in_base64_is_masked_whatever_its_run_ends_with(secret: str) -> None:
    run = base64.b64encode(secret.encode()).decode()  # ...TG1X, ...TG00, ...TG00Pw==
    assert masked(f"token {run}", secret) == f"token {MASK}"


def test_a_base64_run_with_extra_padding_is_still_decoded() -> None:
    run = base64.b64encode(SECRET.encode()).decode()
    assert not run.endswith("=")
    assert masked(f"a {run}== b") == f"a {MASK} b"


def test_a_run_mixing_the_two_base64_alphabets_is_no_base64() -> None:
    run = base64.b64encode(b"any-bytes-at-all-here").decode()  # ...LWhlcmU=: no + or /
    assert base64_views_of(f"x {run} y") == 1
    for mixed in (f"{run[:4]}-{run[5:8]}+{run[9:]}", f"{run[:4]}_{run[5:8]}/{run[9:]}"):
        assert base64_views_of(f"x {mixed} y") == 0, mixed


@pytest.mark.parametrize("encoding", ["base64", "hex"])
def test_a_secret_in_a_blob_masks_the_blob_and_nothing_around_it(encoding: str) -> None:
    data = f"{SECRET} and more".encode()
    blob = base64.b64encode(data).decode() if encoding == "base64" else data.hex()
    assert masked(f"prefix {blob} suffix") == f"prefix {MASK} suffix"
    assert leaks.seen_through(f"prefix {blob}".encode(), leaks.finder([SECRET])) == encoding


def test_the_scan_names_every_decoding_on_the_way_to_the_secret() -> None:
    secret = SECRET.replace("-", "\u2011")
    written = json.dumps(secret).replace("\\", "&#92;")  # JSON escapes, their backslashes HTML entities
    assert leaks.seen_through(written.encode(), leaks.finder([secret])) == "HTML-escaped, JSON-escaped"


def nested(times: int, encode: Callable[[str], str], text: str) -> str:
    for _ in range(times):
        text = encode(text)
    return text


@pytest.mark.parametrize(
    "encode, secret",
    [
        (lambda text: quote(text, safe=""), "Zq7 kx9/W:Lm4"),
        (lambda text: base64.b64encode(text.encode()).decode(), SECRET),
        (lambda text: text.encode().hex(), SECRET),
    ],
    ids=["percent", "base64", "hex"],
)
def test_views_of_views_go_three_deep_and_no_deeper(encode: Callable[[str], str], secret: str) -> None:
    for times in range(1, MAX_DEPTH + 1):
        assert masked(f"a {nested(times, encode, secret)} b", secret) == f"a {MASK} b", times
    deeper = f"a {nested(MAX_DEPTH + 1, encode, secret)} b"
    assert masked(deeper, secret) == deeper


def test_two_secrets_three_deep_on_different_paths_are_both_found() -> None:
    one, two = "Zq7 kx9/W:Lm4", "Yx8-pq2R-Tn5"
    text = f"{nested(3, lambda t: quote(t, safe=''), one)} {nested(3, lambda t: t.encode().hex(), two)}"
    assert Masker([one, two]).text(text) == f"{MASK} {MASK}"


def test_a_view_reached_two_ways_is_searched_once_and_does_not_hide_the_rest() -> None:
    """Percent then JSON, or JSON then percent, give one text; the views after it are still taken."""
    inner = base64.b64encode(json.dumps(SECRET.replace("-", "\u2011")).encode()).decode()
    text = f"%41\\x41 {inner}"
    secret = SECRET.replace("-", "\u2011")
    found = list(views(text))
    assert len({view.text for view in found}) == len(found)
    assert masked(text, secret) == f"%41\\x41 {MASK}"


def test_every_blob_of_a_long_text_is_read_and_the_work_stays_within_its_budget() -> None:
    runs = " ".join(base64.b64encode(f"blob number {n:03d}".encode()).decode() for n in range(300))
    assert len(list(views(runs))) == 301  # as written, and one view per run: a report may quote a secret many times
    # Escapes inside escapes inside blobs: however a text multiplies its decodings, the characters read stay bounded.
    nested = " ".join(base64.b64encode(("\\u0041%41&#65;" * 40).encode()).decode() for _ in range(2000))
    assert sum(len(view.text) for view in views(nested)) <= WORK_FACTOR * len(nested) + WORK_FLOOR


def base64_views_of(text: str) -> int:
    """How many base64 runs of the text itself were decoded."""
    return sum(view.name == "base64" and view.depth == 1 for view in views(text))


# Runs of base64 and hex characters beside escapes of every kind: where a decoded view reads a blob at all.
_PIECES = ["QUJD", "REVG", "R0hJ", "4a", "0f", "+", "/", "=", "_", "-", "%41", "%2B", "\\u0041", "\\/", "\\n", "&amp;"]
_PIECES += [
    "&#65;",
    " ",
    '"',
    "+",
    "Zq7-kx9W-Lm4",
    base64.b64encode(b"Zq7-kx9W-Lm4").decode(),
    b"Zq7-kx9W-Lm4".hex(),
]


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_a_decoded_view_skips_only_the_blobs_its_parent_already_gave(pieces: list[str]) -> None:
    """A decoded view reads only the base64 and hex runs that overlap or touch a decoded piece; every other run
    of it is the same run, at the same place, in its parent. So the views are those of reading every run of
    every view, each (text, place) once."""
    text = "".join(pieces)
    seen = {(view.text, view.origin(0, len(view.text))) for view in views(text)}
    for view in views(text):
        if view.depth >= MAX_DEPTH:
            continue
        for blob in _every_blob(view):
            assert (blob.text, blob.origin(0, len(blob.text))) in seen, (text, view.names(), blob.text)


def _every_blob(view: View) -> list[View]:
    """Every base64 or hex run of the view that reads as text, found the plain way: a search of the whole text."""
    found = []
    for match in re.finditer(r"[A-Za-z0-9+/_-]{11,}={0,2}", view.text):
        data = _base64(match.group(0))
        if data is not None and _text_like(data):
            found.append(View("base64", data.decode("latin-1"), view, [(0, len(data), *match.span())], view.depth + 1))
    for match in re.finditer(r"(?:[0-9a-fA-F]{2}){8,}", view.text):
        if _text_like(data := bytes.fromhex(match.group(0))):
            found.append(View("hex", data.decode("latin-1"), view, [(0, len(data), *match.span())], view.depth + 1))
    return found


def test_fold_lowers_ascii_letters_only_and_keeps_a_lone_surrogate() -> None:
    assert fold("AbC-Z\u00c9\u0416") == "abc-z\u00c9\u0416"  # É and Ж are no ASCII letters
    assert fold("\ud800Ab\udfff") == "\ud800ab\udfff"  # a lone surrogate (a JSON escape may decode to one)


def test_a_secret_in_a_legacy_charset_inside_base64_is_masked() -> None:
    secret = "\u041f\u0430\u0440\u043e\u043b\u044c-Zq7-kx9W"  # Пароль-Zq7-kx9W
    run = base64.b64encode(secret.encode("cp1251")).decode()  # bytes that are no UTF-8
    assert masked(f"token {run} end", secret) == f"token {MASK} end"


@pytest.mark.parametrize(
    "data, reads_as_text",
    [
        (b"line one\r\nline two\tend", True),  # line breaks and tabs are text
        (b"abcdefgh\n\x01", True),  # 9 characters in 10 are text
        (b"abcdefg\n\x01\x02", False),  # 8 in 10
        (b"\x00\x01\x02\x03 ab", False),
        (b"caf\xe9 word\x01", True),  # no UTF-8 (Latin-1): 9 bytes in 10 are text
        (b"caf\xe9 wor\x01\x02", False),
        (bytes(range(256)), False),
        (b"", False),
    ],
)
def test_decoded_bytes_read_as_text_when_nine_characters_in_ten_are(data: bytes, reads_as_text: bool) -> None:
    assert _text_like(data) is reads_as_text


def blob_views_of(text: str, name: str) -> int:
    return sum(view.name == name and view.depth == 1 for view in views(text))


def test_a_run_of_max_blob_characters_is_decoded_and_a_longer_one_is_not() -> None:
    words = b"word " * (MAX_BLOB // 5 + 1)
    assert blob_views_of(base64.b64encode(words[: MAX_BLOB // 4 * 3]).decode(), "base64") == 1  # MAX_BLOB chars
    assert blob_views_of(base64.b64encode(words[: MAX_BLOB // 4 * 3 + 3]).decode(), "base64") == 0  # 4 more
    assert blob_views_of(words[: MAX_BLOB // 2].hex(), "hex") == 1
    assert blob_views_of(words[: MAX_BLOB // 2 + 1].hex(), "hex") == 0


def test_new_between_is_whether_a_span_overlaps_or_touches_a_decoded_piece() -> None:
    parent = View("as written", "0123%41789abcdef")
    decoded = View("percent-encoded", "0123A789abcdef", parent, [(4, 5, 4, 7)], 1)
    touching = {(0, 4): True, (0, 3): False, (4, 5): True, (5, 9): True, (6, 9): False}  # the piece is [4, 5)
    assert {span: decoded.new_between(*span) for span in touching} == touching
    assert parent.new_between(10, 12)  # the text as it is: every run is its own


def test_a_run_beside_a_decoded_piece_is_read_past_runs_that_are_not() -> None:
    """In one stretch of run characters, a run the parent already gave comes before the run a decoding made."""
    # base64 of SECRET, WnE3LWt4OVctTG00, written with one character percent-encoded; hex of it likewise
    assert masked("QUFBQUFBQUFBQUFB==WnE3LWt4%4FVctTG00") == f"QUFBQUFBQUFBQUFB=={MASK}"
    assert masked("0011223344556677z5a71372d6b%37839572d4c6d34") == f"0011223344556677z{MASK}"
    # two pieces in one stretch, the secret's piece in the next
    assert masked("%41%42 WnE3LWt4%4FVctTG00") == f"%41%42 {MASK}"


def test_the_work_budget_stops_a_text_whose_views_would_outgrow_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Escapes of escapes of every kind: their views together hold more characters than the budget allows."""
    text = "%252541 &amp;amp;amp; \\\\\\\\u0041 +%2B%252B " * 500
    monkeypatch.setattr(views_module, "WORK_FLOOR", 0)  # the budget in proportion to the text alone
    monkeypatch.setattr(views_module, "WORK_FACTOR", 10**6)
    unbounded = sum(len(view.text) for view in views(text))
    monkeypatch.setattr(views_module, "WORK_FACTOR", WORK_FACTOR)
    assert unbounded > WORK_FACTOR * len(text)
    assert sum(len(view.text) for view in views(text)) <= WORK_FACTOR * len(text)


def test_a_text_past_large_text_is_decoded_one_level_only() -> None:
    twice = "%255A " * 3  # percent-encoding of percent-encoding
    assert max(view.depth for view in views(twice)) == 2
    assert max(view.depth for view in views(twice + " " * LARGE_TEXT)) == 1
