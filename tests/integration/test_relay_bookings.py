"""Bookings through the relay, as real processes: the resident books on the relay, the queue
server pulls the request from the inside, processes it with its own rules and answers."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from support.push import SUBJECT, FakePushService, browser_subscription, fake_push_service
from support.relay_faults import DroppingProxy
from support.server import RELAY_SECRET, prepare, relay_process, server_process
from support.waiting import eventually
from tests_constants import REDIS_URL

from queue_server.adapters import tables as t
from queue_server.service.ports import SystemClock

SECRET = "test-secret-for-relay-bookings"
EMAIL = "canary.relay-resident@example.jp"
OFFICE = "shirakawa-shimin"


def pulling_from(relay: str) -> dict[str, str]:
    return {"relay_push_url": relay, "relay_push_secret": RELAY_SECRET, "secret_key": SECRET}


def settled(base: str, response: httpx.Response, seconds: float = 60.0) -> httpx.Response:
    """The final answer: follows a 202 to the poll URL, as the page does."""
    deadline = time.monotonic() + seconds
    while response.status_code == 202:
        assert time.monotonic() < deadline, "the request was never answered"
        time.sleep(0.2)
        poll = response.json()["relay_request"]["poll_url"]
        response = httpx.get(f"{base}{poll}")
    return response


def open_slot(relay: str) -> tuple[str, str]:
    """A day with two bookable slots or more (late in the day, today may have one) and its
    first bookable slot, as the relay's /reserve offers them."""
    days = httpx.get(f"{relay}/api/v1/reserve/procedures/mynumber/days").json()["days"]
    for day in (d["date"] for d in days if not d["full"]):
        slots = httpx.get(
            f"{relay}/api/v1/reserve/procedures/mynumber/slots", params={"date": day}
        ).json()["slots"]
        bookable = [s["start"] for s in slots if s["bookable"]]
        if len(bookable) >= 2:
            return day, bookable[0]
    raise AssertionError("no day with two bookable slots")


def left(base: str, day: str, start: str) -> int:
    slots = httpx.get(
        f"{base}/api/v1/reserve/procedures/mynumber/slots", params={"date": day}
    ).json()["slots"]
    return int(next(s["left"] for s in slots if s["start"] == start))


def bookings_open(relay: str) -> bool:
    return httpx.get(f"{relay}/api/v1/reserve/procedures").status_code == 200


def reservations(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(t.reservations)).scalar()
    engine.dispose()
    return int(count or 0)


def forget_relay_keys() -> None:
    """What earlier runs left in Redis for this office's relays (other offices' keys stay)."""
    import redis

    link = redis.Redis.from_url(REDIS_URL)
    keys = list(link.scan_iter(f"madoguchi:relay:{OFFICE}:*"))
    if keys:
        link.delete(*keys)


@pytest.fixture
def office(sqlite_url: str) -> str:
    engine, _ = prepare(sqlite_url, SystemClock())
    engine.dispose()
    return sqlite_url


