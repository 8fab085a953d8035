"""The internet-facing relay, as real processes: the queue server pushes, residents read the relay.

The relay holds no database; everything it serves must have come through signed pushes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.server import RELAY_SECRET, bearer, free_port, prepare, relay_process, server_process
from support.waiting import eventually
from tests_constants import REDIS_URL
from websockets.sync.client import connect

from queue_server.domain.forms import prefill_from_card
from queue_server.service.ports import SystemClock
from relay.protocol import SIGNATURE_HEADER, TIMESTAMP_HEADER, encode, sign

OFFICE = "shirakawa-shimin"


def waiting(status: dict[str, Any]) -> dict[str, int]:
    return {c["id"]: c["waiting"] for c in status["categories"]}


def pushing_to(relay: str) -> dict[str, str]:
    return {"relay_push_url": relay, "relay_push_secret": RELAY_SECRET}


@pytest.fixture
def office(sqlite_url: str) -> tuple[str, Any]:
    engine, tokens = prepare(sqlite_url, SystemClock(), always_open=True)
    engine.dispose()
    return sqlite_url, tokens


@pytest.mark.slow
def test_the_relay_serves_what_the_queue_server_pushed(office: tuple[str, Any]) -> None:
    url, tokens = office
    with relay_process() as relay, server_process(url, **pushing_to(relay)) as server:
        issued = [
            httpx.post(
                f"{server}/api/v1/tickets",
                json={"category_id": "certificates"},
                headers=bearer(tokens.kiosk),
            ).json()["ticket"]
            for _ in range(3)
        ]
        eventually(lambda: waiting(httpx.get(f"{relay}/api/v1/status").json())["certificates"] == 3)
        # The same figures as the queue server's own, for the same state.
        ours = httpx.get(f"{server}/api/v1/status").json()
        theirs = httpx.get(f"{relay}/api/v1/status").json()
        assert theirs == ours
        # The slip's page on the relay: number, people ahead and estimate, nothing else.
        third = httpx.get(f"{relay}/api/v1/tickets/by-public-id/{issued[2]['public_id']}")
        assert third.status_code == 200 and third.headers["cache-control"].startswith("public")
        assert third.json()["ticket"]["number"] == "A-003" and third.json()["ticket"]["ahead"] == 2
        # Documents, pages and the ETag/304 a CDN relies on.
        assert httpx.get(f"{relay}/api/v1/office").json()["id"] == OFFICE
        assert "<html" in httpx.get(f"{relay}/").text.lower()
        etag = httpx.get(f"{relay}/api/v1/status").headers["etag"]
        assert (
            httpx.get(f"{relay}/api/v1/status", headers={"If-None-Match": etag}).status_code == 304
        )
        assert httpx.get(f"{relay}/api/v1/tickets/by-public-id/nope").status_code == 404

        # Live: a call on the queue server reaches a resident's WebSocket on the relay.
        with connect(f"{relay.replace('http', 'ws')}/ws/public", open_timeout=5) as ws:
            snapshot = json.loads(ws.recv(timeout=5))
            assert snapshot["type"] == "snapshot"
            called = httpx.post(
                f"{server}/api/v1/counters/c1/call-next", headers=bearer(tokens.clerk)
            )
            assert called.status_code == 200
            seen: list[dict[str, Any]] = []
            while not any(m.get("type") == "status" for m in seen):
                seen.append(json.loads(ws.recv(timeout=10)))
        kinds = [
            (m["type"], m.get("event", {}).get("type")) for m in seen if m["type"] != "heartbeat"
        ]
        assert ("event", "ticket.called") in kinds
        event_seqs = [m["seq"] for m in seen if m["type"] == "event"]
        status_seq = next(m["seq"] for m in seen if m["type"] == "status")
        assert status_seq <= max(event_seqs)  # never figures ahead of the events
        first = eventually(
            lambda: (
                httpx.get(f"{relay}/api/v1/tickets/by-public-id/{issued[0]['public_id']}").json()[
                    "ticket"
                ]["state"]
                == "called"
            )
        )
        assert first


@pytest.mark.slow
def test_server_sent_events_and_no_personal_data_on_the_relay(office: tuple[str, Any]) -> None:
    url, tokens = office
    canary = {
        "name": "試験　カナリア",
        "address": "白川市カナリア町９－９－９",
        "birth": "19870707",
    }
    fields = {
        **prefill_from_card("juminhyo", {**canary, "sex": "1"}),
        "relation": "self",
        "scope": "household",
        "copies": 1,
        "purpose": "bank",
    }
    with relay_process() as relay, server_process(url, **pushing_to(relay)) as server:
        with httpx.stream("GET", f"{relay}/events", timeout=15) as stream:
            lines = stream.iter_lines()
            answer = httpx.post(
                f"{server}/api/v1/tickets",
                json={
                    "category_id": "certificates",
                    "request": {"form": "juminhyo", "fields": fields},
                },
                headers=bearer(tokens.kiosk),
            )
            assert answer.status_code == 201, answer.text
            received = []
            for line in lines:
                if line.startswith("data: "):
                    received.append(json.loads(line[len("data: ") :]))
                    if received[-1].get("type") == "event":
                        break
        assert received[-1]["event"]["type"] == "ticket.issued"
        public_id = answer.json()["ticket"]["public_id"]
        eventually(
            lambda: httpx.get(f"{relay}/api/v1/tickets/by-public-id/{public_id}").status_code == 200
        )
        served = [
            httpx.get(f"{relay}{path}").text
            for path in (
                "/api/v1/status",
                f"/api/v1/tickets/by-public-id/{public_id}",
                "/api/v1/office",
                "/api/v1/congestion/typical",
                "/opendata/hourly.json",
            )
        ]
        log = (
            Path(os.environ.get("TMPDIR", "/tmp"))
            / f"madoguchi-relay-{relay.rsplit(':', 1)[1]}.log"
        )
        everything = "\n".join([*served, json.dumps(received, ensure_ascii=False), log.read_text()])
    for value in (*canary.values(), "カナリア", "1987-07-07"):
        assert value not in everything


@pytest.mark.slow
def test_forged_replayed_and_foreign_pushes_are_refused() -> None:
    with relay_process() as relay:
        body = encode(
            OFFICE, 3, time.time(), snapshot=True, status='{"categories":[]}', status_seq=3
        )

        def post(data: bytes, secret: bytes, stamp: float) -> httpx.Response:
            text = f"{stamp:.3f}"
            headers = {TIMESTAMP_HEADER: text, SIGNATURE_HEADER: sign(secret, text, data)}
            return httpx.post(f"{relay}/push", content=data, headers=headers)

        assert post(body, b"not-the-secret-" * 3, time.time()).status_code == 401
        assert httpx.post(f"{relay}/push", content=body).status_code == 401
        assert (
            post(body, RELAY_SECRET.encode(), time.time() - 3600).json()["error"]["code"] == "stale"
        )
        other = encode("other-office", 3, time.time(), snapshot=True, status="{}", status_seq=3)
        assert post(other, RELAY_SECRET.encode(), time.time()).status_code == 403
        assert httpx.get(f"{relay}/api/v1/status").status_code == 503  # nothing accepted yet
        assert post(body, RELAY_SECRET.encode(), time.time()).status_code == 200
        old = encode(OFFICE, 2, time.time(), snapshot=False, events=[])
        assert post(old, RELAY_SECRET.encode(), time.time()).json()["seq"] == 3


@pytest.mark.slow
def test_a_relay_that_was_down_catches_up_from_a_snapshot(office: tuple[str, Any]) -> None:
    url, tokens = office
    with relay_process() as first:
        port = first.rsplit(":", 1)[1]
    relay_url = f"http://127.0.0.1:{port}"
    with server_process(url, **pushing_to(relay_url)) as server:
        for _ in range(2):  # the relay is down: the pushes fail and are retried
            httpx.post(
                f"{server}/api/v1/tickets",
                json={"category_id": "koseki"},
                headers=bearer(tokens.kiosk),
            )
        with relay_process(port=int(port)) as relay:
            started = time.monotonic()
            eventually(
                lambda: waiting(httpx.get(f"{relay}/api/v1/status").json())["koseki"] == 2, 40
            )
            assert time.monotonic() - started < 40
            health = httpx.get(f"{relay}/healthz").json()
            assert health["ready"] and health["online"]


@pytest.mark.slow
def test_snapshots_go_out_at_start_and_after_a_refusal_without_waiting_for_an_event(
    office: tuple[str, Any],
) -> None:
    """A periodic snapshot far away (as right after the host booted, when the monotonic clock
    is still small) must not hold the first snapshot, nor the snapshot that repairs a relay
    which refused a delta because it restarted."""
    url, tokens = office
    port = free_port()
    relay_url = f"http://127.0.0.1:{port}"
    settings = {**pushing_to(relay_url), "relay_snapshot_seconds": "1e9", "relay_pull": "false"}

    def issue() -> None:
        answer = httpx.post(
            f"{server}/api/v1/tickets", json={"category_id": "koseki"}, headers=bearer(tokens.kiosk)
        )
        assert answer.status_code == 201

    with server_process(url, **settings) as server:
        with relay_process(port=port) as relay:
            eventually(lambda: httpx.get(f"{relay}/healthz").json()["ready"], 10)
            issue()
            eventually(lambda: waiting(httpx.get(f"{relay}/api/v1/status").json())["koseki"] == 1)
        with relay_process(port=port) as relay:
            issue()  # a delta the new relay refuses (409): it knows nothing yet
            eventually(
                lambda: waiting(httpx.get(f"{relay}/api/v1/status").json())["koseki"] == 2, 10
            )


@pytest.mark.slow
@pytest.mark.redis
def test_relays_linked_by_redis_serve_the_same_figures(office: tuple[str, Any]) -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).delete(
        f"madoguchi:relay:{OFFICE}:snapshot", f"madoguchi:relay:{OFFICE}:deltas"
    )
    url, tokens = office
    with (
        relay_process(redis=REDIS_URL) as a,
        relay_process(redis=REDIS_URL) as b,
        server_process(url, **pushing_to(a)) as server,
    ):
        eventually(lambda: httpx.get(f"{b}/api/v1/status").status_code == 200)
        with connect(f"{b.replace('http', 'ws')}/ws/public", open_timeout=5) as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "snapshot"
            httpx.post(
                f"{server}/api/v1/tickets",
                json={"category_id": "tax"},
                headers=bearer(tokens.kiosk),
            )
            while True:
                message = json.loads(ws.recv(timeout=10))
                if message["type"] == "event":
                    assert message["event"]["type"] == "ticket.issued"
                    break
        eventually(lambda: waiting(httpx.get(f"{b}/api/v1/status").json())["tax"] == 1)
        assert httpx.get(f"{a}/api/v1/status").json() == httpx.get(f"{b}/api/v1/status").json()
        # A relay started later builds itself from what Redis keeps.
        with relay_process(redis=REDIS_URL) as c:
            eventually(lambda: waiting(httpx.get(f"{c}/api/v1/status").json())["tax"] == 1)
