"""Helpers for the browser tests: a live server with known accounts, and page actions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, Page, expect
from support.server import ADMIN_PASSWORD, CLERK_PASSWORD, Tokens, prepare, server_process

from queue_server.service.ports import SystemClock

CHROMIUM = os.environ.get("MADOGUCHI_CHROMIUM", "/usr/lib/chromium/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "web"


@dataclass
class LiveServer:
    base: str
    url: str
    tokens: Tokens
    data_dir: Path

    def post(self, path: str, token: str, json: Any = None) -> httpx.Response:
        return httpx.post(
            self.base + path, json=json, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(self.base + path, headers=headers, timeout=10)

    def issue(self, category: str = "certificates") -> dict[str, Any]:
        response = self.post("/api/v1/tickets", self.tokens.kiosk, {"category_id": category})
        assert response.status_code == 201, response.text
        ticket: dict[str, Any] = response.json()["ticket"]
        return ticket


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def start_live_server(url: str, data_dir: Path, port: int | None = None) -> Iterator[LiveServer]:
    engine, tokens = prepare(url, SystemClock(), always_open=True, clerks=2)
    engine.dispose()
    with (
        environment(MADOGUCHI_DATA_DIR=str(data_dir)),
        server_process(url, port=port) as base,
    ):
        yield LiveServer(base, url, tokens, data_dir)


def open_board(context: BrowserContext, live: LiveServer, query: str = "") -> Page:
    page = context.new_page()
    page.goto(f"/board{query}#token={live.tokens.board}")
    expect(page.locator("body")).to_have_attribute("data-connection", "online", timeout=10000)
    return page


def log_in(page: Page, path: str, name: str, password: str) -> None:
    page.goto(path)
    page.get_by_label("ユーザー名", exact=True).fill(name)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="ログイン").click()


def open_console(context: BrowserContext, counter: str = "c1", clerk: int = 0) -> Page:
    page = context.new_page()
    log_in(page, "/clerk", f"clerk{clerk}", CLERK_PASSWORD)
    page.get_by_label("窓口", exact=True).select_option(counter)
    page.get_by_role("button", name="この窓口で始める").click()
    expect(page.locator("body")).to_have_attribute("data-connection", "online", timeout=10000)
    return page


def open_admin(context: BrowserContext) -> Page:
    page = context.new_page()
    log_in(page, "/admin", "admin", ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="管理", exact=False).first).to_be_visible()
    return page


@contextmanager
def restart_server(url: str, data_dir: Path, port: int) -> Iterator[str]:
    """The same database served again on the same port (accounts already exist)."""
    with environment(MADOGUCHI_DATA_DIR=str(data_dir)), server_process(url, port=port) as base:
        yield base