@pytest.mark.slow
def test_a_resident_books_changes_and_cancels_through_the_relay(office: str) -> None:
    with relay_process() as relay, server_process(office, **pulling_from(relay)) as server:
        eventually(lambda: bookings_open(relay))
        # The relay offers what the queue server offers, from the pushed document.
        for path in ("/api/v1/reserve/procedures", "/api/v1/reserve/procedures/mynumber/days"):
            assert httpx.get(f"{relay}{path}").json() == httpx.get(f"{server}{path}").json()
        day, start = open_slot(relay)
        before = left(relay, day, start)
        body = {"category_id": "mynumber", "start": start, "language": "en", "email": EMAIL}
        answer = settled(relay, httpx.post(f"{relay}/api/v1/reservations", json=body))
        assert answer.status_code == 201, answer.text
        made = answer.json()["reservation"]
        assert made["code"].startswith("MDG1") and made["short_code"] and made["qr_svg"]
        assert made["slot_start"] == start and EMAIL not in answer.text
        assert reservations(office) == 1
        # The booking is on the queue server, and every relay shows the place taken at once.
        assert left(server, day, start) == before - 1
        eventually(lambda: left(relay, day, start) == before - 1, 5)
        # Lookup, change and cancel with the short code, all through the relay.
        code = {"code": made["short_code"]}
        found = settled(relay, httpx.post(f"{relay}/api/v1/reservations/lookup", json=code))
        assert found.status_code == 200 and found.json()["reservation"]["state"] == "booked"
        slots = httpx.get(
            f"{relay}/api/v1/reserve/procedures/mynumber/slots", params={"date": day}
        ).json()["slots"]
        other = next(s["start"] for s in slots if s["bookable"] and s["start"] != start)
        moved = settled(
            relay,
            httpx.post(f"{relay}/api/v1/reservations/change", json={**code, "start": other}),
        )
        assert moved.status_code == 200 and moved.json()["reservation"]["slot_start"] == other
        gone = settled(relay, httpx.post(f"{relay}/api/v1/reservations/cancel", json=code))
        assert gone.json()["reservation"]["state"] == "cancelled"
        again = settled(relay, httpx.post(f"{relay}/api/v1/reservations/cancel", json=code))
        assert (again.status_code, again.json()["error"]["code"]) == (409, "reservation_closed")
        # The queue server's own rules answer: a bad e-mail is refused as on the queue server.
        bad = settled(
            relay, httpx.post(f"{relay}/api/v1/reservations", json={**body, "email": "nope"})
        )
        direct = httpx.post(f"{server}/api/v1/reservations", json={**body, "email": "nope"})
        assert (bad.status_code, bad.json()) == (direct.status_code, direct.json())
        # Nothing the relay serves or logs holds the resident's address.
        served = [
            httpx.get(f"{relay}{path}").text
            for path in ("/healthz", "/api/v1/status", "/api/v1/reserve/procedures")
        ]
        log = (
            Path(os.environ.get("TMPDIR", "/tmp")) / f"madoguchi-relay-{relay.rsplit(':')[-1]}.log"
        )
        assert EMAIL not in "\n".join([*served, log.read_text()])


