"""Every catalogue key the ticket page's notice panel uses exists in every visitor language: a
key missing from one language, or misspelt in the script, fails here rather than on a phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import visitor_text

SCRIPT = Path(__file__).resolve().parents[2] / "display_board/web/assets/js/ticket-notify.js"
KEYS = sorted(set(re.findall(r'"((?:public|common)\.[a-z_]+)"', SCRIPT.read_text("utf-8"))))


def test_the_panel_names_its_refusals() -> None:
    assert {"public.notify_unavailable", "common.rate_limited"} <= set(KEYS)


@pytest.mark.parametrize("lang", list(visitor_text.LANGUAGES))
def test_every_key_the_panel_uses_is_in_every_language(lang: str) -> None:
    missing = []
    for key in KEYS:
        try:
            visitor_text.text(lang, key)
        except visitor_text.MissingText:
            missing.append(key)
    assert missing == [], f"{lang} lacks {missing}"
