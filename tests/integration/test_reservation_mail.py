"""Reservation reminders by e-mail, through the real server's housekeeping to a local SMTP
server (aiosmtpd): sent once the day before, never once cancelled, retried after a refusal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from support.mail import Inbox, smtp_inbox
from support.server import app_client
from tests_constants import TOKYO

from queue_server.adapters import tables as t
from queue_server.adapters.smtp_mail import SmtpMailer
from queue_server.service.ports import FakeClock

SECRET = "test-secret-for-reminders"
EMAIL = "resident@example.jp"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_inbox() as found:
        yield found


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 8, 0, tzinfo=TOKYO))


@pytest.fixture
def client(
    sqlite_url: str, clock: FakeClock, tmp_path: Path, inbox: tuple[Inbox, int]
) -> Iterator[TestClient]:
    with app_client(
        sqlite_url,
        clock,
        data_dir=tmp_path,
        secret_key=SECRET,
        smtp_url=f"smtp://127.0.0.1:{inbox[1]}",
        mail_from="madoguchi@city.example.jp",
        day_close_check_seconds=0.05,
    ) as (client, _, _):
        yield client


def book(client: TestClient, start: str, email: str | None = EMAIL, lang: str = "en") -> str:
    response = client.post(
        "/api/v1/reservations",
        json={"category_id": "mynumber", "start": start, "language": lang, "email": email},
    )
    assert response.status_code == 201, response.text
    short: str = response.json()["reservation"]["short_code"]
    return short


def wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


def test_a_reminder_goes_once_the_day_before_and_never_for_a_cancelled_booking(
    client: TestClient, clock: FakeClock, inbox: tuple[Inbox, int]
) -> None:
    handler, _ = inbox
    short = book(client, "2026-11-26T10:30:00+09:00")
    cancelled = book(client, "2026-11-26T11:00:00+09:00", email="other@example.jp")
    book(client, "2026-11-26T11:30:00+09:00", email=None)  # no reminder asked
    book(client, "2026-11-27T10:30:00+09:00", email="later@example.jp")  # the day after
    client.post("/api/v1/reservations/cancel", json={"code": cancelled})
    time.sleep(0.3)
    assert handler.messages == []  # before noon the day before
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=TOKYO))
    wait_for(lambda: len(handler.messages) == 1)
    time.sleep(0.5)  # several more housekeeping passes
    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert message["To"] == EMAIL and message["From"] == "madoguchi@city.example.jp"
    assert message["Subject"] == "Your visit tomorrow at 10:30"
    assert isinstance(message, EmailMessage)
    body = message.get_content()
    assert "2026-11-26 at 10:30" in body and "My Number Card" in body
    assert "check-in from 10:00 to 10:45" in body
    assert short not in body  # the code is not in the mail


def test_a_refused_reminder_is_retried(
    client: TestClient, clock: FakeClock, inbox: tuple[Inbox, int]
) -> None:
    handler, _ = inbox
    handler.refuse = 2
    book(client, "2026-11-26T10:30:00+09:00", lang="ja")
    clock.set(datetime(2026, 11, 25, 13, 0, tzinfo=TOKYO))
    wait_for(lambda: len(handler.messages) == 1)
    time.sleep(0.3)
    assert len(handler.messages) == 1
    assert handler.messages[0]["Subject"] == "来庁予約のお知らせ（明日 10:30）"


def test_the_smtp_url_is_checked() -> None:
    with pytest.raises(ValueError):
        SmtpMailer("http://mail.example.jp", "a@example.jp")
    assert SmtpMailer("smtps://user:p%40ss@mail.example.jp", "a@example.jp")._port == 465


def test_the_reminder_carries_a_one_click_link_that_deletes_the_address(
    client: TestClient, clock: FakeClock, inbox: tuple[Inbox, int], sqlite_url: str
) -> None:
    handler, _ = inbox
    short = book(client, "2026-11-26T10:30:00+09:00")
    kept = book(client, "2026-11-27T11:00:00+09:00", email="kept@example.jp")  # not due yet
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=TOKYO))
    wait_for(lambda: len(handler.messages) == 1)
    message = next(m for m in handler.messages if m["To"] == EMAIL)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(message["List-Unsubscribe"]).strip("<>")
    assert link.startswith("http://127.0.0.1:8000/notify/unsubscribe/r.")
    assert isinstance(message, EmailMessage)
    assert f"Stop reminders: {link}" in message.get_content()
    path, _, query = link.removeprefix("http://127.0.0.1:8000").partition("?")
    assert query == "lang=en"  # the stop page opens in the booking's language

    # A forged token (another signature) changes nothing.
    forged = client.post(path[:-4] + "AAAA", content=b"List-Unsubscribe=One-Click")
    assert forged.status_code == 200
    assert lookup(client, short)["reminder"] is True

    # What a mail program does for RFC 8058 one-click: POST the form body to the link.
    stopped = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert stopped.status_code == 200
    assert "You will get no more reminders for this booking." in stopped.text
    assert lookup(client, short)["reminder"] is False
    assert lookup(client, kept)["reminder"] is True  # only that booking's
    engine = create_engine(sqlite_url)
    with engine.connect() as c:
        addresses = c.execute(select(t.reservations.c.reminder_address)).scalars().all()
    engine.dispose()
    assert EMAIL not in addresses and "kept@example.jp" in addresses
    assert client.post(path).status_code == 200  # a second tap changes nothing


def lookup(client: TestClient, code: str) -> dict[str, Any]:
    response = client.post("/api/v1/reservations/lookup", json={"code": code})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["reservation"]
    return found
