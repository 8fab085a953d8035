"""The board and the public page follow the clerk console live; announcements are queued
once per call, repeated on recall, and played one after another."""

from __future__ import annotations

import time

from browser_support import LiveServer, open_board, open_console
from playwright.sync_api import BrowserContext, Page, expect

# Played at 4x with a short minimum, so the queue empties quickly in tests.
FAST = "?rate=4&announce_min_ms=300"


def announced(board: Page, number: str) -> list[dict]:
    return board.evaluate(
        "n => window.madoguchiBoard.announced.filter(a => a.number === n)", number
    )


def test_a_call_from_the_console_reaches_board_and_public_page_within_a_second(
    context: BrowserContext, live: LiveServer
) -> None:
    board = open_board(context, live, FAST)
    public = context.new_page()
    public.goto("/")
    expect(public.locator("body")).to_have_attribute("data-connection", "online")
    ticket = live.issue("certificates")
    console = open_console(context, "c1")
    expect(console.locator(f'tr[data-number="{ticket["number"]}"]')).to_be_visible()

    console.get_by_role("button", name="次を呼ぶ N", exact=True).click()

    call = board.locator('.call[data-counter="1"] .call-number')
    expect(call).to_have_text(ticket["number"], timeout=1000)
    expect(board.locator('.call[data-counter="1"]')).to_have_class("call fresh", timeout=1000)
    expect(public.locator('[data-category="certificates"] .called')).to_contain_text(
        ticket["number"], timeout=1000
    )
    expect(console.locator("#current-number")).to_have_text(ticket["number"])
    time.sleep(0.5)  # a duplicate would arrive with the status message that follows
    calls = announced(board, ticket["number"])
    assert [(a["counter"], a["recall"]) for a in calls] == [(1, False)]

    console.get_by_role("button", name="再呼出").click()
    board.wait_for_function(
        "n => window.madoguchiBoard.announced.filter(a => a.number === n).length === 2",
        arg=ticket["number"],
        timeout=1000,
    )
    assert announced(board, ticket["number"])[1]["recall"] is True
    # Finishing takes the number off the board.
    console.get_by_role("button", name="完了 F", exact=True).click()
    expect(board.locator('.call[data-counter="1"]')).to_have_count(0, timeout=1000)


def test_two_quick_calls_are_announced_in_order_never_overlapping(
    context: BrowserContext, live: LiveServer
) -> None:
    board = open_board(context, live, FAST)
    first, second = live.issue("certificates"), live.issue("certificates")
    for counter in ("c2", "c3"):
        assert (
            live.post(f"/api/v1/counters/{counter}/call-next", live.tokens.clerk).status_code == 200
        )

    board.wait_for_function(
        "ns => ns.every(n => window.madoguchiBoard.played.some(p => p.number === n))",
        arg=[first["number"], second["number"]],
        timeout=20000,
    )
    played = board.evaluate(
        "ns => window.madoguchiBoard.played.filter(p => ns.includes(p.number))",
        [first["number"], second["number"]],
    )
    assert [p["number"] for p in played] == [first["number"], second["number"]]
    assert played[0]["end"] <= played[1]["start"]
    # The server had voices: chime plus at least one spoken clip each.
    assert all(p["clips"] >= 2 for p in played)
