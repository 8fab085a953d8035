"""Several server processes sharing one PostgreSQL: every subscriber sees every event in order."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from support.server import bearer, prepare, server_process
from tests_constants import REDIS_URL
from websockets.sync.client import connect

from queue_server.service.ports import SystemClock

CALLS = 40


def _collect(ws_url: str, want: int, out: list[dict], ready: threading.Event) -> None:
    with connect(ws_url, open_timeout=10) as ws:
        snapshot = json.loads(ws.recv(timeout=10))
        out.append(snapshot)
        ready.set()
        while sum(1 for m in out if m["type"] == "event") < want:
            message = json.loads(ws.recv(timeout=20))
            if message["type"] != "heartbeat":
                out.append(message)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("bus", ["postgresql", pytest.param(REDIS_URL, marks=pytest.mark.redis)])
def test_subscriber_on_one_process_sees_every_call_made_on_another(pg_url: str, bus: str) -> None:
    engine, tokens = prepare(pg_url, SystemClock(), raw=None, always_open=True)
    engine.dispose()
    # No catch-up polling and no clock tick: only the bus can bring the other process's events.
    quiet = {"catch_up_seconds": "3600", "state_tick_seconds": "3600"}
    with (
        server_process(pg_url, event_bus=bus, **quiet) as a,
        server_process(pg_url, event_bus=bus, **quiet) as b,
    ):
        messages: list[dict] = []
        ready = threading.Event()
        # Each round is three events: issued, called, finished.
        listener = threading.Thread(
            target=_collect,
            args=(a.replace("http", "ws") + "/ws/public", 3 * CALLS, messages, ready),
        )
        listener.start()
        assert ready.wait(10)
        with httpx.Client(base_url=b, timeout=10) as client:
            for _ in range(CALLS):
                assert (
                    client.post(
                        "/api/v1/tickets",
                        json={"category_id": "mynumber"},
                        headers=bearer(tokens.kiosk),
                    ).status_code
                    == 201
                )
                called = client.post("/api/v1/counters/c8/call-next", headers=bearer(tokens.clerk))
                number = called.json()["ticket"]["id"]
                assert (
                    client.post(
                        f"/api/v1/tickets/{number}/finish", headers=bearer(tokens.clerk)
                    ).status_code
                    == 200
                )
        listener.join(30)
    assert not listener.is_alive()
    snapshot, events = messages[0], [m for m in messages[1:] if m["type"] == "event"]
    seqs = [m["seq"] for m in events]
    # Contiguous, strictly increasing, starting right after the snapshot.
    assert seqs == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(seqs)))
    called = [
        m["event"]["ticket"]["number"] for m in events if m["event"]["type"] == "ticket.called"
    ]
    assert called == [f"F-{i:03d}" for i in range(1, CALLS + 1)]
