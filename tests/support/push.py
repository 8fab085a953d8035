"""A local fake of a browser vendor's push service that checks what a real one checks: the
VAPID JWT (ES256 by the key the server publishes, audience, expiry, subject) and that the payload
is encrypted for the subscribing browser (aes128gcm); it keeps the decrypted payloads."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

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
    fail: ClassVar[int] = 0  # answer 500 to this many valid pushes (a push service's outage)

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
        if FakePushService.fail > 0:
            FakePushService.fail -= 1
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        FakePushService.received.append(json.loads(plain))
        FakePushService.server_keys.append(fields["k"])
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def fake_push_service() -> Iterator[str]:
    """The fake with a fresh browser key pair, listening on 127.0.0.1; yields its base URL."""
    FakePushService.browser_key = ec.generate_private_key(ec.SECP256R1())
    FakePushService.auth = os.urandom(16)
    FakePushService.received = []
    FakePushService.refused = []
    FakePushService.server_keys = []
    FakePushService.fail = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePushService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def browser_subscription(endpoint: str) -> dict[str, Any]:
    """What `PushSubscription.toJSON()` gives for the fake's browser key and `endpoint`."""
    browser_public = FakePushService.browser_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "endpoint": endpoint,
        "keys": {"p256dh": b64(browser_public), "auth": b64(FakePushService.auth)},
    }
