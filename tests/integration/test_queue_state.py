"""The computed queue state: one set of figures per seq, served everywhere, in order, cheaply."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, select
from support.server import (
    Tokens,
    app_client,
    bearer,
    fresh_status,
    prepare,
    roomy_office,
    server_process,
    settled_status,
)
from tests_constants import OPEN_MOMENT, REDIS_URL
from websockets.sync.client import connect

from queue_server.adapters import tables as t
from queue_server.service.ports import FakeClock, SystemClock

FIGURES = ("estimated_wait_minutes", "estimate_low_minutes", "estimate_high_minutes")


def figures(item: dict) -> tuple:
    return tuple(item[k] for k in FIGURES)


def category(status: dict, category_id: str) -> dict:
    return next(c for c in status["categories"] if c["id"] == category_id)


@pytest.fixture
def live(sqlite_url: str) -> Iterator[tuple[str, Tokens]]:
    """A real server process on SQLite with the demo office open all day."""
    engine, tokens = prepare(sqlite_url, SystemClock(), raw=roomy_office())
    engine.dispose()
    with server_process(sqlite_url) as base:
        yield base, tokens


def issue(client: httpx.Client, tokens: Tokens, category_id: str) -> dict:
    answer = client.post(
        "/api/v1/tickets", json={"category_id": category_id}, headers=bearer(tokens.kiosk)
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json()["ticket"])


def test_one_seq_shows_the_same_figures_on_status_stream_issue_answer_and_ticket_page(
    live,
) -> None:
    base, tokens = live
    with httpx.Client(base_url=base, timeout=10) as client:
        for _ in range(6):
            issue(client, tokens, "koseki")
        waiting = issue(client, tokens, "koseki")
        client.post("/api/v1/counters/c5/call-next", headers=bearer(tokens.clerk))
        status = settled_status(base)
        seq = status["seq"]
        koseki = category(status, "koseki")
        with connect(base.replace("http", "ws") + "/ws/public", open_timeout=10) as ws:
            snapshot = json.loads(ws.recv(timeout=10))
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == seq
        assert figures(category(snapshot["status"], "koseki")) == figures(koseki)

        page = client.get(f"/api/v1/tickets/by-public-id/{waiting['public_id']}").json()["ticket"]
        queue = client.get(
            "/api/v1/queue", params={"category_id": "koseki"}, headers=bearer(tokens.clerk)
        ).json()["tickets"]
        mine = next(q for q in queue if q["public_id"] == waiting["public_id"])
        assert page["seq"] == mine["seq"] == seq
        assert page["ahead"] == mine["ahead"] == koseki["waiting"] - 1
        assert figures(page) == figures(mine)
        assert page["estimated_wait_minutes"] > 0

        # A new ticket's answer: people ahead counted in the write, figures of the same state.
        new = issue(client, tokens, "koseki")
        assert new["seq"] == seq
        assert new["ahead"] == koseki["waiting"]
        assert figures(new) == figures(koseki)


def test_reads_without_a_change_give_identical_figures_and_a_304(live) -> None:
    base, tokens = live
    with httpx.Client(base_url=base, timeout=10) as client:
        for category_id in ("certificates", "insurance", "insurance", "tax"):
            issue(client, tokens, category_id)
        settled_status(base)
        reads = [client.get("/api/v1/status") for _ in range(5)]
        bodies = {r.text for r in reads}
        tags = {r.headers["etag"] for r in reads}
        assert len(bodies) == 1 and len(tags) == 1
        assert "max-age" in reads[0].headers["cache-control"]
        again = client.get("/api/v1/status", headers={"If-None-Match": tags.pop()})
        assert again.status_code == 304 and again.content == b""
        issue(client, tokens, "tax")
        moved = settled_status(base)
        assert moved["seq"] == json.loads(reads[0].text)["seq"] + 1


def test_requests_never_run_the_estimator(sqlite_url: str) -> None:
    """Issues, status reads, ticket pages and the clerk's queue read the computed state."""
    clock = FakeClock(OPEN_MOMENT)
    with app_client(sqlite_url, clock) as (client, tokens, _):
        service = client.app.state.container.service  # type: ignore[attr-defined]
        projector = service._projector
        real = projector._estimator
        runs = []

        def counting(snapshot):  # type: ignore[no-untyped-def]
            runs.append(snapshot)
            return real(snapshot)

        projector._estimator = counting
        fresh_status(client)
        before = len(runs)
        refreshes = client.app.state.container.hub.refreshes  # type: ignore[attr-defined]
        for i in range(20):
            ticket = client.post(
                "/api/v1/tickets",
                json={"category_id": ("certificates", "tax")[i % 2]},
                headers=bearer(tokens.kiosk),
            ).json()["ticket"]
            client.get("/api/v1/status")
            client.get(f"/api/v1/tickets/by-public-id/{ticket['public_id']}")
            client.get("/api/v1/queue", headers=bearer(tokens.clerk))
        computed = client.app.state.container.hub.refreshes - refreshes  # type: ignore[attr-defined]
        # The estimator ran once per computed state, not once per request (80 requests).
        assert len(runs) - before == computed
        assert computed < 20


