"""The residents' pages served by the public relay (live figures, their age, the stale state when
the queue server's pushes stop), and the languages an office offers."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, expect
from support.server import RELAY_SECRET, bearer, prepare, relay_process, server_process

from queue_server.adapters.office_file import DEMO_OFFICE, around_the_clock, read_office_file
from queue_server.service.ports import SystemClock


@pytest.fixture
def phone(browser: Browser, playwright: Playwright) -> Iterator[BrowserContext]:
    device = dict(playwright.devices["Pixel 7"])
    device.pop("default_browser_type", None)
    context = browser.new_context(**device, locale="ja-JP")
    yield context
    context.close()


@pytest.mark.slow
def test_pages_through_the_relay_show_the_age_of_the_figures_and_when_they_stop(
    phone: BrowserContext, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine, tokens = prepare(url, SystemClock(), always_open=True)
    engine.dispose()
    options = ("--heartbeat", "1", "--offline-after", "3")
    with relay_process(options=options) as relay:
        # A state tick each second: pushes keep coming while nothing happens, as every 30 s in use.
        push = {
            "relay_push_url": relay,
            "relay_push_secret": RELAY_SECRET,
            "state_tick_seconds": "1",
        }
        with server_process(url, **push) as server:
            ticket = httpx.post(
                f"{server}/api/v1/tickets",
                json={"category_id": "koseki"},
                headers=bearer(tokens.kiosk),
            ).json()["ticket"]
            page = phone.new_page()
            page.goto(f"{relay}/")
            card = page.locator('[data-category="koseki"]')
            expect(card.locator(".waiting")).to_have_text("1人", timeout=10_000)
            expect(page.locator("#conn")).to_have_text(re.compile(r"^最新の情報: \d\d:\d\d$"))
            slip = phone.new_page()
            slip.goto(f"{relay}/t/{ticket['public_id']}")
            expect(slip.locator("body")).to_contain_text(ticket["number"], timeout=10_000)
        # The queue server is gone: the relay keeps serving, and says the figures have stopped.
        expect(page.locator("#conn")).to_contain_text("更新が止まっています", timeout=10_000)
        expect(page.locator("body")).to_have_attribute("data-connection", "stale")
        expect(card.locator(".waiting")).to_have_text("1人")


def test_an_office_offering_japanese_and_english_offers_those_only(
    phone: BrowserContext, tmp_path: Path
) -> None:
    raw = around_the_clock(read_office_file(DEMO_OFFICE))
    raw["office"]["languages"] = ["ja", "en"]
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine, _ = prepare(url, SystemClock(), raw=raw)
    engine.dispose()
    with server_process(url) as server:
        page = phone.new_page()
        page.goto(f"{server}/?lang=ko")  # asked for a language the office does not offer
        expect(page.locator("body")).to_have_attribute("data-connection", "online")
        options = page.locator("#lang option")
        expect(options).to_have_count(2)
        assert options.evaluate_all("all => all.map(o => o.value)") == ["ja", "en"]
        expect(page.locator("html")).to_have_attribute("lang", "ja")


@pytest.mark.slow
def test_reserve_on_the_relay_books_a_visit_and_says_when_bookings_are_unavailable(
    phone: BrowserContext, tmp_path: Path
) -> None:
    from test_reserve_page import book_through_the_steps

    import visitor_text

    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine, _ = prepare(url, SystemClock())
    engine.dispose()
    # --answer-wait 0: every request answers 202 first, so the page's polling is what books.
    options = ("--answer-wait", "0", "--pull-stale", "3")
    with relay_process(options=options) as relay:
        pulling = {
            "relay_push_url": relay,
            "relay_push_secret": RELAY_SECRET,
            "secret_key": "relay-browser-test-secret-0123456789",
        }
        with server_process(url, **pulling) as server:
            page = phone.new_page()
            elsewhere: list[str] = []
            page.on(
                "request",
                lambda r: elsewhere.append(r.url) if not r.url.startswith(relay) else None,
            )
            deadline = time.monotonic() + 20
            while httpx.get(f"{relay}/api/v1/reserve/procedures").status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            page.goto(f"{relay}/reserve?lang=en")
            short = book_through_the_steps(page, "en")
            assert elsewhere == []
            found = httpx.get(f"{server}/api/v1/reserve/procedures/mynumber/days").json()
            assert found["days"]  # the queue server still answers directly, too
            lookup = httpx.post(f"{server}/api/v1/reservations/lookup", json={"code": short})
            assert lookup.json()["reservation"]["state"] == "booked"  # booked on the inside
        # The queue server stopped pulling: the page says so in the visitor's language.
        time.sleep(3.5)
        page.goto(f"{relay}/reserve?lang=ja")
        expect(page.locator("#message")).to_have_text(
            visitor_text.text("ja", "reserve.unavailable"), timeout=10_000
        )
