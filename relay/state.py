"""What one relay holds for its office: the latest pushed state, kept in memory only.

Every answer is encoded once when a push arrives (status, each ticket, each document, each
message for the streams), so serving is a dictionary lookup. The ordering rule of the queue
server holds here too: a status is published only when every event up to its seq has been.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from relay.protocol import Push, PushRefused

#: Documents the queue server sends with its pulls rather than its snapshots: a snapshot keeps them.
PULLED_DOCUMENTS = frozenset({"/api/v1/notify/channels", "/api/v1/notify/vapid-public-key"})


@dataclass(frozen=True)
class Body:
    """A pre-encoded JSON answer and its ETag."""

    data: bytes
    etag: str

    @classmethod
    def of_text(cls, text: str) -> Body:
        data = text.encode("utf-8")
        return cls(data, '"' + hashlib.sha256(data).hexdigest()[:20] + '"')

    @classmethod
    def of(cls, value: Any) -> Body:
        return cls.of_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


class RelayState:
    """The office's public state as last pushed; `apply` returns the stream messages to send."""

    def __init__(self, office_id: str, keep_events: int = 2000) -> None:
        self.office_id = office_id
        self.seq = 0
        self.status_seq = 0
        self.status: Body | None = None
        self.status_text: str | None = None
        self.tickets: dict[str, Body] = {}
        self.documents: dict[str, Body] = {}
        self.events: deque[tuple[int, str]] = deque(maxlen=keep_events)
        self.updated_at: float | None = None  # wall clock of the last applied push
        self.updated_monotonic: float | None = None
        self.pushes = 0

    @property
    def ready(self) -> bool:
        return self.status is not None

    def age(self) -> float | None:
        """Seconds since the last push, or None before the first."""
        if self.updated_monotonic is None:
            return None
        return time.monotonic() - self.updated_monotonic

    def apply(self, push: Push) -> list[str]:
        """Apply a verified push; the stream messages it makes, in order (snapshot, events,
        status). Raises `PushRefused` for another office or a gap in the events."""
        if push.office_id != self.office_id:
            raise PushRefused(403, "wrong_office", "this relay serves another office")
        messages: list[str] = []
        if push.snapshot:
            if push.status is None:
                raise PushRefused(400, "malformed", "a snapshot needs a status")
            if push.seq < self.seq:
                return []  # older than what we have (a lagging sender): streams never go back
            self.seq = push.seq
            self.events.clear()
            self.tickets = {}
            self.documents = {p: d for p, d in self.documents.items() if p in PULLED_DOCUMENTS}
            self.status_seq = 0
        else:
            new = [(seq, text) for seq, text in push.events if seq > self.seq]
            if (new and new[0][0] != self.seq + 1) or (push.seq > self.seq and not new):
                raise PushRefused(409, "need_snapshot", f"the relay is at seq {self.seq}")
            for seq, text in new:
                self.events.append((seq, text))
                messages.append(text)
                self.seq = seq
        if push.tickets:
            self.tickets.update(
                {pid: Body.of({"ticket": view}) for pid, view in push.tickets.items()}
            )
        for path, document in push.documents.items():
            self.documents[path] = Body.of(document)
        status = push.status
        in_order = self.status_seq <= push.status_seq <= self.seq  # never ahead of the events
        if status is not None and in_order and (status != self.status_text or push.snapshot):
            self.status_text = status
            self.status_seq = push.status_seq
            self.status = Body.of_text(status)
            messages.append(self.state_message("snapshot" if push.snapshot else "status"))
        if push.snapshot or push.events or push.status is not None:
            # Documents alone (sent with the pull) say nothing about how fresh the figures are.
            self.updated_at = time.time()
            self.updated_monotonic = time.monotonic()
        self.pushes += 1
        return messages

    def state_message(self, kind: str = "snapshot") -> str:
        """A `snapshot` (or `status`) stream message of the current status."""
        return f'{{"type":"{kind}","seq":{self.status_seq},"status":{self.status_text}}}'

    def events_after(self, seq: int) -> list[str] | None:
        """Kept event messages after `seq`, or None when some are no longer kept."""
        if seq >= self.seq:
            return []
        if not self.events or self.events[0][0] > seq + 1:
            return None
        return [text for s, text in self.events if s > seq]