def test_a_tick_moves_the_figures_without_an_event(sqlite_url: str) -> None:
    clock = FakeClock(OPEN_MOMENT)
    with app_client(sqlite_url, clock) as (client, tokens, _):
        for _ in range(3):
            client.post(
                "/api/v1/tickets", json={"category_id": "tax"}, headers=bearer(tokens.kiosk)
            )
        client.post("/api/v1/counters/c7/call-next", headers=bearer(tokens.clerk))
        first = client.get("/api/v1/status")
        fresh_status(client)
        first = client.get("/api/v1/status")
        clock.advance(seconds=31)
        fresh_status(client)
        later = client.get("/api/v1/status")
        assert later.json()["seq"] == first.json()["seq"]
        assert later.headers["etag"] != first.headers["etag"]
        assert later.json()["generated_at"] > first.json()["generated_at"]


def _collect(url: str, out: list[dict], stop: threading.Event, ready: threading.Event) -> None:
    with connect(url, open_timeout=10) as ws:
        out.append(json.loads(ws.recv(timeout=10)))
        ready.set()
        while not stop.is_set():
            try:
                out.append(json.loads(ws.recv(timeout=0.5)))
            except TimeoutError:
                continue


def _burst(base: str, tokens: Tokens, rounds: int) -> None:
    def kiosk(i: int) -> None:
        with httpx.Client(base_url=base, timeout=20) as client:
            for _ in range(rounds):
                issue(client, tokens, ("certificates", "moving", "tax")[i % 3])

    def clerk(counter: str) -> None:
        with httpx.Client(base_url=base, timeout=20, headers=bearer(tokens.clerk)) as client:
            for _ in range(rounds):
                client.post(f"/api/v1/counters/{counter}/call-next", json={"finish_current": True})

    with ThreadPoolExecutor(7) as pool:
        jobs = [pool.submit(kiosk, i) for i in range(4)]
        jobs += [pool.submit(clerk, c) for c in ("c1", "c3", "c7")]
        for job in jobs:
            job.result()


def _assert_ordered(messages: list[dict]) -> int:
    """Events contiguous after the snapshot; no status older than an event already received."""
    seen = messages[0]["seq"]
    statuses = 0
    for message in messages[1:]:
        if message["type"] == "event":
            assert message["seq"] == seen + 1
            seen = message["seq"]
        elif message["type"] == "status":
            assert message["seq"] >= seen, f"status {message['seq']} after event {seen}"
            statuses += 1
    return seen


@pytest.mark.slow
@pytest.mark.parametrize(
    "bus",
    [
        "memory://",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param(REDIS_URL, marks=[pytest.mark.postgres, pytest.mark.redis]),
    ],
)
def test_a_status_never_arrives_after_a_newer_event(sqlite_url: str, pg_url: str, bus: str) -> None:
    url = sqlite_url if bus == "memory://" else pg_url
    engine, tokens = prepare(url, SystemClock(), raw=roomy_office())
    engine.dispose()
    with server_process(url, event_bus=bus) as a:
        other = server_process(url, event_bus=bus) if bus != "memory://" else None
        b = other.__enter__() if other is not None else a
        try:
            messages: list[dict] = []
            stop, ready = threading.Event(), threading.Event()
            listener = threading.Thread(
                target=_collect,
                args=(a.replace("http", "ws") + "/ws/public", messages, stop, ready),
            )
            listener.start()
            assert ready.wait(10)
            _burst(b, tokens, rounds=15)
            final = settled_status(a)
            stop.set()
            listener.join(10)
        finally:
            if other is not None:
                other.__exit__(None, None, None)
    last = _assert_ordered(messages)
    assert last == final["seq"]
    assert any(m["type"] == "status" for m in messages)


@pytest.mark.slow
@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_numbering_stays_gap_free_with_two_server_processes(
    sqlite_url: str, pg_url: str, database: str
) -> None:
    url = sqlite_url if database == "sqlite" else pg_url
    engine, tokens = prepare(url, SystemClock(), raw=roomy_office())
    engine.dispose()
    bus = "memory://" if database == "sqlite" else "postgresql"
    with server_process(url, event_bus=bus) as a, server_process(url, event_bus=bus) as b:

        def kiosk(i: int) -> list[str]:
            with httpx.Client(base_url=(a, b)[i % 2], timeout=20) as client:
                return [
                    issue(client, tokens, ("certificates", "tax")[(i // 2) % 2])["number"]
                    for _ in range(25)
                ]

        with ThreadPoolExecutor(8) as pool:
            numbers = [n for batch in pool.map(kiosk, range(8)) for n in batch]
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as c:
        stored = c.execute(select(t.tickets.c.display_number, t.tickets.c.origin_category_id))
        by_category: dict[str, list[int]] = {}
        for number, category_id in stored:
            by_category.setdefault(category_id, []).append(int(number.split("-")[1]))
        seqs = [
            r[0] for r in c.execute(select(t.office_events.c.seq).order_by(t.office_events.c.seq))
        ]
    engine.dispose()
    assert len(numbers) == len(set(numbers)) == 200
    for values in by_category.values():
        assert sorted(values) == list(range(1, len(values) + 1))
    assert seqs == list(range(1, 201))
