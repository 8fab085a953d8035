"""The pre-application page in real headless Chromium: fill at home on a phone, get a QR code
whose text is a signed token, take a ticket with it; axe finds no WCAG 2.1 AA violation."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from browser_support import LiveServer
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, expect
from test_accessibility import axe, reachable_by_tab

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def context(browser: Browser, live: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=live.base,
        viewport={"width": 412, "height": 915},
        device_scale_factor=2,
        locale="ja-JP",
        bypass_csp=True,  # axe is injected by the test
    )
    yield context
    context.close()


def birth_date(page, era: str, year: str, month: str, day: str) -> None:
    page.select_option("#f-requester_birth_date", era)
    page.fill("#f-requester_birth_date-year", year)
    page.select_option("#f-requester_birth_date-month", month)
    page.select_option("#f-requester_birth_date-day", day)


def scan_with_the_kiosk_image_source(folder: Path) -> str:
    """Read the code the way the kiosk's images:// scanner does (worker thread, its decoder)."""
    from kiosk_app.devices.scanners import FolderFrames, FrameScanner

    found: list[str] = []
    seen = threading.Event()
    scanner = FrameScanner(lambda: FolderFrames(folder))
    scanner.start(lambda text: (found.append(text), seen.set()))
    try:
        assert seen.wait(10), "the kiosk's image source read nothing"
    finally:
        scanner.stop()
    return found[0]


def test_resident_fills_the_form_and_the_qr_issues_a_ticket(
    context, live: LiveServer, axe_script, tmp_path: Path
) -> None:
    page = context.new_page()
    page.goto("/apply")
    page.wait_for_selector("body[data-ready=true]")
    page.select_option("#procedure", "certificates")
    page.select_option("#form-id", "juminhyo")
    page.fill("#f-requester_name", "試験　花子")
    page.fill("#f-requester_address", "東京都千代田区霞が関１－２－３")
    birth_date(page, "heisei", "2", "4", "1")  # 平成2年4月1日, as the resident knows it
    page.select_option("#f-relation", "self")
    page.select_option("#f-scope", "household")
    page.fill("#f-copies", "1")
    page.select_option("#f-purpose", "employment")
    assert axe(page, axe_script) == []
    controls, focused = reachable_by_tab(page)
    assert controls <= focused
    page.screenshot(path=str(SCREENSHOTS / "apply-form-ja.png"), full_page=True)
    page.click("button[type=submit]")
    page.wait_for_selector("#done:not([hidden])")
    assert page.inner_text("#fee") == "300円"
    code = page.get_attribute("#qr", "data-code")
    decoded = [
        r.text
        for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator("#qr").screenshot())))
    ]
    assert decoded == [code]
    page.screenshot(path=str(SCREENSHOTS / "apply-qr-ja.png"), full_page=True)
    # English, and a refused form names the field.
    page.select_option("#lang", "en")
    expect(page.locator("h1")).to_have_text("Pre-apply for the counter")
    page.fill("#f-copies", "")
    page.click("button[type=submit]")
    page.wait_for_function("document.getElementById('errors').textContent.length > 0")
    assert "Copies" in page.inner_text("#errors")
    # The resident shows the saved QR to the kiosk: its image source reads it, and the kiosk
    # takes a ticket for the procedure with the request attached — once.
    scans = tmp_path / "kiosk-scans"
    scans.mkdir()
    (scans / "qr.png").write_bytes(page.screenshot(full_page=True))
    assert scan_with_the_kiosk_image_source(scans) == code
    ticket = live.post("/api/v1/tickets", live.tokens.kiosk, {"code": code}).json()["ticket"]
    assert ticket["category_id"] == "certificates"
    request = live.get(f"/api/v1/tickets/{ticket['id']}/request", live.tokens.clerk).json()[
        "request"
    ]
    assert request["source"] == "preapplication"
    assert request["fields"]["requester_birth_date"] == "1990-04-01"
    again = live.post("/api/v1/tickets", live.tokens.kiosk, {"code": code})
    assert again.json()["error"]["code"] == "code_used"


def test_refused_answers_are_shown_at_their_fields_in_the_visitors_language(
    browser: Browser, live: LiveServer, axe_script: Path
) -> None:
    context = browser.new_context(
        base_url=live.base,
        viewport={"width": 390, "height": 844},
        locale="ja-JP",
        bypass_csp=True,  # axe is injected by the test
    )
    try:
        page = context.new_page()
        page.goto("/apply")
        page.wait_for_selector("body[data-ready=true]")
        page.select_option("#procedure", "certificates")
        page.select_option("#form-id", "juminhyo")
        page.fill("#f-copies", "20")
        page.click("button[type=submit]")
        summary = page.locator("#errors")
        expect(summary).to_be_visible()
        expect(summary).to_be_focused()  # the focus moves to the summary
        assert summary.evaluate("e => e.getBoundingClientRect().top") >= 0
        # Each field: marked, described by its own message, next to it; in Japanese only.
        for name, words in (
            ("requester_name", "入力してください"),
            ("relation", "選んでください"),
            ("copies", "1から10までの数字を入力してください"),
        ):
            field = page.locator(f"#f-{name}")
            expect(field).to_have_attribute("aria-invalid", "true")
            described = field.get_attribute("aria-describedby")
            assert described == f"f-{name}-error"
            expect(page.locator(f"#{described}")).to_have_text(words)
            expect(page.locator(f"#{described}")).to_be_visible()
        assert axe(page, axe_script) == []  # the error state too meets WCAG 2.1 AA
        text = summary.inner_text()
        assert "入力内容を確認してください" in text
        assert not re.search(r"[A-Za-z]{3,}", text), text  # no "required" or field ids
        # A date that does not exist (平成31年2月30日) is refused at the date, all parts marked.
        birth_date(page, "heisei", "31", "2", "30")
        page.click("button[type=submit]")
        expect(page.locator("#f-requester_birth_date-error")).to_have_text(
            "年・月・日を正しく入力してください（例: 昭和 45 年 4 月 1 日）"
        )
        for part in ("", "-year", "-month", "-day"):
            expect(page.locator(f"#f-requester_birth_date{part}")).to_have_attribute(
                "aria-invalid", "true"
            )
        # A link in the summary takes the visitor to the field.
        summary.get_by_role("link", name=re.compile("^請求者氏名")).click()
        expect(page.locator("#f-requester_name")).to_be_focused()
        # A rule only the server knows (a proxy names the person) comes back the same way.
        page.fill("#f-requester_name", "試験　花子")
        page.fill("#f-requester_address", "東京都千代田区霞が関１－２－３")
        birth_date(page, "showa", "45", "4", "1")
        page.select_option("#f-relation", "proxy")
        page.select_option("#f-scope", "household")
        page.fill("#f-copies", "1")
        page.select_option("#f-purpose", "employment")
        page.click("button[type=submit]")
        message = page.locator("#f-subject_name-error")
        expect(message).to_have_text(
            "ご本人以外の分を請求するときは、必要な方の氏名を入力してください"
        )
        expect(page.locator("#f-requester_name")).not_to_have_attribute("aria-invalid", "true")
        expect(summary).to_be_focused()
        # In English, English words.
        page.select_option("#lang", "en")
        expect(page.locator("h1")).to_have_text("Pre-apply for the counter")
        page.click("button[type=submit]")
        expect(message).to_have_text("When you request for someone else, please enter their name")
    finally:
        context.close()
