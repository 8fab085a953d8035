"""Several relays of one office share every push through Redis, so any relay serves any resident.

The relay that receives a push from the queue server applies it, stores it (the last snapshot,
and the pushes after it in a capped list) and publishes it; the others apply what they hear. A
relay that starts, or finds a gap, rebuilds from the stored snapshot and the pushes after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from relay.protocol import PushRefused

if TYPE_CHECKING:
    from relay.app import Relay

logger = logging.getLogger(__name__)
_KEEP_DELTAS = 5000


class RedisLink:
    def __init__(self, url: str, office_id: str, relay: Relay) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._relay = relay
        self._id = uuid.uuid4().hex.encode()
        prefix = f"madoguchi:relay:{office_id}"
        self._channel = prefix
        self._snapshot_key = f"{prefix}:snapshot"
        self._deltas_key = f"{prefix}:deltas"
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        with contextlib.suppress(Exception):
            await self.recover()
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()

    async def share(self, body: bytes, *, snapshot: bool) -> None:
        """Store and publish a push this relay received from the queue server."""
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                if snapshot:
                    pipe.set(self._snapshot_key, body)
                    pipe.delete(self._deltas_key)
                else:
                    pipe.rpush(self._deltas_key, body)
                    pipe.ltrim(self._deltas_key, -_KEEP_DELTAS, -1)
                pipe.publish(self._channel, self._id + b"\n" + body)
                await pipe.execute()
        except Exception as exc:  # Redis away: this relay still serves; others catch up later
            logger.warning("relay: sharing a push failed (%s)", type(exc).__name__)

    async def recover(self) -> None:
        """Rebuild from the stored snapshot and the pushes after it."""
        snapshot = await self._redis.get(self._snapshot_key)
        if snapshot is None:
            return
        deltas = await self._redis.lrange(self._deltas_key, 0, -1)
        for body in [snapshot, *deltas]:
            with contextlib.suppress(PushRefused):
                await self._relay.apply(
                    body if isinstance(body, bytes) else body.encode(), share=False
                )

    async def _listen(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    await self.recover()  # what was published while we were not listening
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        sender, _, body = bytes(message["data"]).partition(b"\n")
                        if sender == self._id:
                            continue
                        try:
                            await self._relay.apply(body, share=False)
                        except PushRefused as refused:
                            if refused.code == "need_snapshot":
                                await self.recover()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarted: resubscribe and resync
                logger.warning("relay: Redis link lost (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1.0)
