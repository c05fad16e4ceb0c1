"""The end-of-run scan: no artefact, and nothing the run printed, may show a secret in any view.

Masking happens at ingestion (`conformance.ingest`), so the scan is a check of that door, not a second masker:
it reads every artefact (zip members included) through the same views the masker uses (`report.views`), and a
hit means a path that bypassed ingestion. It looks for distinct secrets only (`masking.is_distinct`): a weak
one (short, or a word the suite itself writes, such as `test`) cannot be told from the suite's own words, so it
would only raise false alarms; it is masked where it stands as a value, and its Basic token is distinct.

A hit names the artefact and the view it was seen through (e.g. "loyalty.html (HTML-escaped, base64)"), never
the secret.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

from .masking import Masker


def finder(secrets: Iterable[str], basic_pairs: Iterable[tuple[str, str]] = ()) -> Masker:
    """What the scan looks for: the secrets, and the Basic tokens of each (username, password) pair."""
    masker = Masker(secrets)
    for username, password in basic_pairs:
        masker.add_basic(username, password)
    return masker


def seen_through(data: bytes, secrets: Masker) -> str | None:
    """The view through which `data` shows a distinct secret (None: it shows none)."""
    for _, _, view in secrets.occurrences(data.decode("latin-1"), weak=False):
        return view.names()
    return None


def scan(paths: Iterable[Path], secrets: Masker, *, texts: Iterable[tuple[str, str]] = ()) -> list[str]:
    """The artefacts (zip members included) and the named `texts` (e.g. the terminal transcript) that show a secret,
    each with the view it was seen through."""
    found = []

    def check(name: str, data: bytes) -> None:
        view = seen_through(data, secrets)
        if view is not None:
            found.append(f"{name} ({view})")

    for path in paths:
        if not path.is_file():
            continue
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    check(f"{path.name}:{member}", archive.read(member))
        else:
            check(path.name, path.read_bytes())
    for name, text in texts:
        check(name, text.encode("utf-8", "surrogatepass"))
    return found
