"""Every visitor-facing sentence in one place, for every surface: kiosk, slip, board, phone, apply.

The catalogue is one TOML file per language under `locales/` (`ja.toml`, `en.toml`, ...), each with
one table per surface (`[kiosk]`, `[slip]`, `[public]`, `[board]`, `[apply]`, `[reserve]`) plus
`[common]` for what several surfaces say the same way, and `[forms]` for the request forms' words
(their structure is in `queue_server/domain/forms.py`, which names these keys). Python reads it
through `text()`; the pages load the same files as JSON from the server
(`/assets/texts/<lang>.json`) and format them with the same rules, so a translator edits one file
and every screen changes together.

Templates use `{name}` placeholders. Counting words that depend on the number are data, not code:
`minutes()` picks the Japanese counter reading (ふん/ぷん) from `[common] minute_counter`, a table
indexed by the last digit, which the JS applies the same way. A test fails when any language lacks
a key that Japanese has.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).parent / "locales"

# Every visitor language, in the order the kiosk and the pages offer them, with its own name.
LANGUAGES: dict[str, str] = {
    "ja": "日本語",
    "ja-easy": "やさしい にほんご",
    "en": "English",
    "zh-Hans": "简体中文",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "pt": "Português",
}
SOURCE_LANGUAGE = "ja"


class MissingText(KeyError):
    """A sentence is missing from a catalogue: a translation bug, never shown to a visitor."""


@cache
def catalog(lang: str) -> dict[str, Any]:
    """The whole catalogue of one language, as read from its TOML file."""
    if lang not in LANGUAGES:
        raise MissingText(f"unknown visitor language {lang!r}")
    with (LOCALES / f"{lang}.toml").open("rb") as f:
        return tomllib.load(f)


def _lookup(lang: str, key: str) -> Any:
    node: Any = catalog(lang)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise MissingText(f"{lang}: no text for {key!r}")
        node = node[part]
    return node


def text(lang: str, key: str, /, **values: object) -> str:
    """The sentence `key` ("surface.name") in `lang`, with its placeholders filled in."""
    template = _lookup(lang, key)
    if not isinstance(template, str):
        raise MissingText(f"{lang}: {key!r} is a table, not a sentence")
    return template.format(**values) if values else template


def table(lang: str, key: str) -> Any:
    """A non-sentence entry (a list of weekday names, a table of states) as stored."""
    return _lookup(lang, key)


def minute_counter(lang: str, n: int) -> str:
    """The word for "minutes" after the number `n`, by the language's own reading rule.

    Japanese in kana reads 分 as ふん or ぷん by the last digit (1, 3, 4, 6, 8 and 0 give ぷん);
    languages without such a rule give one word for every number.
    """
    rule = _lookup(lang, "common.minute_counter")
    if isinstance(rule, str):
        return rule
    return str(rule[abs(int(n)) % 10])


def minutes(lang: str, n: int, key: str = "common.minutes") -> str:
    """A number of minutes as the language writes it, e.g. 約5分, だいたい 6ぷん, about 5 min."""
    return text(lang, key, n=n, counter=minute_counter(lang, n))


def flat_keys(lang: str) -> set[str]:
    """Every dotted key of a language's catalogue, for the completeness test."""

    def walk(prefix: str, node: Any) -> set[str]:
        if isinstance(node, dict):
            keys: set[str] = set()
            for name, child in node.items():
                keys |= walk(f"{prefix}.{name}" if prefix else name, child)
            return keys
        return {prefix}

    return walk("", catalog(lang))


def missing_keys(lang: str) -> set[str]:
    """Keys Japanese has and `lang` lacks."""
    return flat_keys(SOURCE_LANGUAGE) - flat_keys(lang)
