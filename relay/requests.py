"""Residents' requests waiting on the relay for the queue server to pull them (pull_protocol.py).

A request (a booking, a cancellation, a notice subscription...) is queued with a random id and
waits until the queue server leases it with `/pull`. A leased request comes back to the queue
after `lease_seconds` unless answered, so a pull whose reply was lost costs a delay, not the
request; the queue server answers each id once (it keeps the answer), so a request leased twice
is still processed once. A request no one leased or answered within `expire_seconds` expires:
the resident is told that bookings are unavailable. The request body (which may hold an e-mail
address or a push endpoint) is deleted as soon as its answer arrives, or when it expires; the
answer is kept `keep_results` seconds for the resident's page to fetch.

`MemoryRequests` keeps everything in this process (lost when the relay restarts);
`relay.redis_requests.RedisRequests` keeps it in Redis, shared by every linked relay.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from relay.pull_protocol import Answer


class RequestsFull(Exception):
    """The queue holds `capacity` requests: the resident is asked to try again later."""


@dataclass(frozen=True)
class Outcome:
    """Where a request stands: `done` (with the queue server's answer), `pending`, `expired`
    (not answered in time) or `unknown` (no such id, or forgotten)."""

    state: Literal["done", "pending", "expired", "unknown"]
    status: int = 0
    body: Any = None


@dataclass
class RequestLimits:
    capacity: int = 1000
    lease_seconds: float = 15.0
    expire_seconds: float = 60.0
    keep_results: float = 600.0


def new_request_id() -> str:
    """A random, unguessable id: whoever holds it can read the answer."""
    return secrets.token_urlsafe(18)


class RequestQueue:
    """What both kinds of queue share: waiting for a lease or an answer by polling."""

    limits: RequestLimits
    clock: Callable[[], float]
    poll_seconds = 0.1
    #: What the storage raises when it is away (answered 503, never a trace).
    errors: tuple[type[Exception], ...] = (OSError,)
    #: Set when the relay stops: open long polls end at once instead of holding the shutdown.
    closing = False

    async def submit(self, path: str, body: Any) -> str:
        raise NotImplementedError

    async def lease_now(self, most: int) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def answer(self, answer: Answer) -> None:
        raise NotImplementedError

    async def outcome(self, request_id: str) -> Outcome:
        raise NotImplementedError

    async def pending(self) -> int:
        raise NotImplementedError

    async def mark_pulled(self) -> None:
        """Record that the queue server has just pulled (seen by every linked relay)."""
        raise NotImplementedError

    async def last_pulled(self) -> float | None:
        raise NotImplementedError

    async def first_use(self, nonce: str) -> bool:
        """True the first time a call's nonce is seen (replayed calls are refused)."""
        raise NotImplementedError

    async def close(self) -> None:
        return None

    async def lease(
        self, most: int, wait: float, gone: Callable[[], bool] = lambda: False
    ) -> list[dict[str, Any]]:
        """Requests to process (up to `most`), waiting up to `wait` s for one (a long poll);
        nothing once `gone()` says the caller has left."""
        deadline = time.monotonic() + wait
        while True:
            if gone() or self.closing:
                return []
            found = await self.lease_now(most)
            if found or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(self.poll_seconds)

    async def wait_outcome(self, request_id: str, wait: float) -> Outcome:
        """The request's outcome once it is no longer pending, or `pending` after `wait` s."""
        deadline = time.monotonic() + wait
        while True:
            found = await self.outcome(request_id)
            if found.state != "pending" or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(self.poll_seconds / 2)


@dataclass
class _Held:
    path: str
    body: Any
    expires: float
    available_at: float


class MemoryRequests(RequestQueue):
    """The queue in this process's memory: one relay, lost on restart (docs/relay.md)."""

    def __init__(self, limits: RequestLimits, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self.clock = clock
        self._held: dict[str, _Held] = {}
        self._results: dict[str, tuple[float, Answer]] = {}  # id -> (kept until, answer)
        self._expired: dict[str, float] = {}  # id -> forgotten at
        self._nonces: dict[str, float] = {}
        self._pulled: float | None = None

    def _sweep(self, now: float) -> None:
        for rid in [r for r, held in self._held.items() if held.expires <= now]:
            del self._held[rid]  # the body goes with it
            self._expired[rid] = now + self.limits.keep_results
        for table in (self._expired, self._nonces):
            for key in [k for k, until in table.items() if until <= now]:
                del table[key]
        for rid in [r for r, (until, _) in self._results.items() if until <= now]:
            del self._results[rid]

    async def submit(self, path: str, body: Any) -> str:
        now = self.clock()
        self._sweep(now)
        if len(self._held) >= self.limits.capacity:
            raise RequestsFull
        rid = new_request_id()
        self._held[rid] = _Held(path, body, now + self.limits.expire_seconds, now)
        return rid

    async def lease_now(self, most: int) -> list[dict[str, Any]]:
        now = self.clock()
        self._sweep(now)
        found = []
        for rid, held in self._held.items():
            if held.available_at <= now:
                held.available_at = now + self.limits.lease_seconds
                found.append({"id": rid, "path": held.path, "body": held.body})
                if len(found) >= most:
                    break
        return found

    async def answer(self, answer: Answer) -> None:
        now = self.clock()
        self._held.pop(answer.id, None)
        self._expired.pop(answer.id, None)
        if answer.id not in self._results:
            self._results[answer.id] = (now + self.limits.keep_results, answer)

    async def outcome(self, request_id: str) -> Outcome:
        self._sweep(self.clock())
        if request_id in self._results:
            answer = self._results[request_id][1]
            return Outcome("done", answer.status, answer.body)
        if request_id in self._held:
            return Outcome("pending")
        if request_id in self._expired:
            return Outcome("expired")
        return Outcome("unknown")

    async def pending(self) -> int:
        self._sweep(self.clock())
        return len(self._held)

    async def mark_pulled(self) -> None:
        self._pulled = self.clock()

    async def last_pulled(self) -> float | None:
        return self._pulled

    async def first_use(self, nonce: str) -> bool:
        now = self.clock()
        self._sweep(now)
        if nonce in self._nonces:
            return False
        self._nonces[nonce] = now + 4 * 300.0  # well past the signature's timestamp window
        return True
