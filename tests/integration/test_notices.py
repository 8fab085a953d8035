"""Ticket notices through the real server: "N people ahead" and "called to counter X" by
e-mail (a local aiosmtpd server) and LINE (a local fake of the Messaging API), each sent once,
retried, stopped by one tap, never after the ticket is over, deleted at day close."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from support.mail import Inbox, smtp_inbox
from support.server import Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT, TOKYO

from queue_server.adapters import tables as t
from queue_server.service.ports import FakeClock

EMAIL = "resident@example.jp"
LINE_USER = "U" + "0123456789abcdef" * 2
LINE_TOKEN = "line-channel-token-for-tests"


class FakeLine(BaseHTTPRequestHandler):
    """The Messaging API's push endpoint: checks the token and the body, records the text;
    answers 500 while `fail` is positive."""

    pushed: ClassVar[list[tuple[str, str]]] = []
    fail = 0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = (
            self.path == "/v2/bot/message/push"
            and self.headers["Authorization"] == f"Bearer {LINE_TOKEN}"
            and body["messages"][0]["type"] == "text"
        )
        if not ok:
            self.send_response(401)
        elif FakeLine.fail > 0:
            FakeLine.fail -= 1
            self.send_response(500)
        else:
            FakeLine.pushed.append((body["to"], body["messages"][0]["text"]))
            self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_inbox() as found:
        yield found


@pytest.fixture
def line() -> Iterator[str]:
    FakeLine.pushed = []
    FakeLine.fail = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPEN_MOMENT)


@pytest.fixture
def api(
    sqlite_url: str, clock: FakeClock, tmp_path: Path, inbox: tuple[Inbox, int], line: str
) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    with app_client(
        sqlite_url,
        clock,
        data_dir=tmp_path,
        secret_key="test-secret-for-notices",
        smtp_url=f"smtp://127.0.0.1:{inbox[1]}",
        line_channel_token=LINE_TOKEN,
        line_api_url=line,
        notice_seconds=0.05,
        public_base_url="https://madoguchi.example.jp",
    ) as parts:
        yield parts


def wait_for(condition: Any, seconds: float = 8.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


def test_ahead_and_called_notices_by_email_and_line(api, inbox, clock) -> None:
    client, tokens, engine = api
    mail, _ = inbox
    kiosk, clerk = bearer(tokens.kiosk), bearer(tokens.clerk)
    assert client.get("/api/v1/notify/channels").json() == {"channels": ["email", "line"]}
    tickets = [
        client.post("/api/v1/tickets", json={"category_id": "certificates"}, headers=kiosk).json()[
            "ticket"
        ]
        for _ in range(3)
    ]
    mine = tickets[2]

    def subscribe(channel: str, address: str, ahead: int, lang: str) -> dict[str, Any]:
        response = client.post(
            "/api/v1/notify/subscribe",
            json={
                "public_id": mine["public_id"],
                "channel": channel,
                "address": address,
                "ahead": ahead,
                "language": lang,
            },
        )
        assert response.status_code == 201, response.text
        subscription: dict[str, Any] = response.json()["subscription"]
        return subscription

    by_mail = subscribe("email", EMAIL, 1, "en")
    subscribe("line", LINE_USER, 0, "ja")
    assert by_mail["unsubscribe_url"].startswith("https://madoguchi.example.jp/notify/unsubscribe/")
    time.sleep(0.3)
    assert mail.messages == [] and FakeLine.pushed == []  # two ahead: not yet

    def call_next() -> None:
        response = client.post(
            "/api/v1/counters/c1/call-next", json={"finish_current": True}, headers=clerk
        )
        assert response.status_code == 200, response.text

    call_next()  # A-001 called: one ahead of mine
    wait_for(lambda: mail.subjects() == ["A-003: 1 people ahead of you"])
    body = mail.messages[0].get_content()  # type: ignore[attr-defined]
    assert by_mail["unsubscribe_url"] in body
    call_next()  # A-002 called: nobody ahead
    wait_for(lambda: len(FakeLine.pushed) == 1)
    assert FakeLine.pushed[0][0] == LINE_USER
    assert FakeLine.pushed[0][1].startswith("A-003: あなたの前はあと0人です")
    FakeLine.fail = 2  # the next LINE push fails twice, then goes
    call_next()  # mine is called at counter 1
    wait_for(lambda: len(mail.messages) == 2 and len(FakeLine.pushed) == 2)
    assert mail.subjects()[1] == "A-003: please come to counter 1"
    assert FakeLine.pushed[1][1].startswith("A-003: 1番窓口へお越しください")
    time.sleep(0.3)
    assert len(mail.messages) == 2 and len(FakeLine.pushed) == 2  # each once
    # One tap stops the e-mails; a recall still reaches LINE.
    link = by_mail["unsubscribe_url"].removeprefix("https://madoguchi.example.jp")
    page = client.get(link)  # asks; its button posts (tests/integration/test_unsubscribe_page.py)
    assert page.status_code == 200 and "tap the button" in page.text
    stopped = client.post(link)
    assert stopped.status_code == 200 and "no more messages" in stopped.text
    client.post(f"/api/v1/tickets/{mine['id']}/recall", headers=clerk)
    wait_for(lambda: len(FakeLine.pushed) == 3)
    client.post(f"/api/v1/tickets/{mine['id']}/finish", headers=clerk)
    time.sleep(0.3)
    assert len(mail.messages) == 2 and len(FakeLine.pushed) == 3
    everything = " ".join(text for _, text in FakeLine.pushed) + " ".join(
        str(m.get_content())
        for m in mail.messages  # type: ignore[attr-defined]
    )
    assert EMAIL not in everything
    # Day close deletes the subscriptions.
    clock.set(datetime(2026, 11, 26, 18, 1, tzinfo=TOKYO))
    client.get("/api/v1/reservations/summary", headers=bearer(tokens.admin))
    with engine.connect() as c:
        left = c.execute(select(func.count()).select_from(t.notice_subscriptions)).scalar_one()
    assert left == 0


def test_bad_addresses_and_tickets_are_refused(api) -> None:
    client, tokens, _ = api
    ticket = client.post(
        "/api/v1/tickets", json={"category_id": "certificates"}, headers=bearer(tokens.kiosk)
    ).json()["ticket"]

    def subscribe(**body: Any) -> tuple[int, str]:
        base = {"public_id": ticket["public_id"], "channel": "email", "address": EMAIL}
        response = client.post("/api/v1/notify/subscribe", json={**base, **body})
        return response.status_code, response.json().get("error", {}).get("code", "")

    assert subscribe(address="nobody") == (422, "invalid_request")
    assert subscribe(channel="line", address="not-a-line-id") == (422, "invalid_request")
    assert subscribe(channel="sms") == (422, "invalid_request")
    assert subscribe(public_id="no-such-ticket") == (404, "not_found")
    assert subscribe()[0] == 201


def test_a_notice_mail_offers_rfc_8058_one_click_and_it_stops_the_next(api, inbox) -> None:
    client, tokens, _ = api
    mail, _ = inbox
    kiosk, clerk = bearer(tokens.kiosk), bearer(tokens.clerk)
    tickets = [
        client.post("/api/v1/tickets", json={"category_id": "certificates"}, headers=kiosk).json()[
            "ticket"
        ]
        for _ in range(2)
    ]
    mine = tickets[1]
    made = client.post(
        "/api/v1/notify/subscribe",
        json={"public_id": mine["public_id"], "channel": "email", "address": EMAIL, "ahead": 1},
    )
    assert made.status_code == 201, made.text
    url = made.json()["subscription"]["unsubscribe_url"]
    wait_for(lambda: len(mail.messages) == 1)  # one ahead: at once
    message = mail.messages[0]
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    stopped = client.post(
        url.removeprefix("https://madoguchi.example.jp"),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert stopped.status_code == 200
    assert "no-store" in stopped.headers["cache-control"]
    for _ in range(2):  # the one ahead, then mine, is called
        client.post("/api/v1/counters/c1/call-next", json={"finish_current": True}, headers=clerk)
    time.sleep(0.5)
    assert len(mail.messages) == 1
