"""The clerk console: keyboard shortcuts, stale screens and two clerks on one counter."""

from __future__ import annotations

from browser_support import LiveServer, log_in, open_console
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from support.server import CLERK_PASSWORD


def freeze(page: Page) -> None:
    """Make a console stale: its refreshes fail, as on a screen left alone for a while."""

    def fail(route: Route) -> None:
        route.abort()

    page.route("**/api/v1/console/**", fail)
    page.route("**/api/v1/queue*", fail)


def thaw(page: Page) -> None:
    page.unroute("**/api/v1/console/**")
    page.unroute("**/api/v1/queue*")


def test_a_ticket_is_served_by_keyboard_alone(context: BrowserContext, live: LiveServer) -> None:
    console = open_console(context, "c4")
    ticket = live.issue("moving")
    expect(console.locator(f'tr[data-number="{ticket["number"]}"]')).to_be_visible()
    expect(console.locator("#request")).to_have_text("申請データなし")

    console.keyboard.press("n")
    expect(console.locator("#current-number")).to_have_text(ticket["number"])
    expect(console.locator("#current-info")).to_contain_text("呼出中")
    console.keyboard.press("s")
    expect(console.locator("#current-info")).to_contain_text("受付中")
    console.keyboard.press("h")
    expect(console.locator("#current-info")).to_contain_text("保留中")
    console.keyboard.press("h")
    expect(console.locator("#current-info")).to_contain_text("受付中")
    console.keyboard.press("f")
    expect(console.locator("#current-number")).to_have_text("—")
    expect(console.locator("#message")).to_contain_text("完了しました")
    expect(console.locator("#mine")).to_contain_text("1 件")


def test_no_show_then_return_and_transfer(context: BrowserContext, live: LiveServer) -> None:
    console = open_console(context, "c5")
    ticket = live.issue("insurance")
    expect(console.locator(f'tr[data-number="{ticket["number"]}"]')).to_be_visible()
    console.get_by_role("button", name="次を呼ぶ N", exact=True).click()
    expect(console.locator("#current-number")).to_have_text(ticket["number"])
    console.get_by_role("button", name="不在").click()
    console.get_by_role("button", name=f"{ticket['number']} を列に戻す").click()
    expect(console.locator(f'tr[data-number="{ticket["number"]}"]')).to_be_visible()
    console.get_by_role("button", name=f"{ticket['number']} を呼ぶ").click()
    console.get_by_label("転送先の手続き").select_option("tax")
    console.get_by_role("button", name="転送する").click()
    expect(console.locator("#message")).to_contain_text("税証明へ転送しました")
    expect(console.locator("#current-number")).to_have_text("—")


def test_a_stale_console_explains_that_another_clerk_called_the_ticket(
    context: BrowserContext, live: LiveServer
) -> None:
    mine = open_console(context, "c1", clerk=0)
    ticket = live.issue("certificates")
    row = mine.locator(f'tr[data-number="{ticket["number"]}"]')
    expect(row).to_be_visible()
    freeze(mine)
    other = live.post(
        f"/api/v1/tickets/{ticket['id']}/call", live.tokens.clerks[1], {"counter_id": "c2"}
    )
    assert other.status_code == 200
    thaw(mine)

    row.get_by_role("button").click()

    expect(mine.locator("#message")).to_contain_text(f"{ticket['number']} はすでに他の職員が操作")
    expect(row).to_have_count(0)  # the list was refreshed
    live.post(f"/api/v1/tickets/{ticket['id']}/finish", live.tokens.clerks[1])


def test_two_clerks_on_one_counter_get_a_clear_message(
    context: BrowserContext, live: LiveServer
) -> None:
    first = open_console(context, "c3", clerk=0)
    second = open_console(context, "c3", clerk=1)
    ticket = live.issue("certificates")
    expect(second.locator(f'tr[data-number="{ticket["number"]}"]')).to_be_visible()
    freeze(second)
    first.get_by_role("button", name="次を呼ぶ N", exact=True).click()
    expect(first.locator("#current-number")).to_have_text(ticket["number"])
    live.issue("certificates")
    thaw(second)

    second.get_by_role("button", name="次を呼ぶ N", exact=True).click()

    expect(second.locator("#message")).to_contain_text("この窓口ではすでに別の番号を呼び出し中")
    expect(second.locator("#current-number")).to_have_text(ticket["number"])


