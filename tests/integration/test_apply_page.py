"""The pre-application page in real headless Chromium: fill at home, get a QR, take a ticket."""

from __future__ import annotations

import io
import os
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image
from support.server import bearer, prepare, server_process

from queue_server.service.ports import SystemClock

CHROMIUM = "/usr/lib/chromium/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--disable-gpu", "--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.mark.slow
def test_resident_fills_the_form_on_a_phone_and_the_qr_issues_a_ticket(
    sqlite_url: str, browser, monkeypatch
) -> None:
    monkeypatch.setenv("MADOGUCHI_SECRET_KEY", "browser-test-secret")
    engine, tokens = prepare(sqlite_url, SystemClock(), always_open=True)
    engine.dispose()
    with server_process(sqlite_url) as base:
        from playwright.sync_api import sync_playwright  # noqa: F401  (already running)

        context = browser.new_context(
            viewport={"width": 412, "height": 915}, device_scale_factor=2, locale="ja-JP"
        )
        page = context.new_page()
        page.goto(f"{base}/apply")
        page.wait_for_selector("body[data-ready=true]")
        page.select_option("#procedure", "certificates")
        page.select_option("#form-id", "juminhyo")
        page.fill("#f-requester_name", "試験　花子")
        page.fill("#f-requester_address", "東京都千代田区霞が関１－２－３")
        page.fill("#f-requester_birth_date", "1990-04-01")
        page.select_option("#f-relation", "self")
        page.select_option("#f-scope", "household")
        page.fill("#f-copies", "1")
        page.select_option("#f-purpose", "employment")
        page.screenshot(path=str(SCREENSHOTS / "apply-form-ja.png"), full_page=True)
        page.keyboard.press("Tab")
        page.click("button[type=submit]")
        page.wait_for_selector("#done:not([hidden])")
        assert page.inner_text("#fee") == "300円"
        code = page.get_attribute("#qr", "data-code")
        shot = page.locator("#qr").screenshot()
        page.screenshot(path=str(SCREENSHOTS / "apply-qr-ja.png"), full_page=True)
        decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))]
        assert decoded == [code]
        # English, and a refused form shows the problems by field.
        page.click("#lang-en")
        assert page.inner_text("h1") == "Pre-apply for the counter"
        page.fill("#f-copies", "")
        page.click("button[type=submit]")
        page.wait_for_function("document.getElementById('errors').textContent.length > 0")
        assert "Copies" in page.inner_text("#errors")
        context.close()
        with httpx.Client(base_url=base, headers=bearer(tokens.kiosk)) as client:
            ticket = client.post("/api/v1/tickets", json={"code": decoded[0]}).json()["ticket"]
            assert ticket["category_id"] == "certificates"
    assert os.path.getsize(SCREENSHOTS / "apply-qr-ja.png") > 10_000
