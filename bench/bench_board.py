"""Board benchmark: call-to-board latency and the board's JS heap after many events.

Runs the real server (its own process, SQLite) and Debian's Chromium headless. Latency is from
just before the clerk's call-next request is sent to the moment the board's DOM shows the
number (MutationObserver, same machine clock). Usage: .venv/bin/python bench/bench_board.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "browser")]

from browser_support import CHROMIUM, start_live_server  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

WATCH = """() => { window.seen = {}; new MutationObserver(() => {
  for (const n of document.querySelectorAll('.call-number')) {
    if (!(n.textContent in window.seen)) window.seen[n.textContent] = Date.now();
  } }).observe(document.getElementById('calling'),
               {subtree: true, childList: true, characterData: true}); }"""


def heap(cdp) -> float:  # type: ignore[no-untyped-def]
    cdp.send("HeapProfiler.collectGarbage")
    return float(cdp.send("Runtime.getHeapUsage")["usedSize"]) / 1e6


def main(calls: int = 20, events: int = 600) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-board-"))
    with (
        start_live_server(f"sqlite:///{work / 'm.db'}", work / "data") as live,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{live.base}/board?announce_min_ms=0#token={live.tokens.board}")
        page.wait_for_selector('body[data-connection="online"]')
        page.evaluate(WATCH)
        latencies = []
        for i in range(calls):
            ticket = live.issue("certificates")
            time.sleep(0.3)  # let the status message of the issue pass
            sent = time.time() * 1000
            live.post("/api/v1/counters/c1/call-next", live.tokens.clerk, {"finish_current": i > 0})
            page.wait_for_function("n => n in window.seen", arg=ticket["number"], timeout=5000)
            latencies.append(page.evaluate("n => window.seen[n]", ticket["number"]) - sent)
        q = statistics.quantiles(latencies, n=20)
        print(
            f"call-to-board latency over {calls} calls: p50 {statistics.median(latencies):.0f} ms,"
            f" p95 {q[18]:.0f} ms, max {max(latencies):.0f} ms"
        )
        cdp = page.context.new_cdp_session(page)
        rows = [(0, heap(cdp))]
        done = 0
        categories = ["koseki", "moving", "insurance", "tax"]
        counters = {"koseki": "c2", "moving": "c5", "insurance": "c6", "tax": "c7"}
        while done < events:
            for category in categories:
                ticket = live.issue(category)
                live.post(
                    f"/api/v1/tickets/{ticket['id']}/call",
                    live.tokens.clerk,
                    {"counter_id": counters[category]},
                )
                live.post(f"/api/v1/tickets/{ticket['id']}/finish", live.tokens.clerk)
                done += 3
            if done % 150 < 12:
                time.sleep(1)
                rows.append((done, heap(cdp)))
        time.sleep(2)
        rows.append((done, heap(cdp)))
        print("events  JS heap (MB, after GC)")
        for count, size in rows:
            print(f"{count:6d}  {size:.2f}")
        nodes = page.evaluate("document.getElementsByTagName('*').length")
        print(f"DOM elements at the end: {nodes}")
        browser.close()


if __name__ == "__main__":
    main()
