"""`Mailer` (one message to one address) over Web Push, with the server's own VAPID key.

The address is the browser's push subscription as JSON (`endpoint`, `keys.p256dh`,
`keys.auth`). The payload is encrypted for that browser (aes128gcm, RFC 8291) and the request
signed with a VAPID JWT (RFC 8292) by `pywebpush`; the push service learns nothing but that a
message was sent. The key pair is generated once into the data directory (no outside service).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush


class WebPushError(RuntimeError):
    """The push service did not take the message."""


def vapid_key(path: Path) -> Vapid02:
    """The server's VAPID key pair, generated once into `path` (readable by the server only)."""
    if not path.exists():
        key = Vapid02()
        key.generate_keys()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        key.save_key(str(path))
    return Vapid02.from_file(str(path))


def application_server_key(key: Vapid02) -> str:
    """The public key as browsers take it (`PushManager.subscribe({applicationServerKey})`)."""
    raw = key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class WebPushNotifier:
    def __init__(self, key: Vapid02, subject: str, timeout: float = 10.0) -> None:
        self._key = key
        self._subject = subject
        self._timeout = timeout

    def send(self, to: str, subject: str, body: str, unsubscribe_url: str | None = None) -> None:
        subscription = json.loads(to)
        payload = {"title": subject, "body": body}
        if unsubscribe_url is not None:
            payload["unsubscribe"] = unsubscribe_url  # the worker's "stop" opens it
        data = json.dumps(payload, ensure_ascii=False)
        try:
            webpush(
                subscription,
                data,
                vapid_private_key=self._key,
                vapid_claims={"sub": self._subject},
                ttl=3600,
                timeout=self._timeout,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else "no answer"
            raise WebPushError(f"the push service answered {status}") from None
