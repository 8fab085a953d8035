"""The push from the queue server to the relay: what it carries and how it is signed.

One push is a JSON object:

    {"office_id": "...", "seq": 42, "sent_at": 1764650000.0, "snapshot": false,
     "events": ["<public event message>", ...],          # seq order, each a ws text frame
     "status": "<status JSON>" | null, "status_seq": 41,  # the computed state, as of its seq
     "tickets": {"<public id>": {...}, ...} | null,        # tickets as the slip page shows them
     "documents": {"/api/v1/office": {...}, ...} | null}   # public JSON documents, whole

A snapshot (`snapshot: true`) replaces everything the relay holds; otherwise `events` must
continue the relay's seq (the relay answers 409 `need_snapshot` when they do not) and `tickets`
are upserts (changed tickets only). Nothing in a push is personal: numbers, counts, states,
counters and estimates only.

Signing: HMAC-SHA256 over `<timestamp>.<body>` with a shared secret, sent as
`X-Madoguchi-Timestamp` and `X-Madoguchi-Signature: sha256=<hex>`. The relay accepts any of its
configured secrets (two during a rotation) and refuses timestamps more than `MAX_SKEW_SECONDS`
away from its clock, so a captured push cannot be replayed later; a push whose seq it already
has is acknowledged and ignored (retries are safe).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

TIMESTAMP_HEADER = "X-Madoguchi-Timestamp"
SIGNATURE_HEADER = "X-Madoguchi-Signature"
MAX_SKEW_SECONDS = 300.0
MAX_PUSH_BYTES = 4 * 1024 * 1024
#: Every reservable procedure, its bookable days and each day's slots (docs/reservations.md).
AVAILABILITY = "/api/v1/reserve/availability"
#: The documents a push may carry: the public JSON the residents' pages read.
DOCUMENTS = frozenset(
    {
        "/api/v1/office",
        "/api/v1/pages/config",
        "/api/v1/congestion/typical",
        "/opendata/hourly.json",
        "/opendata/schema.json",
        # What /reserve and the notice form read: the queue server sends these too (see
        # relay/pull_protocol.py); a snapshot keeps those it does not carry itself.
        AVAILABILITY,
        "/api/v1/notify/channels",
        "/api/v1/notify/vapid-public-key",
    }
)


class PushRefused(Exception):
    """A push the relay will not apply; `status` is the HTTP answer, `code` the error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secrets: Iterable[bytes], timestamp: str | None, signature: str | None, body: bytes, now: float
) -> bytes:
    """The one of `secrets` that signed `body` at a timestamp close to `now`; else raise
    `PushRefused`."""
    if not timestamp or not signature:
        raise PushRefused(401, "unsigned", "the push carries no timestamp or signature")
    try:
        sent = float(timestamp)
    except ValueError:
        raise PushRefused(401, "bad_signature", "the timestamp is not a number") from None
    if not abs(now - sent) <= MAX_SKEW_SECONDS:
        raise PushRefused(401, "stale", "the push's timestamp is too far from the relay's clock")
    for secret in secrets:
        if hmac.compare_digest(sign(secret, timestamp, body), signature):
            return secret
    raise PushRefused(401, "bad_signature", "the signature matches no configured secret")


@dataclass(frozen=True)
class Push:
    """A verified, parsed push."""

    office_id: str
    seq: int
    snapshot: bool
    events: tuple[tuple[int, str], ...] = ()  # (seq, text frame)
    status: str | None = None
    status_seq: int = 0
    tickets: Mapping[str, Any] | None = None
    documents: Mapping[str, Any] = field(default_factory=dict)


def _text_seq(text: str, kind: str) -> int:
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        raise PushRefused(400, "malformed", f"a {kind} is not JSON") from None
    seq = message.get("seq") if isinstance(message, dict) else None
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise PushRefused(400, "malformed", f"a {kind} has no integer seq")
    return seq


def parse(body: bytes) -> Push:
    """Parse a push body (after `verify`); malformed content raises `PushRefused` (400)."""
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise PushRefused(400, "malformed", "the push is not JSON") from None
    if not isinstance(raw, dict):
        raise PushRefused(400, "malformed", "the push is not an object")
    office_id, seq = raw.get("office_id"), raw.get("seq")
    if not isinstance(office_id, str) or not isinstance(seq, int) or isinstance(seq, bool):
        raise PushRefused(400, "malformed", "office_id and an integer seq are required")
    events_raw = raw.get("events") or []
    if not isinstance(events_raw, list) or not all(isinstance(e, str) for e in events_raw):
        raise PushRefused(400, "malformed", "events must be a list of message texts")
    events = tuple((_text_seq(text, "event"), text) for text in events_raw)
    if any(b[0] != a[0] + 1 for a, b in itertools.pairwise(events)):
        raise PushRefused(400, "malformed", "events must be consecutive")
    status, status_seq = raw.get("status"), raw.get("status_seq", 0)
    if status is not None:
        if not isinstance(status, str) or not isinstance(status_seq, int):
            raise PushRefused(400, "malformed", "status must be JSON text with a status_seq")
        try:
            if not isinstance(json.loads(status), dict):
                raise ValueError
        except ValueError:
            raise PushRefused(400, "malformed", "status is not a JSON object") from None
    tickets = raw.get("tickets")
    if tickets is not None and not isinstance(tickets, dict):
        raise PushRefused(400, "malformed", "tickets must be an object")
    documents = raw.get("documents") or {}
    if not isinstance(documents, dict) or not set(documents) <= DOCUMENTS:
        raise PushRefused(400, "malformed", f"documents may only be {sorted(DOCUMENTS)}")
    return Push(
        office_id=office_id,
        seq=seq,
        snapshot=bool(raw.get("snapshot")),
        events=events,
        status=status,
        status_seq=status_seq,
        tickets=tickets,
        documents=documents,
    )


def encode(
    office_id: str,
    seq: int,
    sent_at: float,
    *,
    snapshot: bool,
    events: Iterable[str] = (),
    status: str | None = None,
    status_seq: int = 0,
    tickets: Mapping[str, Any] | None = None,
    documents: Mapping[str, Any] | None = None,
) -> bytes:
    """A push body, as the queue server sends it."""
    return json.dumps(
        {
            "office_id": office_id,
            "seq": seq,
            "sent_at": sent_at,
            "snapshot": snapshot,
            "events": list(events),
            "status": status,
            "status_seq": status_seq,
            "tickets": tickets,
            "documents": documents,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
