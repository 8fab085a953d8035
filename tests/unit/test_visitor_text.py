"""The one visitor catalogue: every language has every sentence; the counter rule reads right."""

from __future__ import annotations

import pytest

import visitor_text
from visitor_text import LANGUAGES, MissingText, minutes, missing_keys, text


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "ja"])
def test_every_language_has_every_sentence_japanese_has(lang: str) -> None:
    assert missing_keys(lang) == set(), f"{lang} lacks {sorted(missing_keys(lang))}"


@pytest.mark.parametrize(
    ("n", "reading"),
    [
        (1, "1ぷん"),
        (2, "2ふん"),
        (3, "3ぷん"),
        (4, "4ぷん"),
        (5, "5ふん"),
        (6, "6ぷん"),
        (7, "7ふん"),
        (8, "8ぷん"),
        (9, "9ふん"),
        (10, "10ぷん"),
        (12, "12ふん"),
        (20, "20ぷん"),
        (45, "45ふん"),
        (100, "100ぷん"),
    ],
)
def test_easy_japanese_reads_minutes_by_the_last_digit(n: int, reading: str) -> None:
    assert minutes("ja-easy", n) == f"だいたい {reading}"


def test_japanese_and_english_minutes() -> None:
    assert minutes("ja", 6) == "約6分"
    assert minutes("en", 6) == "about 6 min"


def test_a_missing_sentence_fails_loudly() -> None:
    with pytest.raises(MissingText):
        text("en", "common.no_such_sentence")
    with pytest.raises(MissingText):
        visitor_text.catalog("xx")
