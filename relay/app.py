"""The relay's web server (aiohttp): residents' pages, public JSON, `/ws/public` and SSE.

Built for fan-out to thousands of phones on one process (docs/relay.md, measured in
bench/bench_relay.py): every message is encoded once per push, a broadcast never waits for one
client (a client whose send buffer passes `max_buffer` is dropped and resynchronises when it
reconnects), per-message compression is off, and `gc.freeze()` runs once the app is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

import visitor_text
from relay import bookings, notices
from relay.fanout import Client, Fanout
from relay.protocol import (
    MAX_PUSH_BYTES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    PushRefused,
    parse,
    verify,
)
from relay.requests import MemoryRequests, RequestLimits, RequestQueue
from relay.state import Body, RelayState

logger = logging.getLogger(__name__)
WEB = Path(str(files("display_board") / "web"))
ASSETS = WEB / "assets"
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
_PAGES = {"/": "index.html", "/opendata/": "opendata.html", "/reserve": "reserve.html"}


@dataclass
class RelaySettings:
    """How one relay runs; secrets come from the environment or a file, never the command line."""

    office_id: str
    secrets: tuple[bytes, ...]
    redis_url: str | None = None
    max_buffer: int = 256 * 1024  # bytes queued for one client before it is dropped
    heartbeat_seconds: float = 15.0
    offline_after_seconds: float = 90.0  # no push for this long: pages show the offline state
    status_max_age: int = 2  # Cache-Control for the live JSON (a CDN may hold it this long)
    document_max_age: int = 60
    # Residents' requests for the queue server to pull (relay/bookings.py, docs/relay.md).
    requests: RequestLimits = field(default_factory=RequestLimits)
    answer_wait_seconds: float = 3.0  # then 202 and the page polls
    pull_stale_seconds: float = 45.0  # no pull for this long: bookings are unavailable
    bookings_per_minute: int = 20  # POSTs per client address
    trust_forwarded: bool = False  # take the address from our proxy's X-Forwarded-For


def _iso(at: float | None) -> str | None:
    return datetime.fromtimestamp(at, UTC).isoformat() if at is not None else None


class Relay:
    """The relay's state, fan-out and optional Redis link, shared by the request handlers."""

    def __init__(self, settings: RelaySettings) -> None:
        self.settings = settings
        self.state = RelayState(settings.office_id)
        self.fanout = Fanout(settings.max_buffer)
        self.link: Any = None  # relay.redis_link.RedisLink when --redis is given
        self.requests: RequestQueue = MemoryRequests(settings.requests)
        self.limiter = bookings.AddressLimit(settings.bookings_per_minute)
        self.availability_cache: tuple[str, Any] = ("", None)

    async def bookings_open(self) -> bool:
        """Whether the queue server has pulled lately (on any linked relay)."""
        try:
            pulled = await self.requests.last_pulled()
        except self.requests.errors:  # Redis away: bookings wait until it is back
            return False
        return pulled is not None and time.time() - pulled <= self.settings.pull_stale_seconds

    def online(self) -> bool:
        age = self.state.age()
        return age is not None and age <= self.settings.offline_after_seconds

    def freshness(self) -> dict[str, Any]:
        return {"updated_at": _iso(self.state.updated_at), "online": self.online()}

    async def apply(self, body: bytes, *, share: bool) -> list[str]:
        """Apply a verified push body, stream what it changes, and (when it came from the queue
        server rather than from another relay) share it with the other relays."""
        push = parse(body)
        messages = self.state.apply(push)
        if messages:
            await self.fanout.broadcast(messages)
        if share and self.link is not None:
            await self.link.share(body, snapshot=push.snapshot)
        return messages

    def heartbeat(self) -> str:
        return json.dumps(
            {
                "type": "heartbeat",
                "seq": self.state.seq,
                "at": datetime.now(UTC).isoformat(),
                **self.freshness(),
            },
            separators=(",", ":"),
        )


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}},
        status=status,
        headers={"Cache-Control": "no-store"},
    )


def _cached(request: web.Request, body: Body, max_age: int) -> web.Response:
    headers = {
        "ETag": body.etag,
        "Cache-Control": f"public, max-age={max_age}",
        "X-Content-Type-Options": "nosniff",
    }
    if body.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body.data, content_type="application/json", headers=headers)


def _relay(request: web.Request) -> Relay:
    relay: Relay = request.app["relay"]
    return relay


async def push(request: web.Request) -> web.Response:
    """`POST /push`: the queue server's signed push (see relay/protocol.py)."""
    relay = _relay(request)
    body = await request.read()
    try:
        verify(
            relay.settings.secrets,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
            time.time(),
        )
        await relay.apply(body, share=True)
    except PushRefused as refused:
        if refused.status != 409:
            logger.warning("relay: push refused (%s)", refused.code)
        return _error(refused.status, refused.code, refused.message)
    return web.json_response({"seq": relay.state.seq}, headers={"Cache-Control": "no-store"})


async def status(request: web.Request) -> web.Response:
    relay = _relay(request)
    if relay.state.status is None:
        return _error(503, "not_ready", "the relay has no figures yet")
    return _cached(request, relay.state.status, relay.settings.status_max_age)


async def ticket(request: web.Request) -> web.Response:
    relay = _relay(request)
    found = relay.state.tickets.get(request.match_info["public_id"])
    if found is None:
        return _error(404, "not_found", "no such ticket today")
    return _cached(request, found, relay.settings.status_max_age)


async def document(request: web.Request) -> web.Response:
    relay = _relay(request)
    found = relay.state.documents.get(request.path)
    if found is None:
        return _error(503, "not_ready", "the relay has not received this yet")
    return _cached(request, found, relay.settings.document_max_age)


