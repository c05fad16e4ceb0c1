"""The views of a text: each decoding a reader (a person, a browser, a JSON parser) could apply to it.

One definition, shared by the masker (which masks a secret wherever any view shows it, at ingestion) and the
end-of-run leak scan (which looks through the same views of every artefact): what the scan can see, the masker
has already masked.

A view remembers where each decoded escape came from, so a secret found in a view is masked in the *original*
text: `\\u0050\\u00e4ss` is masked as a whole, escapes and all. Views are taken of views (HTML holding JSON holding
percent-encoding, base64 of JSON, ...) a bounded number of times.

Texts are worked on as Latin-1 strings when they come as bytes: one character per byte, so offsets are byte
offsets, every byte sequence decodes, and a secret is found in any charset by searching for its bytes in that
charset (UTF-8, Latin-1, Windows-1251, UTF-16) read as Latin-1 (`charset_forms`).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import html
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

MAX_DEPTH = 3  # views of views of views: HTML of JSON of a percent-encoded query is as deep as reports go
# The work on one text is bounded by the characters its views hold, not by their number: a report may quote one
# echoed body many times, and each copy's base64 or hex run is a view of its own that must be searched.
WORK_FACTOR, WORK_FLOOR = 16, 1024 * 1024
MIN_BASE64_RUN = 11  # the base64 of 8 bytes, the shortest secret searched for everywhere
MIN_HEX_RUN = 16
MAX_BLOB = 64 * 1024  # characters of a base64 or hex run decoded: a token or an embedded document, not a megabyte
LARGE_TEXT = 1024 * 1024  # past this, one level of decoding only: the work stays linear in what a target sends

# Charsets whose bytes a secret may be found in, whatever a body says it is.
CHARSETS = ("utf-8", "latin-1", "cp1251", "utf-16-le", "utf-16-be")
_ASCII_LOWER_BYTES = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
# The Latin-1 bytes that read as text (`_text_like`): printable, or a line break or tab.
_TEXT_BYTES = bytes(byte for byte in range(256) if chr(byte).isprintable() or chr(byte) in "\r\n\t")


def fold(text: str) -> str:
    """ASCII letters lower-cased, nothing else: the length (and so every offset) never changes."""
    # UTF-8 writes every other character with bytes past 0x7f only, so a byte table folds ASCII letters alone, some
    # twenty times faster than str.translate (surrogatepass: a lone surrogate goes through as it is).
    return text.encode("utf-8", "surrogatepass").translate(_ASCII_LOWER_BYTES).decode("utf-8", "surrogatepass")


def charset_forms(secret: str) -> set[str]:
    """The secret as each charset writes it, read back as Latin-1 (the working form of bytes), and as text."""
    forms = {secret}
    for charset in CHARSETS:
        try:
            forms.add(secret.encode(charset).decode("latin-1"))
        except UnicodeEncodeError:
            continue
    return forms


@dataclass
class View:
    """A decoding of `parent` (None: the text as it is). `moves` lists each decoded piece that is not the parent's
    own characters: (start in this view, end in this view, start in the parent, end in the parent), in order."""

    name: str
    text: str
    parent: View | None = None
    moves: list[tuple[int, int, int, int]] = field(default_factory=list)
    depth: int = 0

    def origin(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that shows as [start, end) in this view."""
        view: View = self
        while view.parent is not None:
            start, end = view._to_parent(start, end)
            view = view.parent
        return start, end

    def names(self) -> str:
        """The decodings from the original to this view, outermost first (e.g. "HTML-escaped, JSON-escaped")."""
        chain, view = [], self
        while view.parent is not None:
            chain.append(view.name)
            view = view.parent
        return ", ".join(reversed(chain)) or self.name

    def new_between(self, start: int, end: int) -> bool:
        """Whether [start, end) overlaps or touches a decoded piece (always, for the text as it is): elsewhere this
        view holds its parent's characters, unchanged and with the same neighbours."""
        if self.parent is None:
            return True
        i = bisect.bisect_right(self._piece_starts(), end) - 1  # the last piece that starts at or before `end`
        return i >= 0 and self.moves[i][1] >= start

    def _piece_starts(self) -> list[int]:
        starts = self.__dict__.get("_starts")
        if starts is None:
            starts = self.__dict__["_starts"] = [move[0] for move in self.moves]
        return starts

    def _to_parent(self, start: int, end: int) -> tuple[int, int]:
        return self._map(start, end=False), self._map(end - 1, end=True)

    def _map(self, index: int, *, end: bool) -> int:
        """Where character `index` of this view comes from in the parent: the start of its span, or (`end`) the
        position just past it. A character of a decoded piece comes from the whole piece."""
        if not self.moves:
            return index + end
        i = bisect.bisect_right(self._piece_starts(), index) - 1
        if i < 0:
            return index + end
        _, view_end, parent_start, parent_end = self.moves[i]
        if index < view_end:
            return parent_end if end else parent_start
        return parent_end + (index - view_end) + end


