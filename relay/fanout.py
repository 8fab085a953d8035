"""Fan-out to every connected resident without waiting for any one of them.

Each message is framed once and written straight to every WebSocket's socket (no per-client
encoding, coroutine or drain; compression is off); a client whose unsent bytes pass `max_buffer`
is dropped (its page reconnects and gets a fresh snapshot), so one phone that stops reading never
delays the others. Server-Sent Events clients get the same messages through their response.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)  # hashed by identity: one per connection
class Client:
    """One stream listener: how to send it a text and the socket its bytes queue on."""

    send: Callable[[str], Awaitable[None]]
    transport: asyncio.BaseTransport | None
    close: Callable[[], Awaitable[Any]]
    dropped: bool = False
    websocket: bool = False  # takes pre-built frames written straight to its socket


@dataclass
class Fanout:
    """Every connected listener; a broadcast sends to each without waiting for a slow one."""

    max_buffer: int
    clients: set[Client] = field(default_factory=set)
    dropped: int = 0

    def add(self, client: Client) -> None:
        transport = client.transport
        if isinstance(transport, asyncio.WriteTransport):
            # The transport pauses (and a send would wait) only far past our own cap.
            transport.set_write_buffer_limits(high=4 * self.max_buffer)
        self.clients.add(client)

    def discard(self, client: Client) -> None:
        self.clients.discard(client)

    async def broadcast(self, texts: list[str]) -> None:
        for text in texts:
            frame = websocket_text_frame(text.encode())
            for i, client in enumerate(list(self.clients)):
                transport = client.transport
                if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
                    self.clients.discard(client)
                    continue
                if transport.get_write_buffer_size() > self.max_buffer:
                    self._drop(client)
                    continue
                if client.websocket:
                    # One frame built per message, written to each socket without awaiting: no
                    # per-client encoding, coroutine or drain (compression is off).
                    transport.write(frame)
                else:
                    try:
                        await client.send(text)
                    except (ConnectionError, RuntimeError):
                        self.clients.discard(client)
                if i % 1000 == 999:
                    await asyncio.sleep(0)  # let reads in between a big fan-out

    def _drop(self, client: Client) -> None:
        """A client that stopped reading: cut it off; its page reconnects and gets a snapshot."""
        self.clients.discard(client)
        self.dropped += 1
        client.dropped = True
        transport = client.transport
        if isinstance(transport, asyncio.WriteTransport):
            transport.abort()


def websocket_text_frame(payload: bytes) -> bytes:
    """An unmasked, uncompressed, final text frame (RFC 6455 5.2), as a server sends it."""
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload
