"""`madoguchi board`: open the display board full screen in a browser in kiosk mode."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "microsoft-edge")


def board_url(server: str, token: str, layout: str | None = None) -> str:
    """The board's address; the token rides in the fragment, which browsers never send to a
    server (so it stays out of access logs), and the page moves it to its local storage."""
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--server must be an http(s) URL, not {server!r}")
    query = f"?layout={quote(layout)}" if layout else ""
    return f"{server.rstrip('/')}/board{query}#token={quote(token, safe='')}"


def browser_command(browser: str, url: str, profile: Path) -> list[str]:
    """Chromium flags for an unattended screen: kiosk, sound without a click, no prompts."""
    return [
        browser,
        "--kiosk",
        f"--app={url}",
        f"--user-data-dir={profile}",
        "--autoplay-policy=no-user-gesture-required",
        "--noerrdialogs",
        "--disable-infobars",
        "--disable-session-crashed-bubble",
        "--disable-translate",
        "--no-first-run",
        "--check-for-update-interval=31536000",
    ]


def _find_browser(given: str | None) -> str | None:
    if given:
        return given if Path(given).exists() else shutil.which(given)
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: argparse.Namespace) -> int:
    import sys

    token = args.token or os.environ.get("MADOGUCHI_BOARD_TOKEN")
    if not token:
        print("madoguchi: give --token or set MADOGUCHI_BOARD_TOKEN", file=sys.stderr)
        return 2
    try:
        url = board_url(args.server, token, args.layout)
    except ValueError as exc:
        print(f"madoguchi: {exc}", file=sys.stderr)
        return 2
    browser = _find_browser(args.browser)
    if browser is None:
        print(
            "madoguchi: no Chromium found; install it (apt-get install chromium)", file=sys.stderr
        )
        return 2
    profile = (
        Path(args.profile) if args.profile else Path(tempfile.gettempdir()) / "madoguchi-board"
    )
    profile.mkdir(parents=True, exist_ok=True)
    command = browser_command(browser, url, profile)
    if args.print_command:
        # The token is part of the URL: print it only when asked (for a systemd unit or a test).
        print(" ".join(command))
        return 0
    return subprocess.call(command)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `madoguchi board` to the command."""
    board = sub.add_parser("board", help="open the display board full screen (kiosk mode)")
    board.add_argument(
        "--server", required=True, help="queue server URL, e.g. http://10.0.0.5:8000"
    )
    board.add_argument("--token", help="board device token (or env MADOGUCHI_BOARD_TOKEN)")
    board.add_argument("--layout", choices=("landscape", "portrait"), help="force a layout")
    board.add_argument("--browser", help="browser executable (default: chromium if found)")
    board.add_argument("--profile", help="browser profile directory (keeps the stored token)")
    board.add_argument(
        "--print-command", action="store_true", help="print the browser command, do not run it"
    )
    board.set_defaults(handler=_run)