# --- the decodings ----------------------------------------------------------------------------------------

_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"  # a surrogate pair
    r"|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\([\\/\"'bfnrt])"
)
_SIMPLE_ESCAPES = {"\\": "\\", "/": "/", '"': '"', "'": "'", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_PERCENT = re.compile(r"%([0-9a-fA-F]{2})")
_FORM = re.compile(r"%([0-9a-fA-F]{2})|\+")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")
_BASE64 = re.compile(rf"[A-Za-z0-9+/_-]{{{MIN_BASE64_RUN},}}={{0,2}}")
_HEX = re.compile(rf"(?:[0-9a-fA-F]{{2}}){{{MIN_HEX_RUN // 2},}}")
_RUN_STRETCH = re.compile(r"[A-Za-z0-9+/_=-]*")  # the characters of base64 runs (hex's among them)
_NOT_RUN = re.compile(r"[^A-Za-z0-9+/_=-]")


def _escape(match: re.Match[str]) -> str | None:
    high, low, code, byte, simple = match.groups()
    if high is not None:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    if code is not None:
        return chr(int(code, 16))
    if byte is not None:
        return chr(int(byte, 16))  # a byte, in the Latin-1 working form
    return _SIMPLE_ESCAPES[simple]


def _percent(match: re.Match[str]) -> str | None:
    return chr(int(match.group(1), 16))  # a byte, in the Latin-1 working form


def _form(match: re.Match[str]) -> str | None:
    return " " if match.group(0) == "+" else chr(int(match.group(1), 16))


def _entity(match: re.Match[str]) -> str | None:
    decoded = html.unescape(match.group(0))
    return None if decoded == match.group(0) else decoded


@dataclass(frozen=True)
class Decoding:
    name: str
    applies: Callable[[str], bool]  # cheap: does the text hold anything this decoding would change?
    pattern: re.Pattern[str]
    replace: Callable[[re.Match[str]], str | None]


DECODINGS = (
    Decoding("JSON-escaped", lambda text: "\\" in text, _ESCAPE, _escape),
    Decoding("percent-encoded", lambda text: "%" in text, _PERCENT, _percent),
    Decoding("form-encoded", lambda text: "+" in text, _FORM, _form),
    Decoding("HTML-escaped", lambda text: "&" in text, _ENTITY, _entity),
)


def _decode(parent: View, decoding: Decoding) -> View | None:
    text, replace = parent.text, decoding.replace
    pieces: list[str] = []
    moves: list[tuple[int, int, int, int]] = []
    position = shift = 0  # shift: how much longer the view is than the parent up to `position`
    known: dict[str, str | None] = {}  # a report repeats the same few escapes thousands of times
    for match in decoding.pattern.finditer(text):
        found = match.group(0)
        replacement = known[found] if found in known else known.setdefault(found, replace(match))
        if replacement is None:
            continue
        start, end = match.span()
        pieces += (text[position:start], replacement)
        moves.append((start + shift, start + shift + len(replacement), start, end))
        shift += len(replacement) - (end - start)
        position = end
    if not moves:
        return None
    pieces.append(text[position:])
    return View(decoding.name, "".join(pieces), parent, moves, parent.depth + 1)


def _blobs(parent: View) -> Iterator[View]:
    """Each base64 or hex run, decoded: a secret found inside one masks the whole run.

    Of a decoded view, only the runs that overlap or touch a decoded piece: any other run stands, with the same
    characters on either side, in the view it was decoded from, whose blobs are the same views of the same place."""
    text = parent.text
    for low, high in _run_windows(parent):
        for match in _BASE64.finditer(text, low, high):
            run = match.group(0)
            if not parent.new_between(*match.span()):
                continue
            data = _base64(run) if len(run) <= MAX_BLOB else None
            if data is not None and _text_like(data):
                yield View("base64", data.decode("latin-1"), parent, [(0, len(data), *match.span())], parent.depth + 1)
        for match in _HEX.finditer(text, low, high):
            if not parent.new_between(*match.span()):
                continue
            if len(match.group(0)) <= MAX_BLOB and _text_like(data := bytes.fromhex(match.group(0))):
                yield View("hex", data.decode("latin-1"), parent, [(0, len(data), *match.span())], parent.depth + 1)


def _run_windows(view: View) -> list[tuple[int, int]]:
    """Where a run that overlaps or touches a decoded piece can be: each piece widened to the whole stretch of
    run characters around it (a window starts and ends where no run can go on, so a search in it finds the runs
    a search of the whole text finds there). The text as it is: one window, all of it."""
    text = view.text
    if view.parent is None:
        return [(0, len(text))]
    windows: list[tuple[int, int]] = []
    covered = 0
    for view_start, view_end, _, _ in view.moves:
        if view_end <= covered and windows:
            continue  # within the last window, which ends where no run goes on
        gap = text[covered:view_start][::-1]  # back from the piece, to the first character no run holds
        stop = _NOT_RUN.search(gap)
        # A piece that starts inside the last window's run leaves a search from its start at most its own second
        # character (an escape decodes to one or two) before that run's end: too few for a run to start there.
        low = view_start - (stop.start() if stop else len(gap))
        covered = _RUN_STRETCH.match(text, view_end).end()
        windows.append((low, covered))
    return windows


def _text_like(data: bytes) -> bool:
    """Whether decoded bytes read as text (a secret is text): most identifiers and words decode to noise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # read as Latin-1, one character a byte: counted by a byte table
        sample_bytes = data[:2048]
        return bool(sample_bytes) and len(sample_bytes.translate(None, _TEXT_BYTES)) <= 0.1 * len(sample_bytes)
    sample = text[:2048]
    if sample.isprintable():
        return bool(sample)
    return sum(char.isprintable() or char in "\r\n\t" for char in sample) >= 0.9 * len(sample)


def _base64(run: str) -> bytes | None:
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        return None
    altchars = b"-_" if ("-" in body or "_" in body) else None
    if altchars and ("+" in body or "/" in body):
        return None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None


def views(text: str, name: str = "as written") -> Iterator[View]:
    """The text itself, then every decoding of it, and of those, up to MAX_DEPTH deep, within a work budget of
    WORK_FACTOR times the text's length (and WORK_FLOOR)."""
    pending = deque([View(name, text)])
    # Decodings in another order often give the same text of the same place: each is searched once. The same text
    # decoded from another place (a secret's hex written twice) is searched again, or the second would never be masked.
    seen: set[tuple[int, tuple[int, int] | None]] = set()
    budget, spent = WORK_FACTOR * len(text) + WORK_FLOOR, 0
    while pending:
        view = pending.popleft()
        key = (hash(view.text), view.origin(0, len(view.text)) if view.text else None)
        if key in seen:
            continue
        seen.add(key)
        spent += len(view.text)
        if spent > budget:
            return
        yield view
        if view.depth >= (1 if len(view.text) > LARGE_TEXT else MAX_DEPTH):
            continue
        for decoding in DECODINGS:
            if decoding.applies(view.text):
                decoded = _decode(view, decoding)
                if decoded is not None:
                    pending.append(decoded)
        pending.extend(_blobs(view))
