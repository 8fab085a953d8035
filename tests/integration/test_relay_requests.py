"""The relay's request queue: one contract, kept by the in-memory queue and by the Redis one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tests_constants import REDIS_URL

from relay.pull_protocol import Answer
from relay.requests import MemoryRequests, RequestLimits, RequestQueue, RequestsFull


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make(kind: str, clock: Clock, **limits: Any) -> RequestQueue:
    settings = RequestLimits(**{"lease_seconds": 10.0, "expire_seconds": 60.0, **limits})
    if kind == "memory":
        return MemoryRequests(settings, clock)
    from relay.redis_requests import RedisRequests

    return RedisRequests(REDIS_URL, f"contract-{uuid.uuid4().hex}", settings, clock)


Scenario = Callable[[RequestQueue, Clock], Coroutine[Any, Any, None]]


def run(kind: str, scenario: Scenario, **limits: Any) -> None:
    async def main() -> None:
        clock = Clock()
        queue = make(kind, clock, **limits)
        try:
            await scenario(queue, clock)
        finally:
            await queue.close()

    # In a thread of its own: the browser tests' Playwright (sync API) keeps an event loop
    # running in the main thread for the whole session, where asyncio.run() is refused.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, main()).result()
    if kind == "redis":  # what the scenario's made-up office left behind
        import redis

        link = redis.Redis.from_url(REDIS_URL)
        for key in link.scan_iter("madoguchi:relay:contract-*"):
            link.delete(key)


KINDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.mark.parametrize("kind", KINDS)
def test_a_leased_request_is_offered_again_only_after_its_lease(kind: str) -> None:
    async def scenario(queue: RequestQueue, clock: Clock) -> None:
        rid = await queue.submit("/api/v1/reservations", {"start": "10:00"})
        assert await queue.lease_now(10) == [
            {"id": rid, "path": "/api/v1/reservations", "body": {"start": "10:00"}}
        ]
        assert await queue.lease_now(10) == []
        clock.now += 11  # the pull's reply was lost: offered again
        assert [r["id"] for r in await queue.lease_now(10)] == [rid]
        assert (await queue.outcome(rid)).state == "pending"

    run(kind, scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_the_first_answer_counts_and_the_request_is_gone(kind: str) -> None:
    async def scenario(queue: RequestQueue, clock: Clock) -> None:
        rid = await queue.submit("/api/v1/reservations", {"email": "x@example.jp"})
        await queue.lease_now(10)
        await queue.answer(Answer(rid, 201, {"reservation": {"short_code": "K7MQ-4RXA"}}))
        await queue.answer(Answer(rid, 409, {"error": {"code": "slot_full"}}))  # a retry
        outcome = await queue.outcome(rid)
        assert (outcome.state, outcome.status) == ("done", 201)
        clock.now += 100
        assert await queue.lease_now(10) == []
        assert await queue.pending() == 0

    run(kind, scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_an_unanswered_request_expires_and_is_no_longer_offered(kind: str) -> None:
    async def scenario(queue: RequestQueue, clock: Clock) -> None:
        rid = await queue.submit("/api/v1/notify/subscribe", {"address": "x@example.jp"})
        clock.now += 61
        assert await queue.lease_now(10) == []
        assert (await queue.outcome(rid)).state == "expired"
        assert (await queue.outcome("never-issued-0123456789")).state == "unknown"

    run(kind, scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_the_queue_is_bounded(kind: str) -> None:
    async def scenario(queue: RequestQueue, clock: Clock) -> None:
        await queue.submit("/api/v1/reservations", {})
        await queue.submit("/api/v1/reservations", {})
        with pytest.raises(RequestsFull):
            await queue.submit("/api/v1/reservations", {})

    run(kind, scenario, capacity=2)


@pytest.mark.parametrize("kind", KINDS)
def test_a_nonce_is_accepted_once_and_pulls_are_remembered(kind: str) -> None:
    async def scenario(queue: RequestQueue, clock: Clock) -> None:
        assert await queue.last_pulled() is None
        await queue.mark_pulled()
        assert await queue.last_pulled() == clock.now
        assert await queue.first_use("nonce-0123456789abcdef")
        assert not await queue.first_use("nonce-0123456789abcdef")

    run(kind, scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_request_ids_are_random(kind: str) -> None:
    async def scenario(queue: RequestQueue, clock: Clock) -> None:
        ids = {await queue.submit("/api/v1/reservations", {}) for _ in range(50)}
        assert len(ids) == 50 and all(len(i) >= 22 for i in ids)

    run(kind, scenario, capacity=100)
