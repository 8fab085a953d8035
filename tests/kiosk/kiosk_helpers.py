"""Helpers shared by the kiosk tests (imported by name; pytest puts this folder on sys.path)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from support.server import Tokens

from queue_server.adapters.office_file import DEMO_OFFICE, around_the_clock, read_office_file

SECRET = "kiosk-test-secret-not-for-production"
TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass
class Server:
    url: str
    tokens: Tokens
    db_url: str


def open_office() -> dict[str, Any]:
    """The demo office open around the clock, with one procedure whose reception has ended
    (tax) and one with a daily cap of one ticket (insurance)."""
    raw = around_the_clock(read_office_file(DEMO_OFFICE))
    for category in raw["categories"]:
        if category["id"] == "tax":
            category["last_reception"] = "00:00"
        if category["id"] == "insurance":
            category["daily_cap"] = 1
    return raw


def closed_office() -> dict[str, Any]:
    """The demo office closed today (an extra closed date)."""
    raw = around_the_clock(read_office_file(DEMO_OFFICE))
    today = datetime.now(TOKYO).date()
    raw["office"]["closed_dates"] = {
        (today + timedelta(days=d)).isoformat(): "臨時休業" for d in (0, 1)
    }
    return raw


def wait_screen(qtbot: Any, kiosk: Any, screen: str, timeout_ms: int = 10_000) -> None:
    qtbot.waitUntil(lambda: kiosk.state.screen == screen, timeout=timeout_ms)


def sign_code(kind: str, category: str, minutes: float = 60, reference: str = "R-0001") -> str:
    """A code the test server accepts (same secret)."""
    from queue_server.domain.codes import VisitCode, make_code

    expires = datetime.now(UTC) + timedelta(minutes=minutes)
    return make_code(SECRET.encode(), VisitCode(kind, category, reference, expires))


def wait_for(condition: Callable[[], bool], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def qr_png(payload: str, path: Path, box_size: int = 8) -> Path:
    """A clean QR code image of `payload`."""
    import qrcode

    qrcode.make(payload, box_size=box_size, border=4).save(path)
    return path


def code128_png(payload: str, path: Path) -> Path:
    """A clean Code128 barcode image of `payload` (python-barcode, PNG through Pillow)."""
    from barcode import Code128
    from barcode.writer import ImageWriter

    image = Code128(payload, writer=ImageWriter()).render(
        {"module_width": 0.4, "module_height": 18.0, "quiet_zone": 8.0, "write_text": False}
    )
    image.save(path)
    return path


def drop_scan(folder: Path, source: Path) -> None:
    """Put an image into the kiosk's image-folder scanner atomically (write, then rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / (source.stem + ".part")
    partial.write_bytes(source.read_bytes())
    partial.rename(folder / source.name)


def clerk_ticket(base_url: str, clerk_token: str, ticket_id: int) -> dict[str, Any]:
    response = httpx.get(
        f"{base_url}/api/v1/tickets/{ticket_id}",
        headers={"Authorization": f"Bearer {clerk_token}"},
        timeout=5,
    )
    response.raise_for_status()
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket
