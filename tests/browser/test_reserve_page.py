"""The /reserve phone page in Chromium at 390x844: every language books a visit through the four
steps, with no WCAG AA violation found by axe, nothing fetched from elsewhere, no sideways
scrolling; a booking is then looked up by its short code and cancelled."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser_support import LiveServer, open_console
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import insert, select
from test_accessibility import axe

import visitor_text
from queue_server.adapters import tables as t
from queue_server.adapters.database import create_database_engine

TOKYO = ZoneInfo("Asia/Tokyo")
PHONE = {"width": 390, "height": 844}
LANGUAGES = list(visitor_text.LANGUAGES)


@pytest.fixture
def context(browser: Browser, live: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=live.base, viewport=PHONE, locale="ja-JP", bypass_csp=True, has_touch=True
    )
    yield context
    context.close()


def fits_the_phone(page: Page) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"))


def book_through_the_steps(page: Page, lang: str) -> str:
    """Procedure, day, slot, book; the short code shown."""
    text = lambda key: visitor_text.text(lang, f"reserve.{key}")  # noqa: E731
    expect(page.locator("#h-procedure")).to_have_text(text("step_procedure"))
    page.locator("#procedures button").first.click()
    expect(page.locator("#h-day")).to_be_visible()
    page.locator("#days button:not([disabled])").first.click()
    expect(page.locator("#h-slot")).to_be_visible()
    page.locator("#slots button:not([disabled])").first.click()
    expect(page.locator("#book")).to_have_text(text("book"))
    page.locator("#book").click()
    expect(page.locator("#h-done")).to_have_text(text("done_title"))
    short = page.locator("#short-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", short)
    expect(page.locator("#qr")).to_be_visible()
    return short


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_books_a_visit_accessibly_on_a_phone(
    context: BrowserContext, live: LiveServer, axe_script: Path, lang: str
) -> None:
    page = context.new_page()
    foreign: list[str] = []
    page.on(
        "request",
        lambda r: (
            foreign.append(r.url)
            if not (r.url.startswith(live.base) or r.url.startswith("data:"))
            else None
        ),
    )
    page.goto(f"/reserve?lang={lang}")
    expect(page.locator("#title")).to_have_text(visitor_text.text(lang, "reserve.title"))
    expect(page.locator("#procedures button")).to_have_count(1)
    assert axe(page, axe_script) == []
    assert fits_the_phone(page)
    book_through_the_steps(page, lang)
    assert axe(page, axe_script) == []
    assert fits_the_phone(page)
    assert foreign == []


def test_a_booking_is_found_by_its_short_code_and_cancelled(
    context: BrowserContext, live: LiveServer
) -> None:
    page = context.new_page()
    page.goto("/reserve?lang=en")
    short = book_through_the_steps(page, "en")
    other = context.new_page()
    other.goto("/reserve?lang=en")
    other.locator("#manage-code").fill(short.lower().replace("-", ""))
    other.locator("#manage-find").click()
    expect(other.locator("#done-state")).to_have_text("Booked")
    expect(other.locator("#short-block")).to_be_hidden()  # shown only when booked
    other.on("dialog", lambda dialog: dialog.accept())
    other.locator("#cancel").click()
    expect(other.locator("#done-state")).to_have_text("Cancelled")
    expect(other.locator("#message")).to_have_text("Your booking is cancelled.")
    expect(other.locator("#cancel")).to_be_hidden()


def test_the_clerk_console_lists_todays_reservations(browser: Browser, live: LiveServer) -> None:
    # Today's booking written straight into the database: through the API a booking needs an
    # hour's lead, which the real clock may not leave late in the day.
    now = datetime.now(TOKYO)
    # Far from now on today's date: still to come in the morning, long past in the afternoon.
    later = now.hour < 12
    slot = now.replace(hour=23 if later else 0, minute=30, second=0, microsecond=0)
    engine = create_database_engine(live.url)
    with engine.begin() as c:
        office_id = c.execute(select(t.offices.c.id)).scalar_one()
        c.execute(
            insert(t.reservations).values(
                office_id=office_id,
                reference="browser-test",
                code_hash="0" * 64,
                category_id="mynumber",
                business_date=slot.date(),
                slot_start=slot,
                slot_minutes=30,
                language="ja",
                state="booked",
                reminder_attempts=0,
                created_at=now,
                updated_at=now,
            )
        )
    engine.dispose()
    context = browser.new_context(base_url=live.base, viewport={"width": 1280, "height": 800})
    try:
        page = open_console(context, "c8")
        box = page.locator("#reservations")
        expect(box).to_contain_text(f"{slot:%H:%M}")
        expect(box).to_contain_text("マイナンバーカード")
        expect(box).to_contain_text("未受付" if later else "来庁なし")
    finally:
        context.close()
