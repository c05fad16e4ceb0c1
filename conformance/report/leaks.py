"""The end-of-run scan: no artefact may hold a secret, in any encoding, however deeply it is wrapped.

Each artefact is searched as it is and decoded: HTML entities undone, JSON `\\uXXXX` and `\\"` escapes
undone, percent-encoding undone, and every base64 run decoded (pytest-html keeps its extras that way),
down to a few levels. The needles are every form of every secret (`masking.encodings`), case-insensitive.

An occurrence that is the suite's own static text is no leak: a password that happens to be "password"
appears in rule texts, test names and probe bodies. An occurrence counts as static when the text around
it is found in the suite's own text (its specs, its source, pytest-html's page), or when it is part of a
longer word and the secret itself is a word of that text.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import zipfile
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import unquote

from .masking import Needles, basic_tokens, encodings

CONTEXT = 12  # characters each side of an occurrence compared with the suite's own text
# Runs that can hold an encoded secret (pytest-html keeps its extras as standard base64): long enough, and only
# those that decode to text are read further (identifiers such as test names decode to noise).
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]{20,}={0,2}")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_WORD = re.compile(r"[\w-]")


def needles(secrets: Iterable[str], basic_pairs: Iterable[tuple[str, str]] = ()) -> list[str]:
    found: set[str] = set()
    for secret in secrets:
        found |= encodings(secret)
    for username, password in basic_pairs:
        for token in basic_tokens(username, password):
            found |= encodings(token)
    return sorted({needle.lower() for needle in found if len(needle) >= 3}, key=len, reverse=True)


@lru_cache(maxsize=1)
def suite_text() -> str:
    """Everything the suite itself writes whatever the target: specs, source, pytest-html's page."""
    parts: list[str] = []
    roots = [resources.files("conformance"), resources.files("conformance.specs")]  # apart in a checkout
    try:
        roots.append(resources.files("pytest_html"))
    except ModuleNotFoundError:  # pragma: no cover - pytest-html is a dependency
        pass
    for root in roots:
        stack = [root]
        while stack:
            node = stack.pop()
            if node.is_dir():
                if node.name in ("fixtures", "__pycache__"):  # reference services answer like targets do
                    continue
                stack.extend(node.iterdir())
            elif node.name.endswith((".py", ".yaml", ".toml", ".css", ".js", ".html", ".ini", ".jinja2")):
                parts.append(node.read_text("utf-8", errors="replace"))
    return _normalise("\n".join(parts))


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()


def views(data: bytes, depth: int = 0) -> Iterator[str]:
    """The artefact's text, and each decoding of it a secret could hide behind (only those that change it)."""
    text = data.decode("utf-8", errors="replace")
    yield text
    if depth == 0:
        yield data.decode("latin-1")
    unescaped = html.unescape(text) if "&" in text else text
    if unescaped is not text:
        yield unescaped
    json_text = unescaped
    if "\\" in unescaped:
        json_text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), unescaped).replace('\\"', '"')
        yield json_text.replace("\\\\", "\\")
    if "%" in json_text:
        yield unquote(json_text)
    if depth < 3:
        for run in _BASE64_RUN.finditer(json_text.encode("utf-8", errors="replace")):
            chunk = run.group(0)
            try:
                decoded = base64.b64decode(chunk + b"=" * (-len(chunk) % 4), validate=True)
            except (binascii.Error, ValueError):
                continue
            if _looks_like_text(decoded):
                yield from views(decoded, depth + 1)


def _looks_like_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    sample = text[:2000]
    return sum(char.isprintable() or char in "\r\n\t" for char in sample) >= 0.9 * len(sample)


def _unescaped(text: str) -> list[str]:
    """A window of an artefact as written, and as read after undoing HTML and JSON escaping."""
    unescaped = html.unescape(text)
    json_text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), unescaped).replace('\\"', '"')
    return [text, unescaped, json_text.replace("\\\\", "\\")]


def _static_here(text: str, start: int, needle: str, corpus: str) -> bool:
    end = start + len(needle)
    left = _normalise(text[max(0, start - CONTEXT) : end])
    right = _normalise(text[start : end + CONTEXT])
    if left in corpus or right in corpus:
        return True
    glued = (start > 0 and _WORD.match(text[start - 1])) or (end < len(text) and _WORD.match(text[end]))
    return bool(glued) and re.search(rf"(?<![\w-]){re.escape(needle)}(?![\w-])", corpus) is not None


def _static(view: str, start: int, needle: str, corpus: str) -> bool:
    """Whether the occurrence at `start` is the suite's own text, judged on the window around it as written and
    unescaped (an escaped quote next to a word of a rule text must not make it look foreign)."""
    window = view[max(0, start - 4 * CONTEXT) : start + len(needle) + 4 * CONTEXT]
    for candidate in _unescaped(window):
        lowered = candidate.lower()
        found = [m.start() for m in re.finditer(re.escape(needle), lowered)]
        if found and all(_static_here(lowered, at, needle, corpus) for at in found):
            return True
    return False


def leaked(data: bytes, secret_needles: list[str], corpus: str | None = None) -> bool:
    finder = Needles(secret_needles)
    if finder.empty:
        return False
    corpus = suite_text() if corpus is None else corpus
    for view in views(data):
        lowered = view.lower()
        if len(lowered) != len(view):
            lowered = view  # keep offsets true; forms with case changes are matched as they are
        for start, end in finder.spans(lowered):
            if not _static(lowered, start, lowered[start:end], corpus):
                return True
    return False


def scan(paths: Iterable[Path], secret_needles: list[str]) -> list[str]:
    """The artefacts (zip members included) that hold a secret."""
    found = []
    for path in paths:
        if not path.is_file():
            continue
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                found += [
                    f"{path.name}:{name}" for name in archive.namelist() if leaked(archive.read(name), secret_needles)
                ]
        elif leaked(path.read_bytes(), secret_needles):
            found.append(path.name)
    return found
