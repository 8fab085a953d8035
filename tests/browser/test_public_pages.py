"""Residents' pages on a phone: congestion with lamps, and the ticket page from the slip's QR
with its opt-in notification."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_support import LiveServer
from playwright.sync_api import Browser, BrowserContext, Playwright, expect

# Records what the page asks of the phone (a headless browser has no notification centre).
RECORDER = """
window.told = [];
window.Notification = class { constructor(title) { window.told.push(title); }
  static get permission() { return "granted"; }
  static requestPermission() { return Promise.resolve("granted"); } };
navigator.vibrate = (pattern) => { window.told.push("vibrate"); return true; };
"""


@pytest.fixture
def phone(browser: Browser, playwright: Playwright, live: LiveServer) -> Iterator[BrowserContext]:
    device = dict(playwright.devices["Pixel 7"])
    device.pop("default_browser_type", None)
    context = browser.new_context(**device, base_url=live.base, locale="ja-JP")
    context.add_init_script(RECORDER)
    yield context
    context.close()


def test_congestion_page_shows_waits_lamps_and_calls_live(
    phone: BrowserContext, live: LiveServer
) -> None:
    page = phone.new_page()
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    card = page.locator('[data-category="koseki"]')
    expect(card.locator(".lamp")).to_have_text("空いています")
    tickets = [live.issue("koseki") for _ in range(3)]
    expect(card.locator(".waiting")).to_have_text("3人", timeout=2000)
    live.post("/api/v1/counters/c2/call-next", live.tokens.clerk)
    expect(card.locator(".called")).to_contain_text(f"{tickets[0]['number']} → 2", timeout=1000)
    # Other languages of the kiosk, chosen on the page.
    page.get_by_label("言語 / Language").select_option("en")
    expect(card.locator(".lamp")).to_have_text("Not busy")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("言語 / Language").select_option("ja")
    live.post("/api/v1/counters/c2/call-next", live.tokens.clerk, {"finish_current": True})


def test_ticket_page_follows_the_ticket_and_notifies_when_called(
    phone: BrowserContext, live: LiveServer
) -> None:
    ahead = live.issue("tax")
    mine = live.issue("tax")
    page = phone.new_page()
    page.goto(f"/t/{mine['public_id']}")
    expect(page.locator("#number")).to_have_text(mine["number"])
    expect(page.locator("#ahead")).to_have_text("1人")
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    page.get_by_label("前の人数がこの人数以下になったら知らせる").select_option("1")
    page.get_by_role("button", name="通知を受け取る").click()
    expect(page.locator("#notify-message")).to_contain_text("あと1人")

    live.post(f"/api/v1/tickets/{ahead['id']}/call", live.tokens.clerk, {"counter_id": "c7"})
    live.post(f"/api/v1/tickets/{ahead['id']}/finish", live.tokens.clerk)
    live.post(f"/api/v1/tickets/{mine['id']}/call", live.tokens.clerk, {"counter_id": "c7"})

    expect(page.locator("#state")).to_have_text("お呼びしています", timeout=1000)
    expect(page.locator("#where")).to_have_text("7番窓口へお越しください")
    told = page.evaluate("window.told")
    assert "vibrate" in told
    assert any("7番窓口" in t for t in told)


def test_unknown_ticket_says_so(phone: BrowserContext) -> None:
    page = phone.new_page()
    page.goto("/t/no-such-ticket")
    expect(page.locator("#missing")).to_contain_text("見つかりません")


def test_open_data_has_csv_json_licence_and_no_personal_data(live: LiveServer) -> None:
    csv = live.get("/opendata/hourly.csv")
    assert csv.status_code == 200
    header = csv.text.splitlines()[0].split(",")
    assert header[:3] == ["date", "hour", "category_id"]
    data = live.get("/opendata/hourly.json").json()
    assert data["licence"]["url"].endswith("/by/4.0/")
    assert {f["name"] for f in live.get("/opendata/schema.json").json()["fields"]} == set(header)
    text = csv.text + str(data)
    for ticket in (live.issue("mynumber"),):
        assert ticket["number"] not in text and ticket["public_id"] not in text
