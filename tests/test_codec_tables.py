"""The codec tables a run hands hypothesis (to spare every run deriving them) are the ones it would derive."""

from __future__ import annotations

from pathlib import Path

import hypothesis.configuration
import pytest
from hypothesis.internal.charmap import intervals_from_codec

from conformance.plugin import CODEC_TABLES, seed_codec_tables


@pytest.mark.parametrize("codec", sorted(CODEC_TABLES))
def test_seeded_codec_table_is_what_hypothesis_derives(codec: str, tmp_path: Path) -> None:
    previous = hypothesis.configuration.storage_directory().path
    try:
        hypothesis.configuration.set_hypothesis_home_dir(tmp_path / "derived")
        intervals_from_codec.cache_clear()
        derived = intervals_from_codec(codec)
        seed_codec_tables(tmp_path / "seeded")
        hypothesis.configuration.set_hypothesis_home_dir(tmp_path / "seeded")
        intervals_from_codec.cache_clear()
        seeded = intervals_from_codec(codec)
    finally:
        hypothesis.configuration.set_hypothesis_home_dir(previous)
        intervals_from_codec.cache_clear()
    assert [s.intervals for s in seeded] == [d.intervals for d in derived]
