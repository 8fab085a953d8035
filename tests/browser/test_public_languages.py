"""The residents' phone pages in all 7 languages (390x844): every word from the visitor
catalogue, no English on a page in another language (proper names aside), no standard Japanese on
the やさしい日本語 page, minutes read by the shared ふん/ぷん rule, and the ticket page's
states (called, no-show) say where to go while the notification panel steps aside."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import Browser, BrowserContext, Page, expect

import visitor_text
from visitor_text import LANGUAGES

PHONE = {"width": 390, "height": 844}
LATIN_WORD = re.compile(r"[A-Za-zÀ-ỹ]{3,}")
KANJI = re.compile(r"[\u4e00-\u9fff]")


def sentences(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for child in node.values():
            yield from sentences(child)
    elif isinstance(node, list):
        for child in node:
            yield from sentences(child)


def fragments(lang: str, surface: str = "public", letters: int = 4) -> set[str]:
    """The fixed pieces of a language's sentences (between placeholders) with enough letters
    to be recognisable."""
    out = set()
    for sentence in sentences(visitor_text.catalog(lang)[surface]):
        for piece in re.split(r"\{\w+\}", sentence):
            piece = piece.strip(" :・（）()、。…")
            if len(re.findall(r"\w", piece)) >= letters:
                out.add(piece)
    return out


def foreign(lang: str, other: str) -> set[str]:
    """Pieces of `other`'s sentences that must not show on a page in `lang`."""
    own = " ".join(sentences(visitor_text.catalog(lang)["public"]))
    return {piece for piece in fragments(other) if piece not in own}


def visible_text(page: Page) -> str:
    """What the page shows, without the language picker (each language under its own name)."""
    return str(
        page.evaluate(
            """() => { const picker = document.getElementById("lang-picker");
                       picker.hidden = true; const text = document.body.innerText;
                       picker.hidden = false; return text; }"""
        )
    )


def office_names(live: LiveServer, lang: str) -> list[str]:
    """The office's own names for `lang`: its name and its procedures' (proper names)."""
    office = live.get("/api/v1/office").json()
    return [office["names"].get(lang, "")] + [
        c["names"].get(lang, "") for c in office["categories"]
    ]


def office_words(live: LiveServer, lang: str) -> set[str]:
    """Latin words in the office's names for `lang` (such as My Number)."""
    return {w for name in office_names(live, lang) for w in LATIN_WORD.findall(name)}


@pytest.fixture(scope="module")
def tickets(live: LiveServer) -> dict[str, Any]:
    """One ticket being called (for 窓口 on the congestion page) and one waiting."""
    for _ in range(3):
        live.issue("koseki")
    called = live.post("/api/v1/counters/c3/call-next", live.tokens.clerk).json()["ticket"]
    return {"called": called, "waiting": live.issue("koseki")}


@pytest.fixture(scope="module")
def phone(browser: Browser, live: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live.base, viewport=PHONE, device_scale_factor=2)
    yield context
    context.close()


def open_page(phone: BrowserContext, path: str, lang: str) -> Page:
    page = phone.new_page()
    page.goto(f"{path}?lang={lang}")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=10000)
    expect(page.locator("body")).to_have_attribute("data-connection", "online", timeout=10000)
    return page


def check_language(page: Page, live: LiveServer, lang: str) -> str:
    text = visible_text(page)
    if lang != "en":
        leaked = sorted(p for p in foreign(lang, "en") if p in text)
        assert not leaked, f"{lang}: English on the page: {leaked}"
    if lang in ("ja", "ja-easy", "zh-Hans", "ko"):
        allowed = office_words(live, lang)
        words = sorted(set(LATIN_WORD.findall(text)) - allowed)
        assert not words, f"{lang}: Latin words on the page: {words}"
    if lang == "ja-easy":
        leaked = sorted(p for p in foreign("ja-easy", "ja") if p in text)
        assert not leaked, f"やさしい日本語 page shows standard Japanese: {leaked}"
        # Written in kana: kanji only inside the office's own names for this language.
        kanji = set(KANJI.findall(text)) - set(KANJI.findall(" ".join(office_names(live, lang))))
        assert not kanji, f"やさしい日本語 page shows kanji: {sorted(kanji)}"
    return text


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_congestion_page_speaks_only_the_visitors_language(
    phone: BrowserContext, live: LiveServer, tickets: dict[str, Any], lang: str
) -> None:
    page = open_page(phone, "/", lang)
    card = page.locator('[data-category="koseki"]')
    expect(card.locator(".called")).to_contain_text(tickets["called"]["number"])
    text = check_language(page, live, lang)
    call_at = visitor_text.text(
        lang, "public.call_at", number=tickets["called"]["number"], counter=3
    )
    assert call_at in text, f"{lang}: the call does not say which counter: {call_at!r}"
    # The legend explains the lamp in this language, naming minutes and people.
    assert page.locator("#legend li").count() == 3
    page.close()


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_ticket_page_speaks_only_the_visitors_language(
    phone: BrowserContext, live: LiveServer, tickets: dict[str, Any], lang: str
) -> None:
    waiting = tickets["waiting"]
    page = open_page(phone, f"/t/{waiting['public_id']}", lang)
    expect(page.locator("#number")).to_have_text(waiting["number"])
    expect(page.locator("#notify")).to_be_visible()
    check_language(page, live, lang)
    # The shared reading (だいたい 6ぷん, 約6分, about 6 min ...) of the server's figure, which
    # a clock tick may move while the test looks: compare with a fresh figure each time.
    shown = ""
    for _ in range(20):
        ticket = live.get(f"/api/v1/tickets/by-public-id/{waiting['public_id']}").json()["ticket"]
        minutes = ticket["estimated_wait_minutes"]
        wanted = "—" if minutes is None else visitor_text.minutes(lang, minutes)
        shown = page.locator("#wait").inner_text()
        if shown == wanted:
            break
        page.wait_for_timeout(250)
    assert shown == wanted
    page.close()


def test_called_and_missed_tickets_say_where_to_go_and_hide_notifications(
    phone: BrowserContext, live: LiveServer
) -> None:
    ticket = live.issue("tax")
    page = open_page(phone, f"/t/{ticket['public_id']}", "ja")
    expect(page.locator("#notify")).to_be_visible()
    live.post(f"/api/v1/tickets/{ticket['id']}/call", live.tokens.clerk, {"counter_id": "c7"})
    expect(page.locator("#where")).to_have_text("7番窓口へお越しください", timeout=5000)
    expect(page.locator("#notify")).to_be_hidden()
    live.post(f"/api/v1/tickets/{ticket['id']}/no-show", live.tokens.clerk)
    expect(page.locator("#state")).to_have_text(
        visitor_text.text("ja", "public.states.no_show"), timeout=5000
    )
    expect(page.locator("#where")).to_have_text("7番窓口にお申し出ください")
    expect(page.locator("#notify")).to_be_hidden()
    page.close()
