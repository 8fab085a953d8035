"""Several server processes sharing one PostgreSQL: every subscriber sees every event in order."""

from __future__ import annotations

import json
import threading
from pathlib import Path

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


def _issue_many(base: str, token: str, category: str, count: int, out: list[str]) -> None:
    with httpx.Client(base_url=base, timeout=20) as client:
        for _ in range(count):
            answer = client.post(
                "/api/v1/tickets", json={"category_id": category}, headers=bearer(token)
            )
            assert answer.status_code == 201, answer.text
            out.append(answer.json()["ticket"]["number"])


def _worker_pids(base: str) -> set[int]:
    """Worker processes the supervisor spawned for `base` (they inherit its public URL)."""
    marker = f"MADOGUCHI_PUBLIC_BASE_URL={base}\0".encode()
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command and marker in environ:
            found.add(int(proc.name))
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    "database",
    [
        pytest.param("sqlite", marks=pytest.mark.redis),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ],
)
def test_several_workers_on_one_port_number_without_gaps(
    database: str, sqlite_url: str, request: pytest.FixtureRequest
) -> None:
    url = sqlite_url if database == "sqlite" else request.getfixturevalue("pg_url")
    bus = REDIS_URL if database == "sqlite" else "postgresql"
    engine, tokens = prepare(url, SystemClock(), raw=None, always_open=True)
    engine.dispose()
    with server_process(url, event_bus=bus, workers=2) as base:
        numbers: list[str] = []
        kiosks = [
            threading.Thread(target=_issue_many, args=(base, tokens.kiosk, "mynumber", 20, numbers))
            for _ in range(6)
        ]
        for kiosk in kiosks:
            kiosk.start()
        for kiosk in kiosks:
            kiosk.join(60)
        workers = _worker_pids(base)
        # The procedure's daily cap (120) holds across processes too.
        over = httpx.post(
            f"{base}/api/v1/tickets", json={"category_id": "mynumber"}, headers=bearer(tokens.kiosk)
        )
    assert len(numbers) == 120
    assert sorted(numbers) == [f"F-{i:03d}" for i in range(1, 121)]
    assert over.status_code == 409 and over.json()["error"]["code"] == "daily_cap_reached"
    assert len(workers) == 2, "the supervisor should run two worker processes"
