"""Residents' requests kept in Redis, so that any linked relay takes them and any relay answers.

The same behaviour as `relay.requests.MemoryRequests` (both pass
tests/integration/test_relay_requests.py), and the requests survive a relay's restart. Keys, all
under `madoguchi:relay:<office>:rq:` and all with an expiry:

- `pending`: sorted set of request ids by the time they may next be leased;
- `held:<id>`: the request (path, body), expiring with the request — the body never outlives it;
- `known:<id>`: that the id was issued (to tell an expired request from an unknown id);
- `result:<id>`: the queue server's answer, kept `keep_results` seconds;
- `pulled`: when the queue server last pulled; `nonce:<n>`: calls already seen.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from relay.pull_protocol import Answer
from relay.requests import Outcome, RequestLimits, RequestQueue, RequestsFull, new_request_id

# Take up to ARGV[2] ids due by ARGV[1] and push each one's next turn to ARGV[3], atomically, so
# two relays serving pulls never hand out the same request at once.
_LEASE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[3], id) end
return ids
"""


class RedisRequests(RequestQueue):
    errors = (OSError, RedisError)

    def __init__(
        self,
        url: str,
        office_id: str,
        limits: RequestLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self._redis = aioredis.Redis.from_url(url)
        self._p = f"madoguchi:relay:{office_id}:rq:"
        self._lease = self._redis.register_script(_LEASE)

    def _ms(self, seconds: float) -> int:
        return max(1, math.ceil(seconds * 1000))

    async def submit(self, path: str, body: Any) -> str:
        if await self._redis.zcard(self._p + "pending") >= self.limits.capacity:
            raise RequestsFull
        now, rid = self.clock(), new_request_id()
        held = json.dumps({"path": path, "body": body, "expires": now + self.limits.expire_seconds})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._p + f"held:{rid}", held, px=self._ms(self.limits.expire_seconds))
            pipe.set(
                self._p + f"known:{rid}",
                b"1",
                px=self._ms(self.limits.expire_seconds + self.limits.keep_results),
            )
            pipe.zadd(self._p + "pending", {rid: now})
            await pipe.execute()
        return rid

    async def lease_now(self, most: int) -> list[dict[str, Any]]:
        now = self.clock()
        raw = await self._lease(
            keys=[self._p + "pending"], args=[now, most, now + self.limits.lease_seconds]
        )
        ids = [i.decode() if isinstance(i, bytes) else str(i) for i in raw]
        if not ids:
            return []
        helds = await self._redis.mget([self._p + f"held:{rid}" for rid in ids])
        found, gone = [], []
        for rid, held in zip(ids, helds, strict=True):
            request = json.loads(held) if held is not None else None
            if request is None or request["expires"] <= now:
                gone.append(rid)
            else:
                found.append({"id": rid, "path": request["path"], "body": request["body"]})
        if gone:
            await self._redis.zrem(self._p + "pending", *gone)
            await self._redis.delete(*[self._p + f"held:{rid}" for rid in gone])
        return found

    async def answer(self, answer: Answer) -> None:
        result = json.dumps({"status": answer.status, "body": answer.body})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(
                self._p + f"result:{answer.id}",
                result,
                px=self._ms(self.limits.keep_results),
                nx=True,  # a second answer (a retry) changes nothing
            )
            pipe.delete(self._p + f"held:{answer.id}")
            pipe.zrem(self._p + "pending", answer.id)
            await pipe.execute()

    async def outcome(self, request_id: str) -> Outcome:
        result, held, known = await self._redis.mget(
            [
                self._p + f"result:{request_id}",
                self._p + f"held:{request_id}",
                self._p + f"known:{request_id}",
            ]
        )
        if result is not None:
            answer = json.loads(result)
            return Outcome("done", answer["status"], answer["body"])
        if held is not None and json.loads(held)["expires"] > self.clock():
            return Outcome("pending")
        return Outcome("expired") if known is not None else Outcome("unknown")

    async def pending(self) -> int:
        return int(await self._redis.zcard(self._p + "pending"))

    async def mark_pulled(self) -> None:
        await self._redis.set(self._p + "pulled", repr(self.clock()), ex=24 * 3600)

    async def last_pulled(self) -> float | None:
        found = await self._redis.get(self._p + "pulled")
        return float(found) if found is not None else None

    async def first_use(self, nonce: str) -> bool:
        return bool(await self._redis.set(self._p + f"nonce:{nonce}", b"1", nx=True, ex=1200))

    async def close(self) -> None:
        await self._redis.aclose()
