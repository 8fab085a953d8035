"""One source for visitor words: the residents' pages, the board and /apply carry no sentences of
their own; everything a visitor reads comes from the visitor catalogue (visitor_text/locales).
A static check, no browser: a new hard-coded Japanese, Korean or Chinese string fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "display_board" / "web"
PAGES = [
    WEB / "index.html",
    WEB / "ticket.html",
    WEB / "board.html",
    WEB / "assets" / "js" / "public.js",
    WEB / "assets" / "js" / "ticket.js",
    WEB / "assets" / "js" / "ticket-notify.js",
    WEB / "assets" / "js" / "sw.js",
    WEB / "assets" / "js" / "board.js",
    WEB / "assets" / "js" / "i18n.js",
    ROOT / "queue_server" / "api" / "web" / "apply.html",
    ROOT / "queue_server" / "api" / "web" / "apply.js",
]
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]+")
# Not sentences: each language's own name in the pickers, and the office calendar's Japanese
# closure reasons the pages match in order to translate them.
ALLOWED = {"日本語", "やさしい", "にほんご", "简体中文", "한국어", "閉庁日", "年末年始", "休庁日"}


def without_comments(text: str) -> str:
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"(^|\s)//[^\n]*", r"\1", text)
    return re.sub(r"<title>.*?</title>", "", text)  # replaced by the page's words once loaded


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_visitor_pages_hold_no_words_of_their_own(path: Path) -> None:
    found = set(CJK.findall(without_comments(path.read_text(encoding="utf-8")))) - ALLOWED
    assert not found, f"{path.name}: move {sorted(found)} into visitor_text/locales"


def test_the_check_can_fail() -> None:
    assert CJK.findall(without_comments('el("p", { text: "お待ちください" }); // ok'))
