"""The pull: how the queue server fetches residents' requests from the relay, and answers them.

The relay never connects inward (三層分離), so bookings and notice subscriptions made on the
relay wait there until the queue server asks for them. Two signed calls, both from the queue
server, both signed like a push (HMAC-SHA256 over `<timestamp>.<body>`, relay/protocol.py):

    POST /pull    {"office_id", "nonce", "wait": 20, "max": 20, "documents": {...} | null}
                  -> {"nonce": <echoed>, "requests": [{"id", "path", "body"}, ...]}
    POST /answer  {"office_id", "nonce", "answers": [{"id", "status", "body"}, ...],
                   "documents": {...} | null}
                  -> {"nonce": <echoed>, "stored": n}

The relay signs its reply with the secret that signed the call, and echoes the call's nonce, so
the queue server refuses a forged reply or one replayed from an earlier call. Each nonce is
accepted once (the relay remembers them for longer than the timestamp window), so a captured
call cannot be replayed either — a replayed `/pull` would otherwise hand out residents' requests.
`documents` are public JSON the relay serves (the reservable slots, the notice channels).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from relay.protocol import DOCUMENTS, PushRefused

MAX_WAIT_SECONDS = 25.0
MAX_BATCH = 50
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: What residents may ask through the relay: the queue server's own public endpoints.
REQUEST_PATHS = frozenset(
    {
        "/api/v1/reservations",
        "/api/v1/reservations/lookup",
        "/api/v1/reservations/cancel",
        "/api/v1/reservations/change",
        "/api/v1/notify/subscribe",
        "/api/v1/notify/unsubscribe",
    }
)


@dataclass(frozen=True)
class Answer:
    """The queue server's HTTP answer to one request."""

    id: str
    status: int
    body: Any


@dataclass(frozen=True)
class Call:
    """A verified, parsed `/pull` or `/answer` call."""

    office_id: str
    nonce: str
    wait: float = 0.0
    max: int = MAX_BATCH
    answers: tuple[Answer, ...] = ()
    documents: dict[str, Any] = field(default_factory=dict)


def _malformed(message: str) -> PushRefused:
    return PushRefused(400, "malformed", message)


def parse_call(body: bytes) -> Call:
    """Parse a `/pull` or `/answer` body (after `verify`); malformed content raises (400)."""
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _malformed("the call is not JSON") from None
    if not isinstance(raw, dict):
        raise _malformed("the call is not an object")
    office_id, nonce = raw.get("office_id"), raw.get("nonce")
    if not isinstance(office_id, str) or not isinstance(nonce, str) or not _NONCE.match(nonce):
        raise _malformed("office_id and a nonce are required")
    wait, most = raw.get("wait", 0), raw.get("max", MAX_BATCH)
    if not isinstance(wait, (int, float)) or not isinstance(most, int) or isinstance(most, bool):
        raise _malformed("wait and max must be numbers")
    answers = []
    for item in raw.get("answers") or []:
        if not isinstance(item, dict):
            raise _malformed("an answer is not an object")
        rid, status = item.get("id"), item.get("status")
        if not isinstance(rid, str) or not REQUEST_ID.match(rid) or not isinstance(status, int):
            raise _malformed("an answer needs an id and an integer status")
        answers.append(Answer(rid, status, item.get("body")))
    documents = raw.get("documents") or {}
    if not isinstance(documents, dict) or not set(documents) <= DOCUMENTS:
        raise _malformed(f"documents may only be {sorted(DOCUMENTS)}")
    return Call(
        office_id=office_id,
        nonce=nonce,
        wait=max(0.0, min(float(wait), MAX_WAIT_SECONDS)),
        max=max(1, min(most, MAX_BATCH)),
        answers=tuple(answers),
        documents=documents,
    )


def encode_call(
    office_id: str,
    nonce: str,
    *,
    wait: float = 0.0,
    most: int = MAX_BATCH,
    answers: list[Answer] | None = None,
    documents: dict[str, Any] | None = None,
) -> bytes:
    """A `/pull` or `/answer` body, as the queue server sends it."""
    return json.dumps(
        {
            "office_id": office_id,
            "nonce": nonce,
            "wait": wait,
            "max": most,
            "answers": [{"id": a.id, "status": a.status, "body": a.body} for a in answers or []],
            "documents": documents,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
