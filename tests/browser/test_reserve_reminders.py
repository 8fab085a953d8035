"""/reserve in Chromium against the real server with Web Push on: the resident picks "push
notification on this device" for the reminder, the page registers /sw.js with /reserve as its
scope and books with the browser's push subscription, and the reminder, signed with the VAPID
key and encrypted for the browser, reaches the local fake push service; the booking page's
"stop the reminder" is one tap.

Chromium cannot make a real PushSubscription on this offline machine (see
test_ticket_notices.py): the page gets the one the fake push service holds the keys of."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from browser_support import LiveServer, environment, start_live_server
from playwright.sync_api import Browser, BrowserContext, Playwright, expect
from sqlalchemy import create_engine, select, update
from support.push import SUBJECT, FakePushService, browser_subscription, fake_push_service
from test_accessibility import axe
from test_ticket_notices import FAKE_PUSH_MANAGER

from queue_server.adapters import tables as t

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(scope="module")
def push_url() -> Iterator[str]:
    with fake_push_service() as url:
        yield url


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("db") / "madoguchi.db"


@pytest.fixture(scope="module")
def live(db: Path, data_dir: Path, push_url: str) -> Iterator[LiveServer]:
    """Web Push on; reminders due at any hour of the day before, checked often."""
    with (
        environment(
            MADOGUCHI_WEB_PUSH="true",
            MADOGUCHI_VAPID_SUBJECT=SUBJECT,
            MADOGUCHI_REMINDER_HOUR="0",
            MADOGUCHI_DAY_CLOSE_CHECK_SECONDS="0.2",
        ),
        start_live_server(f"sqlite:///{db}", data_dir) as server,
    ):
        yield server


@pytest.fixture
def phone(browser: Browser, playwright: Playwright, live: LiveServer) -> Iterator[BrowserContext]:
    device = dict(playwright.devices["Pixel 7"])
    device.pop("default_browser_type", None)
    context = browser.new_context(
        **device,
        base_url=live.base,
        locale="en-US",
        bypass_csp=True,  # axe is injected
    )
    context.grant_permissions(["notifications"], origin=live.base)
    yield context
    context.close()


def wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met; push refused: {FakePushService.refused}")
        time.sleep(0.05)


def test_reserve_books_with_a_push_reminder_and_it_arrives(
    phone: BrowserContext, live: LiveServer, push_url: str, db: Path, axe_script: Path
) -> None:
    subscription = browser_subscription(f"{push_url}/push/reserve-device")
    phone.add_init_script(FAKE_PUSH_MANAGER.replace("SUBSCRIPTION", json.dumps(subscription)))
    server_key = live.get("/api/v1/notify/vapid-public-key").json()["key"]
    page = phone.new_page()
    page.goto("/reserve?lang=en")
    page.locator("#procedures button").first.click()
    page.locator("#days button:not([disabled])").first.click()
    page.locator("#slots button:not([disabled])").first.click()
    expect(page.get_by_label("No reminder")).to_be_checked()
    page.get_by_label("Push notification on this device").check()
    assert axe(page, axe_script) == []  # the reminder choice, accessibly
    page.locator("#book").click()
    expect(page.locator("#h-done")).to_have_text("Your visit is booked")
    expect(page.locator("#reminder-state")).to_contain_text("Push notification on this device")
    assert page.evaluate("window.pushCalls") == [{"userVisibleOnly": True, "key": server_key}]
    scope = page.evaluate(
        "navigator.serviceWorker.getRegistration('/reserve').then((r) => r && r.scope)"
    )
    assert scope == f"{live.base}/reserve"

    # The first open day may be later than tomorrow: the reminder goes for tomorrow's bookings
    # (its hour and the day before are tested with a fake clock in
    # tests/integration/test_reservation_reminders.py), so the booking is made tomorrow's.
    engine = create_engine(f"sqlite:///{db}")
    tomorrow = datetime.now(TOKYO).date() + timedelta(days=1)
    with engine.begin() as c:
        (address,) = c.execute(select(t.reservations.c.reminder_address)).one()
        if address is not None:  # None: booked tomorrow, and reminded already
            assert json.loads(address) == subscription
            c.execute(update(t.reservations).values(business_date=tomorrow))
    wait_for(lambda: len(FakePushService.received) == 1)
    reminder = FakePushService.received[0]
    assert reminder["title"].startswith("Your visit tomorrow at ")
    assert "/notify/unsubscribe/r." in reminder["unsubscribe"]
    assert FakePushService.refused == [] and set(FakePushService.server_keys) == {server_key}
    with engine.connect() as c:
        assert c.execute(select(t.reservations.c.reminder_address)).scalar_one() is None
    engine.dispose()
    page.close()


def test_the_booking_page_stops_the_reminder_with_one_tap(
    phone: BrowserContext, live: LiveServer, push_url: str
) -> None:
    subscription = browser_subscription(f"{push_url}/push/reserve-device-2")
    phone.add_init_script(FAKE_PUSH_MANAGER.replace("SUBSCRIPTION", json.dumps(subscription)))
    page = phone.new_page()
    page.goto("/reserve?lang=en")
    page.locator("#procedures button").first.click()
    page.locator("#days button:not([disabled])").last.click()
    page.locator("#slots button:not([disabled])").first.click()
    page.get_by_label("Push notification on this device").check()
    page.locator("#book").click()
    expect(page.locator("#reminder-stop")).to_have_text("Stop the reminder")
    short = page.locator("#short-code").inner_text()
    page.locator("#reminder-stop").click()
    expect(page.locator("#message")).to_have_text(
        "You will get no more reminders for this booking."
    )
    expect(page.locator("#reminder-note")).to_be_hidden()
    found = httpx.post(f"{live.base}/api/v1/reservations/lookup", json={"code": short}).json()
    assert found["reservation"]["reminder"] is False
    page.close()
