"""Screenshots of every page (board in both layouts, console, phone pages, admin); Japanese
must render with a CJK font, not as boxes. Written to docs/screenshots/web/ when
MADOGUCHI_SCREENSHOTS=1, else to a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_support import SCREENSHOTS, LiveServer, open_admin, open_console
from playwright.sync_api import Browser, Page, Playwright, expect


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    if os.environ.get("MADOGUCHI_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


def font_of(page: Page, selector: str) -> list[str]:
    """The fonts Chromium really drew the element's text with (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return [f["familyName"] for f in fonts]


def shot(page: Page, folder: Path, name: str, full: bool = False) -> None:
    page.wait_for_timeout(300)  # let the highlight settle
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full)


# A peak morning: about 40 tickets over the 6 procedures and every counter calling.
PEAK = {"certificates": 12, "koseki": 6, "moving": 8, "insurance": 6, "tax": 5, "mynumber": 4}


def test_screenshots_of_every_page(
    browser: Browser, playwright: Playwright, live: LiveServer, folder: Path
) -> None:
    tickets = {category: [live.issue(category) for _ in range(n)] for category, n in PEAK.items()}
    for _ in range(2):  # two calls already over, for "recently called"
        done = live.post("/api/v1/counters/c1/call-next", live.tokens.clerk).json()["ticket"]
        live.post(f"/api/v1/tickets/{done['id']}/finish", live.tokens.clerk)
    for counter in ("c1", "c2", "c3", "c4", "c5", "c6", "c8"):
        live.post(f"/api/v1/counters/{counter}/call-next", live.tokens.clerk)
    desktop = browser.new_context(base_url=live.base, viewport={"width": 1920, "height": 1080})
    board = desktop.new_page()
    board.goto(f"/board#token={live.tokens.board}")
    expect(board.locator(".call")).to_have_count(7)
    assert any("CJK JP" in f for f in font_of(board, "#office-name")), font_of(
        board, "#office-name"
    )

    # The console at a counter PC's 1366x768, calling its first number: the board then shows
    # all 8 counters calling.
    staff = browser.new_context(
        base_url=live.base, viewport={"width": 1366, "height": 768}, locale="ja-JP"
    )
    console = open_console(staff, "c7")
    expect(console.locator('tr[data-number="E-002"]')).to_be_visible()
    console.keyboard.press("n")
    expect(console.locator("#current-number")).to_have_text("E-001")
    expect(board.locator(".call")).to_have_count(8)
    shot(board, folder, "board-landscape-1080p")
    portrait = browser.new_context(base_url=live.base, viewport={"width": 1080, "height": 1920})
    board = portrait.new_page()
    board.goto(f"/board#token={live.tokens.board}")
    expect(board.locator(".call")).to_have_count(8)
    shot(board, folder, "board-portrait")
    portrait.close()
    shot(console, folder, "clerk-console")
    staff.close()

    staff = browser.new_context(
        base_url=live.base, viewport={"width": 1280, "height": 900}, locale="ja-JP"
    )
    admin = open_admin(staff)
    shot(admin, folder, "admin-office", full=True)
    admin.get_by_role("tab", name="統計").click()
    admin.get_by_label("集計単位").select_option("category")
    admin.get_by_role("button", name="表示").click()
    expect(admin.locator("#stats-table table")).to_be_visible()
    shot(admin, folder, "admin-statistics", full=True)
    admin.get_by_role("tab", name="端末・プリンター").click()
    expect(admin.locator("#devices table")).to_be_visible()
    shot(admin, folder, "admin-devices", full=True)
    staff.close()

    device = dict(playwright.devices["Pixel 7"])
    device.pop("default_browser_type", None)
    phone = browser.new_context(**device, base_url=live.base, locale="ja-JP")
    page = phone.new_page()
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    assert any("CJK JP" in f for f in font_of(page, "h1"))
    shot(page, folder, "phone-congestion", full=True)
    page.goto("/?lang=ja-easy")
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    shot(page, folder, "phone-congestion-ja-easy", full=True)
    page.goto("/?lang=vi")
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    shot(page, folder, "phone-congestion-vi", full=True)
    ticket = tickets["moving"][-1]
    page.goto(f"/t/{ticket['public_id']}?lang=ja")
    expect(page.locator("#number")).to_have_text(ticket["number"])
    shot(page, folder, "phone-ticket")
    page.goto(f"/t/{ticket['public_id']}?lang=en")
    expect(page.locator("#number")).to_have_text(ticket["number"])
    shot(page, folder, "phone-ticket-en")
    called = tickets["koseki"][0]
    page.goto(f"/t/{called['public_id']}?lang=ja")
    expect(page.locator("#where")).not_to_be_empty()
    shot(page, folder, "phone-ticket-called")
    page.goto("/apply")
    page.wait_for_selector("body[data-ready=true]")
    page.select_option("#procedure", "certificates")
    page.select_option("#form-id", "juminhyo")
    page.click("button[type=submit]")
    expect(page.locator("#errors")).to_be_focused()
    shot(page, folder, "phone-apply-errors")
    page.goto("/opendata/")
    shot(page, folder, "phone-opendata", full=True)
    phone.close()
    desktop.close()
    assert len(list(folder.glob("*.png"))) >= 14