@pytest.mark.slow
@pytest.mark.redis
def test_the_last_place_through_two_linked_relays_goes_to_exactly_one(database_url: str) -> None:
    """Twelve residents on two relays, one place left; on SQLite and PostgreSQL."""
    forget_relay_keys()
    engine, _ = prepare(database_url, SystemClock())
    engine.dispose()
    office = database_url
    options = ("--bookings-per-minute", "100")
    with (
        relay_process(redis=REDIS_URL, options=options) as a,
        relay_process(redis=REDIS_URL, options=options) as b,
        server_process(office, **pulling_from(a)),
    ):
        eventually(lambda: bookings_open(a) and bookings_open(b))
        day, start = open_slot(b)
        body = {"category_id": "mynumber", "start": start}
        first = settled(b, httpx.post(f"{b}/api/v1/reservations", json=body))
        assert first.status_code == 201, first.text
        results: list[int] = []
        barrier = threading.Barrier(12)

        def resident(index: int) -> None:
            base = (a, b)[index % 2]
            barrier.wait()
            response = httpx.post(f"{base}/api/v1/reservations", json=body, timeout=30)
            results.append(settled(base, response).status_code)

        threads = [threading.Thread(target=resident, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [201] + [409] * 11
        assert reservations(office) == 2
        eventually(lambda: left(b, day, start) == 0, 5)


@pytest.mark.slow
def test_a_lost_answer_is_processed_once(office: str) -> None:
    options = ("--lease-seconds", "2", "--answer-wait", "0.5")
    with (
        relay_process(options=options) as relay,
        DroppingProxy(relay, drop="/answer") as proxy,
        server_process(office, **pulling_from(proxy.url)),
    ):
        eventually(lambda: bookings_open(relay))
        _, start = open_slot(relay)
        body = {"category_id": "mynumber", "start": start}
        response = httpx.post(f"{relay}/api/v1/reservations", json=body)
        assert response.status_code == 202  # the first answer is dropped on its way
        final = settled(relay, response)
        assert final.status_code == 201, final.text
        assert proxy.dropped == 1
        assert reservations(office) == 1  # pulled twice, booked once


@pytest.mark.slow
def test_a_lost_pull_reply_costs_a_delay_not_the_request(office: str) -> None:
    options = ("--lease-seconds", "2", "--answer-wait", "0.5")
    with relay_process(options=options) as relay:
        with server_process(office, **pulling_from(relay)):
            eventually(lambda: bookings_open(relay))
            _, start = open_slot(relay)
        # The queue server is away; the relay still takes the request (it pulled lately).
        with DroppingProxy(relay, drop="/pull-reply-with-requests") as proxy:
            response = httpx.post(
                f"{relay}/api/v1/reservations", json={"category_id": "mynumber", "start": start}
            )
            assert response.status_code == 202
            with server_process(office, **pulling_from(proxy.url)):
                final = settled(relay, response)
            assert final.status_code == 201, final.text
            assert proxy.dropped == 1
    assert reservations(office) == 1


@pytest.mark.slow
@pytest.mark.redis
def test_requests_kept_in_redis_survive_a_relay_restart(office: str) -> None:
    forget_relay_keys()
    options = ("--answer-wait", "0.2")
    with relay_process(redis=REDIS_URL, options=options) as first:
        port = int(first.rsplit(":", 1)[1])
        with server_process(office, **pulling_from(first)):
            eventually(lambda: bookings_open(first))
            _, start = open_slot(first)
        response = httpx.post(
            f"{first}/api/v1/reservations", json={"category_id": "mynumber", "start": start}
        )
        assert response.status_code == 202
        poll = response.json()["relay_request"]["poll_url"]
    with relay_process(port=port, redis=REDIS_URL, options=options) as again:
        assert httpx.get(f"{again}{poll}").status_code == 202  # still waiting, not lost
        with server_process(office, **pulling_from(again)):
            final = settled(again, httpx.get(f"{again}{poll}"))
        assert final.status_code == 201, final.text


@pytest.mark.slow
def test_requests_in_memory_are_lost_when_the_relay_restarts(office: str) -> None:
    """Documented (docs/relay.md): without Redis a restart loses what waits; the page says so."""
    options = ("--answer-wait", "0.2")
    with relay_process(options=options) as first:
        port = int(first.rsplit(":", 1)[1])
        with server_process(office, **pulling_from(first)):
            eventually(lambda: bookings_open(first))
            _, start = open_slot(first)
        response = httpx.post(
            f"{first}/api/v1/reservations", json={"category_id": "mynumber", "start": start}
        )
        poll = response.json()["relay_request"]["poll_url"]
    with relay_process(port=port, options=options) as again:
        assert httpx.get(f"{again}{poll}").status_code == 404
    assert reservations(office) == 0


@pytest.mark.slow
def test_a_booking_with_a_push_reminder_goes_through_the_relay(office: str, tmp_path: Path) -> None:
    with (
        fake_push_service() as push,
        relay_process() as relay,
        server_process(
            office,
            web_push="true",
            vapid_subject=SUBJECT,
            data_dir=str(tmp_path),
            **pulling_from(relay),
        ),
    ):
        eventually(lambda: bookings_open(relay))
        assert "webpush" in httpx.get(f"{relay}/api/v1/notify/channels").json()["channels"]
        subscription = browser_subscription(f"{push}/push/relay-reminder-canary")
        _, start = open_slot(relay)
        reminder = {"channel": "webpush", "address": json.dumps(subscription)}
        body = {"category_id": "mynumber", "start": start, "language": "en", "reminder": reminder}
        answer = settled(relay, httpx.post(f"{relay}/api/v1/reservations", json=body))
        assert answer.status_code == 201, answer.text
        made = answer.json()["reservation"]
        assert made["reminder_channel"] == "webpush" and made["reminder_token"].startswith("r.")
        assert "relay-reminder-canary" not in answer.text
        engine = create_engine(office)
        with engine.connect() as connection:
            stored = connection.execute(select(t.reservations.c.reminder_address)).scalar_one()
        engine.dispose()
        if stored is None:  # a slot of tomorrow after the reminder hour: reminded already
            eventually(lambda: len(FakePushService.received) == 1)
        else:
            assert json.loads(stored) == subscription  # delivered whole through the relay
        # The one-tap stop from the booking page goes through the relay too.
        stop = {"token": made["reminder_token"]}
        stopped = settled(relay, httpx.post(f"{relay}/api/v1/notify/unsubscribe", json=stop))
        assert stopped.status_code == 200, stopped.text
        log = (
            Path(os.environ.get("TMPDIR", "/tmp")) / f"madoguchi-relay-{relay.rsplit(':')[-1]}.log"
        )
        assert "relay-reminder-canary" not in log.read_text()
