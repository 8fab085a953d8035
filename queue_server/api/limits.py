"""Request body limits: one for every request, a smaller one for device reports (413).

The body is read here, up to the limit, before any route sees it: a route cannot forget the
check, and a client that streams without `Content-Length` is cut off at the limit too.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Device reports: a health report or a print outcome is a few hundred bytes.
REPORT_PATHS = (
    re.compile(r"^/api/v1/devices/me/health$"),
    re.compile(r"^/api/v1/tickets/[^/]+/print-outcome$"),
)


class BodyLimit:
    """ASGI middleware: 413 with the error envelope for a body over the path's limit."""

    def __init__(
        self,
        app: ASGIApp,
        default: int,
        small: int,
        small_paths: Sequence[re.Pattern[str]] = REPORT_PATHS,
    ) -> None:
        self._app = app
        self._default = default
        self._small = small
        self._small_paths = small_paths

    def _limit(self, path: str) -> int:
        if any(p.match(path) for p in self._small_paths):
            return self._small
        return self._default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    await _too_large(send, limit)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self._app(scope, _replay([message], receive), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self._app(scope, _replay([whole], receive), send)


def _replay(first: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        if first:
            return first.pop(0)
        return await receive()

    return replayed


async def _too_large(send: Send, limit: int) -> None:
    message = f"the request body is larger than {limit} bytes"
    await _refuse(send, 413, "too_large", message, "送信されたデータが大きすぎます。")


async def _refuse(
    send: Send,
    status: int,
    code: str,
    message: str,
    message_ja: str,
    headers: Sequence[tuple[bytes, bytes]] = ((b"connection", b"close"),),
    **extra: int,
) -> None:
    """Answer with the error envelope before any route runs (413 and 429)."""
    error = {"code": code, "message": message, "message_ja": message_ja, **extra}
    body = json.dumps({"error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


#: Residents' writes by path (POST), each with its own budget.
_WRITES = {
    "/api/v1/preapplications": "preapplication",
    "/api/v1/reservations": "reservation",
    "/api/v1/reservations/change": "reservation",
    "/api/v1/reservations/cancel": "reservation",
    "/api/v1/reservations/lookup": "reservation_lookup",
    "/api/v1/notify/subscribe": "notice",
    "/api/v1/notify/unsubscribe": "notice",
}


class ClientRateLimit:
    """ASGI middleware: residents' requests per client address, in fixed windows (429).

    Budgets, generous because a city's residents may share one address (NAT, a mobile
    carrier): pre-applications (each stores personal data for days), bookings with their
    changes and cancellations (each holds a place), look-ups of a booking code (guessing),
    notice subscriptions and unsubscriptions (each may store an address and sends messages),
    and anonymous reads of the public API. Requests with a bearer token (staff, kiosks, boards)
    are not counted here. Counts are per server process; behind a reverse proxy, run uvicorn
    with `--proxy-headers` so the address is the resident's, not the proxy's.
    """

    def __init__(
        self,
        app: ASGIApp,
        preapplications_per_hour: int,
        public_reads_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        reservations_per_hour: int = 60,
        reservation_lookups_per_hour: int = 300,
        notices_per_hour: int = 120,
    ) -> None:
        self._app = app
        self._budgets = {
            "preapplication": (preapplications_per_hour, 3600.0),
            "reservation": (reservations_per_hour, 3600.0),
            "reservation_lookup": (reservation_lookups_per_hour, 3600.0),
            "notice": (notices_per_hour, 3600.0),
            "public_read": (public_reads_per_minute, 60.0),
        }
        self._clock = clock
        self._counts: dict[tuple[str, str], tuple[float, int]] = {}

    def _budget(self, scope: Scope) -> str | None:
        if any(name == b"authorization" for name, _ in scope["headers"]):
            return None
        path, method = scope["path"], scope["method"]
        if method == "POST" and path in _WRITES:
            return _WRITES[path]
        if path.startswith("/notify/unsubscribe/"):  # the link in the messages (GET or POST)
            return "notice"
        if method in ("GET", "HEAD") and path.startswith("/api/v1/"):
            return "public_read"
        return None

    def take(self, budget: str, address: str) -> float:
        """Count one request; 0 when allowed, else the seconds until the window ends."""
        limit, window = self._budgets[budget]
        now = self._clock()
        start, used = self._counts.get((budget, address), (now, 0))
        if now - start >= window:
            start, used = now, 0
        if used >= limit:
            return window - (now - start)
        if len(self._counts) > 100_000:  # forget ended windows rather than grow without end
            self._counts = {k: v for k, v in self._counts.items() if now - v[0] < 3600.0}
        self._counts[(budget, address)] = (start, used + 1)
        return 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        budget = self._budget(scope) if scope["type"] == "http" else None
        if budget is not None:
            client = scope.get("client")
            wait = self.take(budget, client[0] if client else "unknown")
            if wait > 0:
                await _too_many(send, math.ceil(wait))
                return
        await self._app(scope, receive, send)


async def _too_many(send: Send, seconds: int) -> None:
    # The code is what pages translate (visitor catalogue `common.rate_limited`).
    await _refuse(
        send,
        429,
        "rate_limited",
        f"too many requests from this address; try again in {seconds} s",
        "アクセスが集中しています。しばらくしてからもう一度お試しください。",
        headers=((b"retry-after", str(seconds).encode()),),
        retry_after=seconds,
    )
