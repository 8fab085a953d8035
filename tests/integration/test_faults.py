"""Faults, with real processes on loopback: a server killed mid-burst, database connections cut,
a Redis link cut, a resident whose phone stops reading, the clock stepped by NTP."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from support.server import (
    RELAY_SECRET,
    app_client,
    bearer,
    prepare,
    relay_process,
    roomy_office,
    server_process,
)
from tests_constants import OPEN_MOMENT, REDIS_URL
from websockets.sync.client import connect

from queue_server.service.ports import FakeClock, SystemClock
from relay.protocol import SIGNATURE_HEADER, TIMESTAMP_HEADER, encode, sign

OFFICE = "shirakawa-shimin"


def _numbers(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT display_number FROM tickets ORDER BY id")).fetchall()
    engine.dispose()
    return [row[0] for row in rows]


def _burst(base: str, token: str, out: list[str], stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=5) as client:
        while not stop.is_set():
            try:
                answer = client.post(
                    "/api/v1/tickets", json={"category_id": "tax"}, headers=bearer(token)
                )
            except httpx.HTTPError:
                return  # the server died under us: what it acknowledged is in `out`
            if answer.status_code == 201:
                out.append(answer.json()["ticket"]["number"])


@pytest.mark.postgres
@pytest.mark.slow
def test_kill_9_mid_burst_keeps_every_acknowledged_ticket_and_the_relay_catches_up(
    pg_url: str,
) -> None:
    engine, tokens = prepare(pg_url, SystemClock(), raw=roomy_office())
    engine.dispose()
    acknowledged: list[str] = []
    with relay_process() as relay:
        push = {"relay_push_url": relay, "relay_push_secret": RELAY_SECRET}
        with server_process(pg_url, event_bus="postgresql", **push) as first:
            stop = threading.Event()
            kiosks = [
                threading.Thread(target=_burst, args=(first, tokens.kiosk, acknowledged, stop))
                for _ in range(4)
            ]
            for kiosk in kiosks:
                kiosk.start()
            time.sleep(1.5)
            first.process.kill()  # SIGKILL: no shutdown, no flush
            first.process.wait(10)
            stop.set()
            for kiosk in kiosks:
                kiosk.join(10)
        assert len(acknowledged) > 20
        with server_process(pg_url, event_bus="postgresql", **push) as second:
            after = httpx.post(
                f"{second}/api/v1/tickets",
                json={"category_id": "tax"},
                headers=bearer(tokens.kiosk),
            ).json()["ticket"]["number"]
            stored = _numbers(pg_url)
            # Every acknowledged ticket is stored, numbers are unique and continue after a restart.
            assert set(acknowledged) <= set(stored)
            assert len(stored) == len(set(stored))
            assert after == f"E-{len(stored):04d}"
            assert stored == [f"E-{i:04d}" for i in range(1, len(stored) + 1)]

            def caught_up() -> bool:
                status = httpx.get(f"{relay}/api/v1/status").json()
                return next(c for c in status["categories"] if c["id"] == "tax")["waiting"] == len(
                    stored
                )

            deadline = time.monotonic() + 20
            while not caught_up():
                assert time.monotonic() < deadline, "the relay did not catch up"
                time.sleep(0.3)


@pytest.mark.postgres
@pytest.mark.slow
def test_cut_database_connections_fail_cleanly_then_recover(pg_url: str) -> None:
    """Every connection of the server to its database is terminated (what a PostgreSQL restart
    does to it, without stopping the shared test database)."""
    engine, tokens = prepare(pg_url, SystemClock(), always_open=True)
    engine.dispose()
    database = pg_url.rsplit("/", 1)[1]
    admin = create_engine(pg_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with server_process(pg_url, event_bus="postgresql") as base, httpx.Client(timeout=10) as client:
        issue = lambda: client.post(  # noqa: E731
            f"{base}/api/v1/tickets", json={"category_id": "koseki"}, headers=bearer(tokens.kiosk)
        )
        assert issue().status_code == 201
        with admin.connect() as connection:
            killed = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :d AND pid <> pg_backend_pid()"
                ),
                {"d": database},
            ).scalar()
        assert killed
        answers = [issue() for _ in range(5)]
        for answer in answers:
            assert answer.status_code in (201, 503), answer.text
            if answer.status_code == 503:
                assert answer.json()["error"]["code"]
        deadline = time.monotonic() + 20
        while issue().status_code != 201:
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.5)
    admin.dispose()
    stored = _numbers(pg_url)
    assert stored == [f"B-{i:03d}" for i in range(1, len(stored) + 1)]  # nothing half-written


@pytest.mark.redis
@pytest.mark.slow
def test_relays_resync_after_their_redis_connections_are_cut(sqlite_url: str) -> None:
    import redis

    link = redis.Redis.from_url(REDIS_URL)
    link.delete(f"madoguchi:relay:{OFFICE}:snapshot", f"madoguchi:relay:{OFFICE}:deltas")
    engine, tokens = prepare(sqlite_url, SystemClock(), always_open=True)
    engine.dispose()
    with relay_process(redis=REDIS_URL) as a, relay_process(redis=REDIS_URL) as b:
        push = {"relay_push_url": a, "relay_push_secret": RELAY_SECRET}
        with server_process(sqlite_url, **push) as server:

            def waiting_on_b() -> int:
                answer = httpx.get(f"{b}/api/v1/status")
                if answer.status_code != 200:
                    return -1
                return next(
                    c["waiting"] for c in answer.json()["categories"] if c["id"] == "moving"
                )

            for _ in range(2):
                httpx.post(
                    f"{server}/api/v1/tickets",
                    json={"category_id": "moving"},
                    headers=bearer(tokens.kiosk),
                )
            deadline = time.monotonic() + 15
            while waiting_on_b() != 2:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            link.execute_command("CLIENT", "KILL", "TYPE", "pubsub")  # what a restart does to them
            for _ in range(3):
                httpx.post(
                    f"{server}/api/v1/tickets",
                    json={"category_id": "moving"},
                    headers=bearer(tokens.kiosk),
                )
            deadline = time.monotonic() + 20
            while waiting_on_b() != 5:
                assert time.monotonic() < deadline, "relay b did not resync after the cut"
                time.sleep(0.3)


def _post(relay: str, body: bytes) -> httpx.Response:
    stamp = f"{time.time():.3f}"
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(RELAY_SECRET.encode(), stamp, body)}
    return httpx.post(f"{relay}/push", content=body, headers=headers, timeout=30)


@pytest.mark.slow
def test_a_phone_that_stops_reading_does_not_delay_the_others() -> None:
    filler = "x" * 80_000
    with relay_process() as relay:
        status = json.dumps({"categories": [], "note": filler})
        assert _post(
            relay, encode(OFFICE, 1, 0, snapshot=True, status=status, status_seq=1)
        ).is_success
        host, port = relay.split("//")[1].split(":")
        # A "phone" that completes the WebSocket handshake and then never reads again.
        stalled = socket.create_connection((host, int(port)))
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.sendall(
            b"GET /ws/public HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        delays: list[float] = []
        with connect(
            f"{relay.replace('http', 'ws')}/ws/public", open_timeout=5, max_size=None
        ) as ws:
            ws.recv(timeout=5)  # snapshot
            for seq in range(2, 202):  # ~16 MB for the stalled phone, far past its cap
                event = json.dumps({"type": "event", "seq": seq, "event": {"pad": filler}})
                sent = time.monotonic()
                assert _post(
                    relay, encode(OFFICE, seq, 0, snapshot=False, events=[event])
                ).is_success
                message = json.loads(ws.recv(timeout=5))
                while message["type"] == "heartbeat":
                    message = json.loads(ws.recv(timeout=5))
                delays.append(time.monotonic() - sent)
                assert message["seq"] == seq
        stalled.close()
        delays.sort()
        assert delays[int(len(delays) * 0.99) - 1] < 0.5  # the reading phone's p99
        assert httpx.get(f"{relay}/healthz").status_code == 200


def test_an_ntp_step_back_and_forward_keeps_numbering_and_the_day_right(
    sqlite_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(OPEN_MOMENT)
    with app_client(sqlite_url, clock, data_dir=tmp_path) as (client, tokens, _):

        def issue() -> dict[str, Any]:
            answer = client.post(
                "/api/v1/tickets", json={"category_id": "mynumber"}, headers=bearer(tokens.kiosk)
            )
            assert answer.status_code == 201, answer.text
            return answer.json()["ticket"]

        assert issue()["number"] == "F-001"
        clock.advance(seconds=30)
        assert issue()["number"] == "F-002"
        clock.set(clock.now() - timedelta(minutes=5))  # stepped back
        assert issue()["number"] == "F-003"  # numbering never reuses or skips
        clock.set(clock.now() + timedelta(days=1))  # stepped a day forward: a new business day
        assert issue()["number"] == "F-001"
        tomorrow = (clock.now().astimezone(OPEN_MOMENT.tzinfo)).date().isoformat()
        assert client.get("/api/v1/office").json()["business_date"] == tomorrow
