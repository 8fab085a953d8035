"""The board at peak, as a layout matrix: 16:9 and portrait screens with 1, 4 and 8 numbers
called and 6 procedures. No called number is ever covered or cut (Chromium is asked what is
drawn at its corners and centre), counter labels stay inside their cards, every procedure is
listed or summarised, and "recently called" lists calls that left the main area."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import LiveServer
from playwright.sync_api import Browser, Page, expect

SCREENS = {"landscape": (1920, 1080), "portrait": (1080, 1920)}
# Counters in call order; c8 serves only My Number cards.
COUNTERS = ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]
PEAK = {"certificates": 12, "koseki": 6, "moving": 8, "insurance": 6, "tax": 5, "mynumber": 4}

# Everything the test needs to know about what is drawn, measured in the page.
MEASURE = """() => {
  const inside = (r, box) => r.left >= box.left - 0.5 && r.top >= box.top - 0.5
      && r.right <= box.right + 0.5 && r.bottom <= box.bottom + 0.5;
  const screen = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
  // The box of the drawn text itself (a shrunk flex item can be narrower than its text).
  const ink = (node) => { const range = document.createRange(); range.selectNodeContents(node);
                          return range.getBoundingClientRect(); };
  const calls = [...document.querySelectorAll(".call")].map((card) => {
    const number = card.querySelector(".call-number");
    // Vertically the number's line box (it holds the digits' ink; the font's content area is
    // taller than the glyphs), horizontally the drawn text, whichever is wider.
    const box = number.getBoundingClientRect();
    const text = ink(number);
    const r = {left: Math.min(box.left, text.left), right: Math.max(box.right, text.right),
               top: box.top, bottom: box.bottom, height: box.height};
    const c = card.getBoundingClientRect();
    const points = [[r.left + 2, r.top + 2], [r.right - 2, r.top + 2], [r.left + 2, r.bottom - 2],
                    [r.right - 2, r.bottom - 2], [(r.left + r.right) / 2, (r.top + r.bottom) / 2]];
    const hits = points.map(([x, y]) => {
      const hit = document.elementFromPoint(x, y);
      if (hit === number || number.contains(hit)) return true;
      return hit ? `${hit.tagName}.${hit.className}` : "nothing";
    });
    return {
      number: number.textContent, onScreen: inside(r, screen), inCard: inside(r, c),
      hits, counterInCard: inside(ink(card.querySelector(".call-counter")), c),
      height: r.height,
    };
  });
  const box = document.querySelector(".waiting").getBoundingClientRect();
  const rows = [...document.querySelectorAll("#waiting tr[data-category]")]
    .filter((row) => row.getClientRects().length);
  const more = document.querySelector("#waiting tr.more");
  if (more) rows.push(more);
  return {
    calls,
    listed: rows.filter((row) => row !== more).map((row) => row.dataset.category),
    rowsInside: rows.every((row) => inside(row.getBoundingClientRect(), box)),
    summarised: more ? Number(more.dataset.hidden) : 0,
    summary: more ? more.textContent : "",
    recent: [...document.querySelectorAll("#recent li[data-number]")]
      .map((li) => li.dataset.number),
    estimateHeader: document.querySelector(".waiting-table thead .estimate").textContent,
  };
}"""


@pytest.fixture(scope="module")
def peak(live: LiveServer) -> dict[str, Any]:
    """About 40 tickets over the 6 procedures; two calls already over (for "recently called")."""
    for category, count in PEAK.items():
        for _ in range(count):
            live.issue(category)
    over = []
    for _ in range(2):
        ticket = live.post("/api/v1/counters/c1/call-next", live.tokens.clerk).json()["ticket"]
        live.post(f"/api/v1/tickets/{ticket['id']}/finish", live.tokens.clerk)
        over.append(ticket["number"])
    return {"over": over}


@pytest.fixture(scope="module")
def boards(browser: Browser, live: LiveServer, peak: dict[str, Any]) -> Iterator[dict[str, Page]]:
    pages = {}
    contexts = []
    for name, (width, height) in SCREENS.items():
        context = browser.new_context(
            base_url=live.base, viewport={"width": width, "height": height}
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(f"/board#token={live.tokens.board}")
        expect(page.locator("body")).to_have_attribute("data-connection", "online", timeout=10000)
        pages[name] = page
    yield pages
    for context in contexts:
        context.close()


def call_until(live: LiveServer, count: int) -> None:
    for counter in COUNTERS[:count]:
        state = live.get(f"/api/v1/console/{counter}", live.tokens.clerk).json()
        if state.get("current") is None:
            answer = live.post(f"/api/v1/counters/{counter}/call-next", live.tokens.clerk)
            assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("calls", [1, 4, 8])
def test_every_called_number_is_whole_and_uncovered_and_every_procedure_shown(
    live: LiveServer, boards: dict[str, Page], peak: dict[str, Any], calls: int
) -> None:
    call_until(live, calls)
    for screen, page in boards.items():
        expect(page.locator(".call")).to_have_count(calls, timeout=10000)
        page.evaluate("document.fonts.ready")
        page.wait_for_timeout(100)
        seen = page.evaluate(MEASURE)
        if os.environ.get("MADOGUCHI_LAYOUT_SHOTS"):
            page.screenshot(path=f"{os.environ['MADOGUCHI_LAYOUT_SHOTS']}/{screen}-{calls}.png")
        for call in seen["calls"]:
            where = f"{screen}, {calls} calls, {call['number']}"
            assert call["onScreen"], f"{where}: the number is not fully on the screen"
            assert call["inCard"], f"{where}: the number spills out of its card"
            covered = [h for h in call["hits"] if h is not True]
            assert not covered, f"{where}: drawn over the number: {covered}"
            assert call["counterInCard"], f"{where}: the counter label overflows its card"
            # Readable across a waiting room: never below 70 px on these screens.
            assert call["height"] >= 70, f"{where}: number only {call['height']:.0f} px tall"
        assert seen["rowsInside"], f"{screen}: a procedure row is cut by the edge of the table"
        assert len(set(seen["listed"])) + seen["summarised"] == len(PEAK), (
            f"{screen}, {calls} calls: procedures dropped silently: {seen}"
        )
        if seen["summarised"]:
            assert "ほか" in seen["summary"]
        assert "これから発券する方の目安" in seen["estimateHeader"]
        current = {c["number"] for c in seen["calls"]}
        assert not current & set(seen["recent"]), f"{screen}: recent repeats current calls"
        assert set(peak["over"]) <= set(seen["recent"]), f"{screen}: finished calls not listed"


def test_procedures_that_do_not_fit_are_paged_with_a_count(
    browser: Browser, live: LiveServer, peak: dict[str, Any]
) -> None:
    # More procedures than the table holds (here: larger type, as an office with a dozen
    # procedures would have): it shows a page, says how many more, and turns the page.
    context = browser.new_context(
        base_url=live.base, viewport={"width": 1920, "height": 1080}, bypass_csp=True
    )
    try:
        page = context.new_page()
        page.goto(f"/board?page_ms=700#token={live.tokens.board}")
        expect(page.locator("body")).to_have_attribute("data-connection", "online", timeout=10000)
        page.add_style_tag(content=".waiting-table { font-size: 3.6vh; }")
        page.evaluate("dispatchEvent(new Event('resize'))")
        more = page.locator("#waiting tr.more")
        expect(more).to_contain_text("ほか")
        first = page.evaluate(MEASURE)
        assert first["rowsInside"]
        assert len(first["listed"]) + first["summarised"] == len(PEAK)
        page.wait_for_function(
            "first => document.querySelector('#waiting tr[data-category]').dataset.category"
            " !== first",
            arg=first["listed"][0],
            timeout=3000,
        )
        second = page.evaluate(MEASURE)
        assert second["rowsInside"]
        assert len(second["listed"]) + second["summarised"] == len(PEAK)
        assert not set(first["listed"]) & set(second["listed"])  # the next page, not the same
    finally:
        context.close()
