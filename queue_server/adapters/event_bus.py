"""The event-bus seam: tells every server process that an office has a new committed event.

A notice carries the office, the event's seq and (when small enough) the event itself. Receivers
never trust notices for completeness: `realtime.Hub` fills any gap from the events table, so a
late, lost or reordered notice costs a query, never a missed event.

Backends, chosen by URL: `memory://` (one process), `postgresql://...` (LISTEN/NOTIFY: the
notification is sent inside the transaction, so PostgreSQL delivers it only after the commit and in
commit order), `redis://host:port/db` (pub/sub, published right after the commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, func, select

logger = logging.getLogger(__name__)
CHANNEL = "madoguchi_events"
_MAX_INLINE = 7000  # PostgreSQL's NOTIFY payload limit is 8000 bytes


@dataclass(frozen=True)
class Notice:
    office_id: str
    seq: int
    event: Mapping[str, Any] | None = None

    def encode(self, inline: bool = True) -> str:
        body: dict[str, Any] = {"office_id": self.office_id, "seq": self.seq}
        if inline and self.event is not None:
            body["event"] = self.event
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        if len(text.encode()) > _MAX_INLINE:
            return self.encode(inline=False)
        return text

    @classmethod
    def decode(cls, text: str | bytes) -> Notice:
        body = json.loads(text)
        return cls(str(body["office_id"]), int(body["seq"]), body.get("event"))


Deliver = Callable[[Notice], None]


class EventBus(Protocol):
    def publish_in_transaction(self, connection: Connection, notices: Sequence[Notice]) -> None: ...
    def publish_after_commit(self, notices: Sequence[Notice]) -> None: ...
    async def listen(self, deliver: Deliver) -> None:
        """Call `deliver` on the running loop for each notice, until cancelled."""
        ...


class MemoryBus:
    """In-process fan-out (the default: one server process)."""

    def __init__(self) -> None:
        self._listeners: list[tuple[asyncio.AbstractEventLoop, Deliver]] = []
        self._lock = threading.Lock()

    def publish_in_transaction(self, connection: Connection, notices: Sequence[Notice]) -> None:
        return None

    def publish_after_commit(self, notices: Sequence[Notice]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for loop, deliver in listeners:
            for notice in notices:
                with contextlib.suppress(RuntimeError):  # loop already closed (shutdown)
                    loop.call_soon_threadsafe(deliver, notice)

    async def listen(self, deliver: Deliver) -> None:
        entry = (asyncio.get_running_loop(), deliver)
        with self._lock:
            self._listeners.append(entry)
        try:
            await asyncio.Event().wait()
        finally:
            with self._lock:
                self._listeners.remove(entry)


class PostgresBus:
    """LISTEN/NOTIFY on the queue's own PostgreSQL database."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn

    def publish_in_transaction(self, connection: Connection, notices: Sequence[Notice]) -> None:
        # One round trip for a whole group commit's notices.
        if notices:
            connection.execute(select(*(func.pg_notify(CHANNEL, n.encode()) for n in notices)))

    def publish_after_commit(self, notices: Sequence[Notice]) -> None:
        return None

    async def listen(self, deliver: Deliver) -> None:
        import psycopg

        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._dsn, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    async for notify in conn.notifies():
                        deliver(Notice.decode(notify.payload))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost: the hub's periodic check covers the gap
                logger.warning(
                    "event bus: PostgreSQL listener reconnecting (%s)", type(exc).__name__
                )
                await asyncio.sleep(1.0)


class RedisBus:
    """Redis pub/sub, for several processes or hosts."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._client: Any = None
        self._lock = threading.Lock()

    def publish_in_transaction(self, connection: Connection, notices: Sequence[Notice]) -> None:
        return None

    def publish_after_commit(self, notices: Sequence[Notice]) -> None:
        import redis

        with self._lock:
            if self._client is None:
                self._client = redis.Redis.from_url(self._url, socket_timeout=2)
            client = self._client
        try:
            for notice in notices:
                client.publish(CHANNEL, notice.encode())
        except redis.RedisError as exc:  # the event is committed; listeners catch up from the table
            logger.warning("event bus: Redis publish failed (%s)", type(exc).__name__)

    async def listen(self, deliver: Deliver) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self._url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            deliver(Notice.decode(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("event bus: Redis listener reconnecting (%s)", type(exc).__name__)
                await asyncio.sleep(1.0)
            finally:
                await client.aclose()


def create_bus(url: str, database_url: str) -> EventBus:
    """Pick the backend from its URL; `postgresql` alone means the queue's own database."""
    scheme = url.split(":", 1)[0]
    if scheme == "memory":
        return MemoryBus()
    if scheme in ("postgresql", "postgres"):
        from sqlalchemy.engine import make_url

        target = database_url if url in ("postgresql", "postgresql://", "postgres") else url
        parsed = make_url(target).set(drivername="postgresql")
        if parsed.get_backend_name() != "postgresql":
            raise ValueError("the postgresql event bus needs a PostgreSQL database")
        return PostgresBus(parsed.render_as_string(hide_password=False))
    if scheme in ("redis", "rediss"):
        return RedisBus(url)
    raise ValueError(f"unknown event bus {url!r}: use memory://, postgresql or redis://...")
