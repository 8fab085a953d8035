"""The pull between queue server and relay refuses what it must: forged, replayed, stale or
foreign calls on the relay; forged, replayed or stale replies on the queue server. And the
relay's limits towards residents: rate limit, bounded queue, "bookings unavailable"."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from support.relay_faults import FakeRelay
from support.server import RELAY_SECRET, prepare, relay_process, server_process

import visitor_text
from queue_server.adapters import tables as t
from queue_server.service.ports import SystemClock
from relay.protocol import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from relay.pull_protocol import Answer, encode_call

OFFICE = "shirakawa-shimin"
KEY = RELAY_SECRET.encode()


def signed(body: bytes, secret: bytes = KEY, at: float | None = None) -> dict[str, str]:
    stamp = f"{time.time() if at is None else at:.3f}"
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, body)}


def call(office: str = OFFICE, **fields: Any) -> bytes:
    return encode_call(office, secrets.token_urlsafe(18), **fields)


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def book(relay: str) -> httpx.Response:
    start = "2026-12-03T10:00:00+09:00"
    return httpx.post(f"{relay}/api/v1/reservations", json={"category_id": "x", "start": start})


@pytest.mark.slow
def test_forged_replayed_stale_and_foreign_calls_are_refused() -> None:
    with relay_process(options=("--answer-wait", "0.2")) as relay:
        pull = call(wait=0)
        assert error(httpx.post(f"{relay}/pull", content=pull)) == (401, "unsigned")
        forged = signed(pull, b"not-the-shared-secret-0123456789abcdef")
        assert error(httpx.post(f"{relay}/pull", content=pull, headers=forged)) == (
            401,
            "bad_signature",
        )
        stale = signed(pull, at=time.time() - 3600)
        assert error(httpx.post(f"{relay}/pull", content=pull, headers=stale)) == (401, "stale")
        foreign = call("other-office", wait=0)
        answer = httpx.post(f"{relay}/pull", content=foreign, headers=signed(foreign))
        assert error(answer) == (403, "wrong_office")
        # Nothing refused counts as the queue server being there: bookings stay unavailable.
        assert error(book(relay)) == (503, "bookings_unavailable")
        assert httpx.get(f"{relay}/healthz").json()["bookings_open"] is False

        headers = signed(pull)
        answer = httpx.post(f"{relay}/pull", content=pull, headers=headers)
        assert answer.status_code == 200
        # The reply is signed with the shared secret and answers this very call.
        verify(
            (KEY,),
            answer.headers[TIMESTAMP_HEADER],
            answer.headers[SIGNATURE_HEADER],
            answer.content,
            time.time(),
        )
        assert answer.json() == {"nonce": json.loads(pull)["nonce"], "requests": []}
        replayed = httpx.post(f"{relay}/pull", content=pull, headers=headers)
        assert error(replayed) == (409, "replayed")

        waiting = book(relay)
        assert waiting.status_code == 202
        request_id = waiting.json()["relay_request"]["id"]
        poll = f"{relay}{waiting.json()['relay_request']['poll_url']}"
        fake = [Answer(request_id, 201, {"reservation": {"code": "forged"}})]
        forged_answer = call(answers=fake)
        refused = httpx.post(
            f"{relay}/answer",
            content=forged_answer,
            headers=signed(forged_answer, b"not-the-shared-secret-0123456789abcdef"),
        )
        assert error(refused) == (401, "bad_signature")
        assert httpx.get(poll).status_code == 202  # still waiting for the real answer
        real = call(answers=[Answer(request_id, 409, {"error": {"code": "slot_full"}})])
        headers = signed(real)
        assert httpx.post(f"{relay}/answer", content=real, headers=headers).status_code == 200
        assert error(httpx.post(f"{relay}/answer", content=real, headers=headers)) == (
            409,
            "replayed",
        )
        assert error(httpx.get(poll)) == (409, "slot_full")
        assert error(httpx.get(f"{relay}/api/v1/relay-requests/no-such-request-id-0")) == (
            404,
            "not_found",
        )


def _mark_pulled(relay: str) -> None:
    pull = call(wait=0)
    assert httpx.post(f"{relay}/pull", content=pull, headers=signed(pull)).status_code == 200


@pytest.mark.slow
def test_residents_are_rate_limited_per_address() -> None:
    with relay_process(options=("--bookings-per-minute", "3", "--answer-wait", "0")) as relay:
        _mark_pulled(relay)
        assert [book(relay).status_code for _ in range(3)] == [202] * 3
        limited = book(relay)
        assert error(limited) == (429, "rate_limited")
        assert 0 < int(limited.headers["Retry-After"]) <= 60


@pytest.mark.slow
def test_a_full_queue_answers_503_at_once() -> None:
    with relay_process(options=("--max-requests", "2", "--answer-wait", "0")) as relay:
        _mark_pulled(relay)
        assert [book(relay).status_code for _ in range(2)] == [202, 202]
        full = book(relay)
        assert error(full) == (503, "busy") and full.headers["Retry-After"]


@pytest.mark.slow
def test_without_the_queue_server_bookings_are_unavailable_rather_than_hanging() -> None:
    options = ("--pull-stale", "2", "--request-expiry", "1", "--answer-wait", "0")
    with relay_process(options=options) as relay:
        started = time.monotonic()
        assert error(book(relay)) == (503, "bookings_unavailable")
        assert error(httpx.get(f"{relay}/api/v1/reserve/procedures")) == (
            503,
            "bookings_unavailable",
        )
        assert time.monotonic() - started < 2  # told at once
        assert httpx.get(f"{relay}/healthz").json()["bookings_open"] is False
        # The unsubscribe link's POST is a request like the others: it waits for no one either.
        link = httpx.post(f"{relay}/notify/unsubscribe/some-token-0123")
        assert link.status_code == 503
        assert visitor_text.text("en", "reserve.unsubscribe_unavailable") in link.text
        _mark_pulled(relay)
        assert httpx.get(f"{relay}/healthz").json()["bookings_open"] is True
        waiting = book(relay)
        assert waiting.status_code == 202
        time.sleep(1.5)  # nobody pulls it: it expires, and its poll says so
        poll = f"{relay}{waiting.json()['relay_request']['poll_url']}"
        assert error(httpx.get(poll)) == (503, "bookings_unavailable")
        time.sleep(1)  # no pull for longer than --pull-stale
        assert error(book(relay)) == (503, "bookings_unavailable")
        assert httpx.get(f"{relay}/healthz").json()["bookings_open"] is False


def _reservations(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(t.reservations)).scalar()
    engine.dispose()
    return int(count or 0)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["forged", "replayed", "stale", "honest"])
def test_the_queue_server_processes_only_replies_signed_for_its_call(
    sqlite_url: str, mode: str
) -> None:
    engine, _ = prepare(sqlite_url, SystemClock())
    engine.dispose()
    with server_process(sqlite_url, secret_key="x" * 32) as server:
        days = httpx.get(f"{server}/api/v1/reserve/procedures/mynumber/days").json()["days"]
        day = next(d["date"] for d in days if not d["full"])
        slots = httpx.get(
            f"{server}/api/v1/reserve/procedures/mynumber/slots", params={"date": day}
        ).json()["slots"]
    booking = {"category_id": "mynumber", "start": next(s["start"] for s in slots if s["bookable"])}
    settings = {"relay_push_secret": RELAY_SECRET, "secret_key": "x" * 32}
    with FakeRelay(KEY, booking, mode) as relay:
        with server_process(sqlite_url, relay_push_url=relay.url, **settings):
            deadline = time.monotonic() + 20
            while relay.pulls < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert relay.pulls >= 3
            if mode == "honest":
                while not relay.answers and time.monotonic() < deadline:
                    time.sleep(0.2)
        if mode == "honest":
            assert [a["status"] for a in relay.answers] == [201]
            assert _reservations(sqlite_url) == 1
        else:
            assert relay.answers == [] and _reservations(sqlite_url) == 0


@pytest.mark.slow
def test_during_a_rotation_the_reply_is_signed_with_the_secret_the_call_used() -> None:
    old = "old-relay-secret-0123456789abcdef0123456"
    with relay_process(secrets=f"{old},{RELAY_SECRET}") as relay:
        for secret in (old.encode(), KEY):
            pull = call(wait=0)
            answer = httpx.post(f"{relay}/pull", content=pull, headers=signed(pull, secret))
            assert answer.status_code == 200
            stamp, signature = answer.headers[TIMESTAMP_HEADER], answer.headers[SIGNATURE_HEADER]
            assert verify((secret,), stamp, signature, answer.content, time.time()) == secret


@pytest.mark.slow
def test_with_its_redis_away_the_relay_says_bookings_are_unavailable() -> None:
    with relay_process(redis="redis://127.0.0.1:9/0") as relay:  # nothing listens there
        assert error(book(relay)) == (503, "bookings_unavailable")
        poll = f"{relay}/api/v1/relay-requests/some-request-id-0123456789"
        assert error(httpx.get(poll)) == (503, "bookings_unavailable")
