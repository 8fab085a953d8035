"""Web Push notices through the real server to a local fake push service that checks what a
real one checks: the VAPID JWT (ES256 by the key the server publishes, audience, expiry,
subject) and that the payload is encrypted for the subscribing browser (aes128gcm)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.push import SUBJECT, FakePushService, browser_subscription, fake_push_service
from support.server import Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT

from queue_server.service.ports import FakeClock


@pytest.fixture
def push_service() -> Iterator[str]:
    with fake_push_service() as url:
        yield url


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path, push_service: str) -> Iterator[tuple[TestClient, Tokens]]:
    with app_client(
        sqlite_url,
        FakeClock(OPEN_MOMENT),
        data_dir=tmp_path,
        secret_key="test-secret-for-push",
        web_push=True,
        vapid_subject=SUBJECT,
        notice_seconds=0.05,
    ) as (client, tokens, _):
        yield client, tokens


def wait_for(condition: Any, seconds: float = 8.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met; refused: {FakePushService.refused}")
        time.sleep(0.02)


def test_push_notices_are_signed_with_vapid_and_encrypted_for_the_browser(
    api, push_service: str
) -> None:
    client, tokens = api
    assert "webpush" in client.get("/api/v1/notify/channels").json()["channels"]
    server_key = client.get("/api/v1/notify/vapid-public-key").json()["key"]
    kiosk = bearer(tokens.kiosk)
    tickets = [
        client.post("/api/v1/tickets", json={"category_id": "certificates"}, headers=kiosk).json()[
            "ticket"
        ]
        for _ in range(2)
    ]
    subscription = browser_subscription(f"{push_service}/push/abc123")
    response = client.post(
        "/api/v1/notify/subscribe",
        json={
            "public_id": tickets[1]["public_id"],
            "channel": "webpush",
            "address": json.dumps(subscription),
            "ahead": 0,
            "language": "en",
        },
    )
    assert response.status_code == 201, response.text
    clerk = bearer(tokens.clerk)
    client.post("/api/v1/counters/c1/call-next", headers=clerk)
    wait_for(lambda: len(FakePushService.received) == 1)
    assert FakePushService.received[0]["title"] == "A-002: 0 people ahead of you"
    client.post("/api/v1/counters/c1/call-next", json={"finish_current": True}, headers=clerk)
    wait_for(lambda: len(FakePushService.received) == 2)
    assert FakePushService.received[1]["title"] == "A-002: please come to counter 1"
    assert "/notify/unsubscribe/" in FakePushService.received[1]["body"]
    assert FakePushService.refused == []
    assert set(FakePushService.server_keys) == {server_key}


def test_a_bad_push_subscription_is_refused(api) -> None:
    client, tokens = api
    ticket = client.post(
        "/api/v1/tickets", json={"category_id": "certificates"}, headers=bearer(tokens.kiosk)
    ).json()["ticket"]
    for address in ("not json", json.dumps({"endpoint": "ftp://x", "keys": {}})):
        response = client.post(
            "/api/v1/notify/subscribe",
            json={"public_id": ticket["public_id"], "channel": "webpush", "address": address},
        )
        assert response.status_code == 422
