"""Every page: no WCAG 2.1 AA violations found by axe-core, and every control reachable and
usable by keyboard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import LiveServer, log_in, open_board
from playwright.sync_api import Browser, BrowserContext, Page, expect
from support.server import ADMIN_PASSWORD, CLERK_PASSWORD

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def context(browser: Browser, live: LiveServer) -> Iterator[BrowserContext]:
    # The pages send a strict Content-Security-Policy; axe is injected by the test.
    context = browser.new_context(
        base_url=live.base, viewport={"width": 1280, "height": 800}, locale="ja-JP", bypass_csp=True
    )
    yield context
    context.close()


def axe(page: Page, script: Path) -> list[str]:
    page.add_script_tag(path=str(script))
    violations = page.evaluate(
        """async (tags) => (await axe.run(document, {runOnly: {type: "tag", values: tags}}))
            .violations.map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)""",
        WCAG_AA,
    )
    return list(violations)


def reachable_by_tab(page: Page) -> tuple[set[str], set[str]]:
    """Press Tab through the page; return the visible controls and those that got focus."""
    controls = page.evaluate(
        """() => {
          const all = [...document.querySelectorAll(
              'a[href], button, input, select, textarea, [tabindex="0"]')]
            .filter(e => !e.disabled && e.getClientRects().length
                         && getComputedStyle(e).visibility !== 'hidden');
          all.forEach((e, i) => e.dataset.kb = String(i));
          return all.map(e => e.dataset.kb);
        }"""
    )
    focused: set[str] = set()
    page.locator("body").focus()
    for _ in range(len(controls) + 5):
        page.keyboard.press("Tab")
        kb = page.evaluate("() => document.activeElement && document.activeElement.dataset.kb")
        if kb is not None:
            focused.add(kb)
    return set(controls), focused


def check(page: Page, script: Path, roving_tabs: bool = False) -> None:
    assert axe(page, script) == []
    controls, focused = reachable_by_tab(page)
    if roving_tabs:  # a tab list is one Tab stop; arrow keys move inside it
        controls -= set(
            page.evaluate(
                """() => [...document.querySelectorAll('[role=tab][tabindex="-1"]')]
                .map(e => e.dataset.kb)"""
            )
        )
    assert controls <= focused, f"not reachable by Tab: {sorted(controls - focused)}"


def test_board(context: BrowserContext, live: LiveServer, axe_script: Path) -> None:
    live.issue("certificates")
    called = live.post("/api/v1/counters/c1/call-next", live.tokens.clerk).json()["ticket"]
    page = open_board(context, live)
    expect(page.locator(".call")).to_have_count(1)
    assert axe(page, axe_script) == []
    live.post(f"/api/v1/tickets/{called['id']}/finish", live.tokens.clerk)


def test_congestion_and_open_data(
    context: BrowserContext, live: LiveServer, axe_script: Path
) -> None:
    page = context.new_page()
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    check(page, axe_script)
    page.goto("/opendata/")
    check(page, axe_script)


def test_ticket_page(context: BrowserContext, live: LiveServer, axe_script: Path) -> None:
    ticket = live.issue("koseki")
    page = context.new_page()
    page.goto(f"/t/{ticket['public_id']}")
    expect(page.locator("#number")).to_have_text(ticket["number"])
    check(page, axe_script)
    # Notifications can be turned on and off from the keyboard.
    page.get_by_role("button", name="通知を受け取る").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="通知をやめる")).to_be_visible()
    check(page, axe_script)
    page.get_by_role("button", name="通知をやめる").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="通知を受け取る")).to_be_visible()


def test_clerk_login_and_console_by_keyboard(
    context: BrowserContext, live: LiveServer, axe_script: Path
) -> None:
    page = context.new_page()
    page.goto("/clerk")
    expect(page.get_by_label("ユーザー名", exact=True)).to_be_visible()
    check(page, axe_script)
    page.get_by_label("ユーザー名", exact=True).focus()
    page.keyboard.type("clerk0")
    page.keyboard.press("Tab")
    page.keyboard.type(CLERK_PASSWORD)
    page.keyboard.press("Enter")
    select = page.get_by_label("窓口", exact=True)
    expect(select).to_be_visible()
    select.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    ticket = live.issue("certificates")
    expect(page.locator(f'tr[data-number="{ticket["number"]}"]')).to_be_visible()
    check(page, axe_script)
    # Tabbing around may have left the focus in a select, where shortcuts are off by design.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("n")
    expect(page.locator("#current-number")).to_have_text(ticket["number"])
    page.keyboard.press("f")
    expect(page.locator("#current-number")).to_have_text("—")


def test_admin_pages(context: BrowserContext, live: LiveServer, axe_script: Path) -> None:
    page = context.new_page()
    page.goto("/admin")
    expect(page.get_by_label("ユーザー名", exact=True)).to_be_visible()
    assert axe(page, axe_script) == []
    log_in(page, "/admin", "admin", ADMIN_PASSWORD)
    expect(page.locator("#categories")).to_contain_text("戸籍")
    check(page, axe_script, roving_tabs=True)
    # The tab list follows the WAI-ARIA pattern: arrow keys move between the tabs.
    current = "庁舎・手続き・窓口"
    for name in ("端末・プリンター", "職員", "予約", "統計", "設定ファイル"):
        page.get_by_role("tab", name=current).focus()
        page.keyboard.press("ArrowRight")
        tab = page.get_by_role("tab", name=name)
        expect(tab).to_have_attribute("aria-selected", "true")
        expect(tab).to_be_focused()
        page.wait_for_load_state("networkidle")
        check(page, axe_script, roving_tabs=True)
        current = name


def test_the_check_can_fail(context: BrowserContext, axe_script: Path) -> None:
    page = context.new_page()
    page.set_content(
        '<html lang="ja"><title>x</title><img src="data:,">'
        '<p style="color:#bbb;background:#fff">薄い文字</p></html>'
    )
    found = axe(page, axe_script)
    assert any(v.startswith("image-alt") for v in found)
    assert any(v.startswith("color-contrast") for v in found)


def test_unsubscribe_page(context: BrowserContext, live: LiveServer, axe_script: Path) -> None:
    """The page of the link in notices and reminders, in a resident's language and in all."""
    page = context.new_page()
    for query in ("?lang=vi", "?lang=ja-easy", ""):
        page.goto(f"{live.base}/notify/unsubscribe/some-token-0123{query}")
        assert page.get_by_role("button").count() == 1
        assert axe(page, axe_script) == []
