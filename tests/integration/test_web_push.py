"""Web Push notices through the real server to a local fake push service that checks what a
real one checks: the VAPID JWT (ES256 by the key the server publishes, audience, expiry,
subject) and that the payload is encrypted for the subscribing browser (aes128gcm)."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from fastapi.testclient import TestClient
from support.server import Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT

from queue_server.service.ports import FakeClock

SUBJECT = "mailto:madoguchi@city.example.jp"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakePushService(BaseHTTPRequestHandler):
    """Accepts a push only with a valid VAPID JWT and a payload it can decrypt."""

    browser_key: ClassVar[ec.EllipticCurvePrivateKey]
    auth: ClassVar[bytes]
    received: ClassVar[list[dict[str, Any]]] = []
    refused: ClassVar[list[str]] = []
    server_keys: ClassVar[list[str]] = []

    def refuse(self, why: str) -> None:
        FakePushService.refused.append(why)
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        scheme, _, params = self.headers.get("Authorization", "").partition(" ")
        fields = dict(p.strip().split("=", 1) for p in params.split(","))
        if scheme != "vapid" or "t" not in fields or "k" not in fields:
            return self.refuse("no vapid authorization")
        header, claims, signature = fields["t"].split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
        raw = unb64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
        try:
            public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return self.refuse("bad signature")
        if json.loads(unb64(header)).get("alg") != "ES256":
            return self.refuse("not ES256")
        claim = json.loads(unb64(claims))
        host = f"http://{self.headers['Host']}"
        if claim.get("aud") != host or claim.get("exp", 0) <= time.time():
            return self.refuse("audience or expiry")
        if claim.get("sub") != SUBJECT:
            return self.refuse("subject")
        if self.headers.get("Content-Encoding") != "aes128gcm" or not self.headers.get("TTL"):
            return self.refuse("encoding or ttl")
        plain = http_ece.decrypt(
            body, private_key=FakePushService.browser_key, auth_secret=FakePushService.auth
        )
        FakePushService.received.append(json.loads(plain))
        FakePushService.server_keys.append(fields["k"])
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def push_service() -> Iterator[str]:
    FakePushService.browser_key = ec.generate_private_key(ec.SECP256R1())
    FakePushService.auth = os.urandom(16)
    FakePushService.received = []
    FakePushService.refused = []
    FakePushService.server_keys = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePushService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


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
    browser_public = FakePushService.browser_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    subscription = {
        "endpoint": f"{push_service}/push/abc123",
        "keys": {"p256dh": b64(browser_public), "auth": b64(FakePushService.auth)},
    }
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