# Everything a clerk needs in one glance at a counter PC's 1366x768 screen, without scrolling.
IN_VIEW = """(ids) => ids.map((id) => {
  const node = document.querySelector(id);
  const r = node.getBoundingClientRect();
  const visible = r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
    && r.bottom <= innerHeight && r.right <= innerWidth;
  return [id, visible];
}).filter(([, visible]) => !visible).map(([id]) => id)"""
ACTIONS = [
    "#act-finish-next",
    "#act-next",
    "#act-recall",
    "#act-start",
    "#act-finish",
    "#act-hold",
    "#act-no-show",
    "#transfer-to",
    "#act-transfer",
]


def test_the_console_fits_a_1366x768_screen_at_peak(browser: Browser, live: LiveServer) -> None:
    for _ in range(14):
        live.issue("certificates")
    for _ in range(4):
        live.issue("tax")
    context = browser.new_context(
        base_url=live.base, viewport={"width": 1366, "height": 768}, locale="ja-JP"
    )
    try:
        page = context.new_page()
        log_in(page, "/clerk", "clerk1", CLERK_PASSWORD)
        # Before a counter is chosen the console asks for one instead of "reconnecting".
        expect(page.locator(".conn-choose")).to_have_text("窓口を選んでください")
        expect(page.locator(".conn-offline")).to_be_hidden()
        page.get_by_label("窓口", exact=True).select_option("c1")
        page.get_by_role("button", name="この窓口で始める").click()
        expect(page.locator("body")).to_have_attribute("data-connection", "online")
        expect(page.locator("#queue tbody tr").first).to_be_visible()
        page.keyboard.press("n")
        expect(page.locator("#current-info")).to_contain_text("呼出中")
        hidden = page.evaluate(
            IN_VIEW,
            ["#current-number", "#current-info", "#queue", "#mine", "#counter-state", *ACTIONS],
        )
        assert hidden == [], f"not visible without scrolling: {hidden}"
        assert page.evaluate("document.scrollingElement.scrollHeight") <= 768
        # At least ten waiting numbers show at once (the list scrolls inside its card).
        rows = page.evaluate(
            """() => { const box = document.getElementById("queue").getBoundingClientRect();
                return [...document.querySelectorAll("#queue tbody tr")].filter((tr) => {
                  const r = tr.getBoundingClientRect();
                  return r.top >= box.top && r.bottom <= box.bottom; }).length; }"""
        )
        assert rows >= 10, f"only {rows} waiting numbers visible"
    finally:
        context.close()


def test_transfer_never_offers_the_tickets_own_procedure(
    context: BrowserContext, live: LiveServer
) -> None:
    console = open_console(context, "c6")
    ticket = live.issue("insurance")
    expect(console.locator(f'tr[data-number="{ticket["number"]}"]')).to_be_visible()
    console.keyboard.press("n")
    expect(console.locator("#current-number")).to_have_text(ticket["number"])
    options = console.locator("#transfer-to option").evaluate_all("os => os.map(o => o.value)")
    assert "insurance" not in options
    assert console.locator("#transfer-to").input_value() == ""
    # T with nothing chosen asks for a procedure instead of failing.
    console.keyboard.press("t")
    expect(console.locator("#message")).to_contain_text("転送先の手続きを選んでください")
    expect(console.locator("#current-number")).to_have_text(ticket["number"])
    # Disabled actions look disabled (not the enabled colours).
    recall = console.locator("#act-hold")
    assert recall.is_disabled()
    look = recall.evaluate("b => getComputedStyle(b).borderStyle + ' ' + getComputedStyle(b).color")
    assert look.startswith("dashed"), look
    # 完了して次を呼ぶ: one step.
    second = live.issue("insurance")
    expect(console.locator(f'tr[data-number="{second["number"]}"]')).to_be_visible()
    console.locator("#current-number").click()  # T left the focus in the select
    console.keyboard.press("Shift+N")
    expect(console.locator("#current-number")).to_have_text(second["number"])
    expect(console.locator("#message")).to_contain_text(f"{ticket['number']}: 完了しました")
    console.get_by_role("button", name="完了 F", exact=True).click()