async def health(request: web.Request) -> web.Response:
    """For the load balancer and monitoring: ready once figures arrived, and their age; whether
    bookings and notice requests are taken (the queue server pulled within `pull_stale`)."""
    relay = _relay(request)
    age = relay.state.age()
    answer = {
        "ready": relay.state.ready,
        "online": relay.online(),
        "seq": relay.state.seq,
        "age_seconds": round(age, 1) if age is not None else None,
        "bookings_open": await relay.bookings_open(),
    }
    return web.json_response(answer, status=200 if relay.state.ready else 503)


async def page(request: web.Request) -> web.Response:
    name = _PAGES.get(request.path, "ticket.html")
    return web.Response(
        text=(WEB / name).read_text(encoding="utf-8"),
        content_type="text/html",
        headers=_PAGE_HEADERS,
    )


async def asset(request: web.Request) -> web.StreamResponse:
    path = request.match_info["path"]
    target = (ASSETS / path).resolve()
    if "\0" in path or not target.is_relative_to(ASSETS.resolve()) or not target.is_file():
        return _error(404, "not_found", "no such asset")
    response = web.FileResponse(target, headers=_PAGE_HEADERS)
    if target.suffix in _TYPES:
        response.content_type = _TYPES[target.suffix]
    return response


async def texts(request: web.Request) -> web.Response:
    lang = request.match_info["lang"]
    if lang not in visitor_text.LANGUAGES:
        return _error(404, "not_found", "no such language")
    return web.json_response(visitor_text.catalog(lang), headers=_PAGE_HEADERS)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """`/ws/public`: a snapshot, then events and statuses as pushed, heartbeats when idle."""
    relay = _relay(request)
    ws = web.WebSocketResponse(compress=False, heartbeat=None, max_msg_size=4096)
    await ws.prepare(request)

    async def send(text: str) -> None:
        await ws.send_str(text)

    client = Client(send, request.transport, ws.close, websocket=True)
    if relay.state.ready:
        await ws.send_str(relay.state.state_message())
        await ws.send_str(relay.heartbeat())  # how fresh the figures are, from the start
    relay.fanout.add(client)
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            with contextlib.suppress(ValueError, AttributeError):
                kind = json.loads(message.data).get("type")
                if kind == "ping":
                    await ws.send_str('{"type":"pong"}')
                elif kind == "resync" and relay.state.ready:
                    await ws.send_str(relay.state.state_message())
    finally:
        relay.fanout.discard(client)
    return ws


async def events(request: web.Request) -> web.StreamResponse:
    """`/events`: the same stream as Server-Sent Events, for networks that strip WebSockets."""
    relay = _relay(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: pass each event at once
        }
    )
    await response.prepare(request)

    async def send(text: str) -> None:
        await response.write(f"data: {text}\n\n".encode())

    closed = asyncio.Event()

    async def close() -> None:
        closed.set()

    client = Client(send, request.transport, close)
    if relay.state.ready:
        await send(relay.state.state_message())
        await send(relay.heartbeat())
    relay.fanout.add(client)
    transport = request.transport
    try:
        # Messages and heartbeats come from the fan-out; this only notices the end.
        while not (
            closed.is_set() or client.dropped or transport is None or transport.is_closing()
        ):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closed.wait(), 5.0)
    finally:
        relay.fanout.discard(client)
    return response


async def _heartbeats(relay: Relay) -> None:
    while True:
        await asyncio.sleep(relay.settings.heartbeat_seconds)
        await relay.fanout.broadcast([relay.heartbeat()])


def create_relay_app(settings: RelaySettings) -> web.Application:
    """The relay application; `--redis` links it to the other relays of the office."""
    if not settings.secrets:
        raise ValueError("the relay needs at least one push secret")
    app = web.Application(client_max_size=MAX_PUSH_BYTES)
    relay = Relay(settings)
    app["relay"] = relay
    app.router.add_post("/push", push)
    app.router.add_get("/api/v1/status", status)
    app.router.add_get("/api/v1/tickets/by-public-id/{public_id}", ticket)
    for path in (
        "/api/v1/office",
        "/api/v1/pages/config",
        "/api/v1/congestion/typical",
        "/opendata/hourly.json",
        "/opendata/schema.json",
        "/api/v1/notify/channels",
    ):
        app.router.add_get(path, document)
    bookings.add_routes(app)
    notices.add_routes(app, ASSETS)
    app.router.add_get("/healthz", health)
    app.router.add_get("/", page)
    app.router.add_get("/opendata/", page)
    app.router.add_get("/reserve", page)
    app.router.add_get("/t/{public_id}", page)
    app.router.add_get("/assets/texts/{lang}.json", texts)
    app.router.add_get("/assets/{path:.*}", asset)
    app.router.add_get("/ws/public", websocket)
    app.router.add_get("/events", events)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(_heartbeats(relay))]
        if settings.redis_url:
            from relay.redis_link import RedisLink
            from relay.redis_requests import RedisRequests

            relay.link = RedisLink(settings.redis_url, settings.office_id, relay)
            await relay.link.start()
            relay.requests = RedisRequests(
                settings.redis_url, settings.office_id, settings.requests
            )
        gc.collect()
        gc.freeze()  # long-lived objects out of the collector's full passes (fan-out p99)
        yield
        for task in tasks:
            task.cancel()
        if relay.link is not None:
            await relay.link.stop()
        await relay.requests.close()
        for client in list(relay.fanout.clients):
            with contextlib.suppress(Exception):
                await client.close()

    async def end_long_polls(app: web.Application) -> None:
        # Runs before aiohttp waits for open handlers: a queue server's pull would otherwise
        # hold the stop for its whole long poll.
        relay.requests.closing = True

    app.on_shutdown.append(end_long_polls)
    app.cleanup_ctx.append(lifecycle)
    return app
