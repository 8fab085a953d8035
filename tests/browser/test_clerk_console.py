"""The clerk console: keyboard shortcuts, stale screens and two clerks on one counter."""

from __future__ import annotations

from browser_support import LiveServer, open_console
from playwright.sync_api import BrowserContext, Page, Route, expect


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
    console.get_by_role("button", name="次を呼ぶ").click()
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
    first.get_by_role("button", name="次を呼ぶ").click()
    expect(first.locator("#current-number")).to_have_text(ticket["number"])
    live.issue("certificates")
    thaw(second)

    second.get_by_role("button", name="次を呼ぶ").click()

    expect(second.locator("#message")).to_contain_text("この窓口ではすでに別の番号を呼び出し中")
    expect(second.locator("#current-number")).to_have_text(ticket["number"])
