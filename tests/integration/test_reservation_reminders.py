"""Booking reminders on every channel the office enables, through the real server's housekeeping:
Web Push to the fake push service (VAPID JWT checked, payload decrypted), LINE to a fake
Messaging API, e-mail to aiosmtpd. Each goes once at the reminder hour the day before, none
after a cancel or a one-tap stop, a failed one is retried, and the address is deleted once sent
or at day close. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from support.mail import Inbox, smtp_inbox
from support.push import SUBJECT, FakePushService, browser_subscription, fake_push_service
from support.server import app_client
from test_notices import LINE_TOKEN, LINE_USER, FakeLine
from tests_constants import TOKYO

from queue_server.adapters import tables as t
from queue_server.service.ports import FakeClock

EMAIL = "canary-reminder@example.jp"
BASE = "https://madoguchi.example.jp"
THURSDAY = "2026-11-26T10:30:00+09:00"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 8, 0, tzinfo=TOKYO))


@pytest.fixture
def push() -> Iterator[str]:
    with fake_push_service() as url:
        yield url


@pytest.fixture
def line() -> Iterator[str]:
    FakeLine.pushed = []
    FakeLine.fail = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_inbox() as found:
        yield found


@pytest.fixture
def api(
    database_url: str,
    clock: FakeClock,
    tmp_path: Path,
    inbox: tuple[Inbox, int],
    line: str,
    push: str,
) -> Iterator[tuple[TestClient, Engine]]:
    with app_client(
        database_url,
        clock,
        data_dir=tmp_path,
        secret_key="test-secret-for-reminders",
        smtp_url=f"smtp://127.0.0.1:{inbox[1]}",
        line_channel_token=LINE_TOKEN,
        line_api_url=line,
        web_push=True,
        vapid_subject=SUBJECT,
        day_close_check_seconds=0.05,
        public_base_url=BASE,
    ) as (client, _, engine):
        yield client, engine


def book(client: TestClient, start: str, channel: str | None, address: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"category_id": "mynumber", "start": start, "language": "en"}
    if channel is not None:
        body["reminder"] = {"channel": channel, "address": address}
    response = client.post("/api/v1/reservations", json=body)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()["reservation"]
    return found


def push_address(push: str) -> str:
    return json.dumps(browser_subscription(f"{push}/push/reminder-canary"))


def wait_for(condition: Any, seconds: float = 8.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met; push refused: {FakePushService.refused}")
        time.sleep(0.02)


def addresses(engine: Engine) -> list[str | None]:
    with engine.connect() as c:
        return list(c.execute(select(t.reservations.c.reminder_address)).scalars())


def test_each_channel_reminds_once_at_the_hour_and_forgets_the_address(
    api, clock: FakeClock, inbox: tuple[Inbox, int], push: str, caplog: pytest.LogCaptureFixture
) -> None:
    client, engine = api
    caplog.set_level(logging.DEBUG)
    handler, _ = inbox
    assert set(client.get("/api/v1/notify/channels").json()["channels"]) == {
        "email",
        "line",
        "webpush",
    }
    by_push = book(client, THURSDAY, "webpush", push_address(push))
    assert by_push["reminder"] is True and by_push["reminder_channel"] == "webpush"
    assert by_push["reminder_token"].startswith("r.")
    book(client, "2026-11-26T11:00:00+09:00", "line", LINE_USER)
    book(client, "2026-11-26T11:30:00+09:00", "email", EMAIL)
    # Booked for Friday and moved to Thursday: the reminder comes with the booking.
    moved = book(client, "2026-11-27T10:00:00+09:00", "webpush", push_address(push))
    change = {"code": moved["short_code"], "start": "2026-11-26T13:00:00+09:00"}
    assert client.post("/api/v1/reservations/change", json=change).status_code == 200
    cancelled = book(client, "2026-11-26T13:30:00+09:00", "line", LINE_USER)
    cancel = {"code": cancelled["short_code"]}
    assert client.post("/api/v1/reservations/cancel", json=cancel).status_code == 200

    clock.set(datetime(2026, 11, 25, 11, 59, tzinfo=TOKYO))
    time.sleep(0.4)
    assert not FakePushService.received and not FakeLine.pushed and not handler.messages

    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=TOKYO))
    wait_for(lambda: len(FakePushService.received) == 2 and FakeLine.pushed and handler.messages)
    time.sleep(0.4)  # more passes of the loop send nothing more
    assert len(FakePushService.received) == 2
    assert len(FakeLine.pushed) == 1 and len(handler.messages) == 1  # not the cancelled one
    titles = sorted(p["title"] for p in FakePushService.received)
    assert titles == ["Your visit tomorrow at 10:30", "Your visit tomorrow at 13:00"]
    for payload in FakePushService.received:
        assert payload["unsubscribe"].startswith(f"{BASE}/notify/unsubscribe/r.")
        assert payload["unsubscribe"].endswith("?lang=en")
        assert payload["unsubscribe"] in payload["body"]
    to, text = FakeLine.pushed[0]
    assert to == LINE_USER and "tomorrow, 2026-11-26 at 11:00" in text
    assert f"{BASE}/notify/unsubscribe/r." in text
    assert handler.messages[0]["To"] == EMAIL

    assert addresses(engine) == [None] * 5  # sent or cancelled: every address is gone
    looked = client.post("/api/v1/reservations/lookup", json={"code": by_push["short_code"]})
    assert looked.json()["reservation"]["reminder"] is True  # staff still see one was asked
    with engine.connect() as c:
        events = " ".join(str(p) for p in c.execute(select(t.office_events.c.payload)).scalars())
    # The server's own log lines (the fakes' and the HTTP client's are not the server's).
    ours = " ".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("queue_server", "madoguchi"))
    )
    assert "reminder not sent" not in ours  # the loop did run through the server's code
    for canary in (EMAIL, LINE_USER, "reminder-canary"):
        assert canary not in ours and canary not in events


def test_a_failed_reminder_is_retried_on_the_next_pass(api, clock: FakeClock, push: str) -> None:
    client, engine = api
    FakePushService.fail = 2
    FakeLine.fail = 1
    book(client, THURSDAY, "webpush", push_address(push))
    book(client, "2026-11-26T11:00:00+09:00", "line", LINE_USER)
    clock.set(datetime(2026, 11, 25, 12, 30, tzinfo=TOKYO))
    wait_for(lambda: FakePushService.received and FakeLine.pushed)
    time.sleep(0.4)
    assert FakePushService.fail == 0 and FakeLine.fail == 0  # the failures happened
    assert len(FakePushService.received) == 1 and len(FakeLine.pushed) == 1
    assert addresses(engine) == [None, None]


def test_one_tap_stops_a_reminder_and_day_close_deletes_the_rest(
    api, clock: FakeClock, push: str
) -> None:
    client, engine = api
    stopped = book(client, THURSDAY, "webpush", push_address(push))
    today = book(client, "2026-11-25T15:00:00+09:00", "line", LINE_USER)  # today: no reminder
    token = {"token": stopped["reminder_token"]}
    assert client.post("/api/v1/notify/unsubscribe", json=token).status_code == 200
    looked = client.post("/api/v1/reservations/lookup", json={"code": stopped["short_code"]})
    assert looked.json()["reservation"]["reminder"] is False
    assert "reminder_token" not in looked.json()["reservation"]
    assert today["reminder"] is True
    assert addresses(engine).count(LINE_USER) == 1

    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=TOKYO))
    time.sleep(0.5)
    assert not FakePushService.received and not FakeLine.pushed
    clock.set(datetime(2026, 11, 26, 6, 0, tzinfo=TOKYO))  # the 25th is closed
    wait_for(lambda: addresses(engine) == [None, None])
    time.sleep(0.3)
    with engine.connect() as c:
        kinds = list(c.execute(select(t.office_events.c.type)).scalars())
    assert kinds.count("day.closed") == 1, kinds


def test_a_reminder_channel_must_be_offered_and_its_address_valid(api, push: str) -> None:
    client, _ = api

    def status(reminder: dict[str, str], **extra: str) -> tuple[int, str]:
        body = {"category_id": "mynumber", "start": THURSDAY, "reminder": reminder, **extra}
        response = client.post("/api/v1/reservations", json=body)
        return response.status_code, response.json()["error"]["code"]

    assert status({"channel": "fax", "address": "0312345678"}) == (422, "invalid_request")
    assert status({"channel": "line", "address": "not-a-line-id"}) == (422, "invalid_request")
    assert status({"channel": "webpush", "address": '{"a": 1}'}) == (422, "invalid_request")
    both = {"channel": "line", "address": LINE_USER}
    assert status(both, email=EMAIL) == (422, "invalid_request")
