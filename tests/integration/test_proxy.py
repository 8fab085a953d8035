"""Two queue-server processes on PostgreSQL behind nginx, pushing to a relay: a kiosk on one
process, a clerk on the other; the board (through nginx) and a resident on the relay each see
every event once, in order."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.server import (
    RELAY_SECRET,
    bearer,
    nginx_proxy,
    prepare,
    relay_process,
    server_process,
)
from websockets.sync.client import connect

from queue_server.service.ports import SystemClock

ROUNDS = 15  # each round: issued on A, called on B, finished on B


def _listen(
    url: str, hello: dict[str, str] | None, want: int, out: list[Any], ready: threading.Event
) -> None:
    with connect(url, open_timeout=10) as ws:
        if hello:
            ws.send(json.dumps(hello))
        first = json.loads(ws.recv(timeout=10))
        out.append(first)
        ready.set()
        while sum(1 for m in out if m["type"] == "event") < want:
            message = json.loads(ws.recv(timeout=30))
            if message["type"] in ("event", "snapshot"):
                out.append(message)


def _check(messages: list[Any], label: str) -> None:
    start = messages[0]["seq"]
    events = [m for m in messages[1:] if m["type"] == "event"]
    assert [m["type"] for m in messages[1:]] == ["event"] * len(events), f"{label}: resynced"
    assert [m["seq"] for m in events] == list(range(start + 1, start + 1 + len(events))), label
    called = [
        m["event"]["ticket"]["number"] for m in events if m["event"]["type"] == "ticket.called"
    ]
    assert called == [f"B-{i:03d}" for i in range(1, ROUNDS + 1)], label


@pytest.mark.postgres
@pytest.mark.slow
def test_two_processes_behind_nginx_and_a_relay_deliver_every_event_once_in_order(
    pg_url: str, tmp_path: Path
) -> None:
    engine, tokens = prepare(pg_url, SystemClock(), always_open=True)
    engine.dispose()
    push = {"relay_push_url": "", "relay_push_secret": RELAY_SECRET}
    with relay_process() as relay:
        push["relay_push_url"] = relay
        with (
            server_process(pg_url, event_bus="postgresql", **push) as a,
            server_process(pg_url, event_bus="postgresql", **push) as b,
            nginx_proxy([a, b], tmp_path / "nginx") as proxy,
        ):
            board: list[Any] = []
            resident: list[Any] = []
            listeners = []
            for url, hello, out in (
                (
                    f"{proxy.replace('http', 'ws')}/ws/board",
                    {"type": "hello", "token": tokens.board},
                    board,
                ),
                (f"{relay.replace('http', 'ws')}/ws/public", None, resident),
            ):
                ready = threading.Event()
                thread = threading.Thread(target=_listen, args=(url, hello, 3 * ROUNDS, out, ready))
                thread.start()
                assert ready.wait(15)
                listeners.append(thread)
            with httpx.Client(timeout=10) as client:
                for _ in range(ROUNDS):
                    issued = client.post(
                        f"{a}/api/v1/tickets",
                        json={"category_id": "koseki"},
                        headers=bearer(tokens.kiosk),
                    )
                    assert issued.status_code == 201
                    called = client.post(
                        f"{b}/api/v1/counters/c3/call-next", headers=bearer(tokens.clerk)
                    )
                    assert called.status_code == 200, called.text
                    ticket = called.json()["ticket"]["id"]
                    assert (
                        client.post(
                            f"{b}/api/v1/tickets/{ticket}/finish", headers=bearer(tokens.clerk)
                        ).status_code
                        == 200
                    )
                # Reads through nginx reach both processes and agree.
                assert client.get(f"{proxy}/api/v1/office").status_code == 200
            for thread in listeners:
                thread.join(40)
                assert not thread.is_alive()
    _check(board, "board through nginx")
    _check(resident, "resident on the relay")
