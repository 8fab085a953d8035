"""Browser tests: the real server in its own process and Debian's Chromium driven by
Playwright's sync API (no `playwright install`: the browser comes from apt)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import CHROMIUM, LiveServer, start_live_server
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory (secret key, voice cache) for every server of the session."""
    return tmp_path_factory.mktemp("madoguchi-data")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test does it)")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--disable-gpu", "--autoplay-policy=no-user-gesture-required"],
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[LiveServer]:
    """A fresh database and one server process per test module."""
    db = tmp_path_factory.mktemp("db") / "madoguchi.db"
    with start_live_server(f"sqlite:///{db}", data_dir) as server:
        yield server


@pytest.fixture
def context(browser: Browser, live: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=live.base, viewport={"width": 1280, "height": 800}, locale="ja-JP"
    )
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Browser tests share one Chromium; keep them out of parallel or random reordering.
    for item in items:
        if "tests/browser" in str(item.fspath) and os.environ.get("MADOGUCHI_SKIP_BROWSER"):
            item.add_marker(pytest.mark.skip(reason="MADOGUCHI_SKIP_BROWSER is set"))


AXE_DIR = Path(__file__).parent / "axe"


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core from the npm registry, installed into a test-only folder on first use (the
    app never serves it and needs nothing at run time)."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return script
