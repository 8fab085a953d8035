"""WebSocket channels: a snapshot first, then every event in seq order, heartbeats in between.

Protocol (JSON text frames):
- client -> server: `{"type": "hello", "token": "..."}` first on the board, kiosk and clerk
  channels (tokens stay out of URLs and access logs); `{"type": "ping"}`; `{"type": "resync"}`.
- server -> client: `{"type": "snapshot", "seq", "status"}`, then `{"type": "event", "seq",
  "event"}` with seq strictly increasing by one (what changed: a ticket issued, called...),
  `{"type": "status", "seq", "status"}` shortly after events (fresh counts and estimates as of
  that seq; replace the figures), `{"type": "heartbeat", "seq", "at"}` when idle, `{"type":
  "pong"}`, and `{"type": "error", "code", "message"}` before a policy close (4401 at a refused
  hello; 1008 when the token is revoked or expires while the socket is open).
A client that sees a gap, or reconnects, sends `resync` (or reconnects) to get a new snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from queue_server.api.deps import Caller, Container, identify
from queue_server.api.realtime import CLERK, OTHERS, event_messages, state_message
from queue_server.service.jsonable import jsonable

router = APIRouter()
CHANNELS = ("board", "clerk", "kiosk", "public")
_HELLO_TIMEOUT = 10.0
#: Close code when a socket's token is revoked or expires while it is open (RFC 6455).
POLICY_VIOLATION = 1008


def allowed(channel: str, who: Caller | None) -> bool:
    if channel == "public":
        return True
    if who is None:
        return False
    if channel == "clerk":
        return who.staff is not None
    return who.staff is not None or (who.device is not None and who.device.kind == channel)


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    await websocket.send_text(json.dumps(message, ensure_ascii=False, separators=(",", ":")))


async def _receive_text(websocket: WebSocket) -> str | None:
    """The next text frame; None for a binary one (the protocol has none)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    return text if isinstance(text, str) else None


async def _authenticate(websocket: WebSocket, channel: str, c: Container) -> str | None:
    """The token the client said hello with ("" on the public channel); None when refused
    (the socket is closed then)."""
    if channel == "public":
        return ""
    try:
        raw = await asyncio.wait_for(_receive_text(websocket), _HELLO_TIMEOUT)
        hello = json.loads(raw) if raw is not None else None
        token = (
            hello.get("token") if isinstance(hello, dict) and hello.get("type") == "hello" else None
        )
    except (TimeoutError, json.JSONDecodeError):
        token = None
    who = await run_in_threadpool(identify, token, c.accounts) if isinstance(token, str) else None
    if allowed(channel, who):
        assert isinstance(token, str)
        return token
    await _send(
        websocket,
        {
            "type": "error",
            "code": "unauthorized",
            "message": f"send {{'type': 'hello', 'token': ...}} with a token for {channel}",
        },
    )
    await websocket.close(code=4401)
    return None


@router.websocket("/ws/{channel}")
async def stream(websocket: WebSocket, channel: str) -> None:
    c: Container = websocket.app.state.container
    if channel not in CHANNELS:
        await websocket.close(code=4404)
        return
    await websocket.accept()
    token = await _authenticate(websocket, channel, c)
    if token is None:
        return
    subscription = c.hub.subscribe()
    control: asyncio.Queue[str] = asyncio.Queue()
    watched = c.guard.watch(token, lambda: control.put_nowait("revoked")) if token else None

    async def receive() -> None:
        while True:
            raw = await _receive_text(websocket)
            try:
                message = json.loads(raw) if raw is not None else None
            except json.JSONDecodeError:
                continue
            if isinstance(message, dict) and message.get("type") in ("ping", "resync"):
                control.put_nowait(str(message["type"]))

    receiver = asyncio.create_task(receive())
    encoding = CLERK if channel == "clerk" else OTHERS
    try:
        last = await _snapshot(websocket, encoding, c)
        while True:
            if subscription.overflowed:
                subscription.overflowed = False
                subscription.queue = asyncio.Queue(maxsize=subscription.queue.maxsize)
                last = await _snapshot(websocket, encoding, c)
            get_item = asyncio.ensure_future(subscription.queue.get())
            get_control = asyncio.ensure_future(control.get())
            done, _ = await asyncio.wait(
                {get_item, get_control, receiver},
                timeout=c.settings.heartbeat_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            for future in (get_item, get_control):
                if future not in done:
                    future.cancel()
            if receiver in done:
                break  # the client went away
            if get_control in done:
                if get_control.result() == "revoked":
                    await _send(
                        websocket,
                        {
                            "type": "error",
                            "code": "token_revoked",
                            "message": "the token was revoked or has expired; log in again",
                        },
                    )
                    await websocket.close(code=POLICY_VIOLATION)
                    break
                if get_control.result() == "resync":
                    last = await _snapshot(websocket, encoding, c)
                else:
                    await _send(websocket, {"type": "pong", "seq": last})
            if get_item in done:
                kind, seq, message = get_item.result()
                if kind == "status":
                    if seq >= last:  # never figures older than the events already sent
                        await websocket.send_text(message)
                    continue
                if seq <= last:
                    continue
                if seq != last + 1:
                    last = await _snapshot(websocket, encoding, c)
                    continue
                await websocket.send_text(message[encoding])
                last = seq
            if not done:
                await _send(
                    websocket,
                    {
                        "type": "heartbeat",
                        "seq": last,
                        "at": jsonable(datetime.now(UTC), c.service.zone),
                    },
                )
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if watched is not None:
            c.guard.unwatch(watched)
        c.hub.unsubscribe(subscription)
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver


async def _snapshot(websocket: WebSocket, encoding: int, c: Container) -> int:
    """Send the current state, then the events delivered since it was computed; the seq the
    client is at afterwards. Events and statuses queued for it up to that seq are skipped."""
    state = c.hub.state
    missed = c.hub.events_since(state.seq)
    if missed is None:  # too far behind the memory of the hub: read them
        events = await run_in_threadpool(c.stores.events_after, state.seq)
        missed = [(int(e["seq"]), event_messages(e)) for e in events if e["seq"] <= c.hub.last_seq]
    await websocket.send_text(state_message("snapshot", state))
    last = state.seq
    for seq, texts in missed:
        if seq == last + 1:
            await websocket.send_text(texts[encoding])
            last = seq
    return last
