"""A board that loses the server says so within seconds instead of showing stale numbers, and
comes back to the right numbers by itself (no reload)."""

from __future__ import annotations

from pathlib import Path

from browser_support import restart_server, start_live_server
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect
from support.server import free_port

from queue_server.api.app import create_app
from queue_server.settings import ServerSettings


def test_board_shows_offline_then_resyncs_without_reload(
    browser: Browser, tmp_path: Path, data_dir: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'madoguchi.db'}"
    port = free_port()
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        with start_live_server(url, data_dir, port=port) as live:
            first = live.issue("certificates")
            second = live.issue("certificates")
            live.post("/api/v1/counters/c1/call-next", live.tokens.clerk)
            page = context.new_page()
            page.goto(f"{live.base}/board#token={live.tokens.board}")
            expect(page.locator("body")).to_have_attribute("data-connection", "online")
            number = page.locator('.call[data-counter="1"] .call-number')
            expect(number).to_have_text(first["number"])
            page.evaluate("window.sameDocument = true")
            clerk = live.tokens.clerk
        # The server is stopped: within 10 s the board says so and hides the numbers.
        expect(page.locator("body")).to_have_attribute("data-connection", "offline", timeout=10000)
        expect(page.locator("#offline")).to_be_visible()
        expect(page.locator(".board-main")).to_be_hidden()
        # Meanwhile the queue moves on (the app in this process, same database), so the board
        # can only learn it from the snapshot it asks for when it reconnects.
        settings = ServerSettings(database_url=url, data_dir=data_dir)
        with TestClient(create_app(settings)) as client:
            moved = client.post(
                "/api/v1/counters/c1/call-next",
                json={"finish_current": True},
                headers={"Authorization": f"Bearer {clerk}"},
            )
            assert moved.status_code == 200
        with restart_server(url, data_dir, port):
            expect(page.locator("body")).to_have_attribute(
                "data-connection", "online", timeout=10000
            )
            expect(number).to_have_text(second["number"], timeout=2000)
            expect(page.locator("#offline")).to_be_hidden()
            assert page.evaluate("window.sameDocument") is True  # no reload happened
    finally:
        context.close()
