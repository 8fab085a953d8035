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


def test_screenshots_of_every_page(
    browser: Browser, playwright: Playwright, live: LiveServer, folder: Path
) -> None:
    for category in ("certificates", "certificates", "koseki", "moving", "moving", "tax"):
        ticket = live.issue(category)
    for counter in ("c1", "c2", "c4"):
        live.post(f"/api/v1/counters/{counter}/call-next", live.tokens.clerk)
    desktop = browser.new_context(base_url=live.base, viewport={"width": 1920, "height": 1080})
    board = desktop.new_page()
    board.goto(f"/board#token={live.tokens.board}")
    expect(board.locator(".call")).to_have_count(3)
    assert any("CJK JP" in f for f in font_of(board, "#office-name")), font_of(
        board, "#office-name"
    )
    shot(board, folder, "board-landscape-1080p")
    portrait = browser.new_context(base_url=live.base, viewport={"width": 1080, "height": 1920})
    board = portrait.new_page()
    board.goto(f"/board#token={live.tokens.board}")
    expect(board.locator(".call")).to_have_count(3)
    shot(board, folder, "board-portrait")
    portrait.close()

    staff = browser.new_context(
        base_url=live.base, viewport={"width": 1280, "height": 900}, locale="ja-JP"
    )
    console = open_console(staff, "c7")
    expect(console.locator('tr[data-number="E-001"]')).to_be_visible()
    console.keyboard.press("n")
    expect(console.locator("#current-number")).to_have_text("E-001")
    shot(console, folder, "clerk-console", full=True)
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
    page.goto(f"/t/{ticket['public_id']}")
    expect(page.locator("#number")).to_have_text(ticket["number"])
    shot(page, folder, "phone-ticket")
    page.get_by_label("言語 / Language").select_option("en")
    shot(page, folder, "phone-ticket-en")
    page.goto("/opendata/")
    shot(page, folder, "phone-opendata", full=True)
    phone.close()
    desktop.close()
    assert len(list(folder.glob("*.png"))) >= 10
