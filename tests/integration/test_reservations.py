"""Visit reservations through the real server: booking, change and cancel with the resident's
code, check-in at the kiosk (early, late, no-show), staff lists, open data, and the last place
taken by exactly one of many concurrent bookings across two server processes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from support.server import Tokens, app_client, bearer, fresh_status, prepare, server_process
from tests_constants import TOKYO

from queue_server.adapters import tables as t
from queue_server.service.ports import FakeClock, SystemClock

SECRET = "test-secret-for-reservations"
WEDNESDAY = datetime(2026, 11, 25, 8, 0, tzinfo=TOKYO)
THURSDAY = date(2026, 11, 26)
TEN = "2026-11-26T10:00:00+09:00"
TEN_THIRTY = "2026-11-26T10:30:00+09:00"
EMAIL = "canary.resident@example.jp"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WEDNESDAY)


@pytest.fixture
def api(
    database_url: str, clock: FakeClock, tmp_path: Path
) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    with app_client(database_url, clock, data_dir=tmp_path, secret_key=SECRET) as parts:
        yield parts


def book(client: TestClient, start: str = TEN, **extra: Any) -> httpx.Response:
    body = {"category_id": "mynumber", "start": start, "language": "en", **extra}
    return client.post("/api/v1/reservations", json=body)


def booked(client: TestClient, start: str = TEN, **extra: Any) -> dict[str, Any]:
    response = book(client, start, **extra)
    assert response.status_code == 201, response.text
    reservation: dict[str, Any] = response.json()["reservation"]
    return reservation


def slot_left(client: TestClient, start: str) -> int:
    slots = client.get(
        "/api/v1/reserve/procedures/mynumber/slots", params={"date": start[:10]}
    ).json()["slots"]
    return int(next(s["left"] for s in slots if s["start"] == start))


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


class TestOffers:
    def test_reservable_procedures_days_and_slots(self, api) -> None:
        client, _, _ = api
        procedures = client.get("/api/v1/reserve/procedures").json()["procedures"]
        assert [p["id"] for p in procedures] == ["mynumber"]
        assert procedures[0]["slot_minutes"] == 30
        days = client.get("/api/v1/reserve/procedures/mynumber/days").json()["days"]
        dates = [d["date"] for d in days]
        assert dates[0] == "2026-11-25"
        assert "2026-11-28" not in dates  # Saturday
        slots = client.get(
            "/api/v1/reserve/procedures/mynumber/slots", params={"date": "2026-11-26"}
        ).json()["slots"]
        assert slots[0] == {
            "start": "2026-11-26T09:00:00+09:00",
            "end": "2026-11-26T09:30:00+09:00",
            "capacity": 2,
            "left": 2,
            "bookable": True,
        }
        assert "2026-11-26T12:00:00+09:00" not in [s["start"] for s in slots]  # lunch

    def test_a_procedure_without_reservations_is_refused(self, api) -> None:
        client, _, _ = api
        response = client.post(
            "/api/v1/reservations", json={"category_id": "certificates", "start": TEN}
        )
        assert error(response) == (422, "not_reservable")


class TestBooking:
    def test_book_find_change_and_cancel_with_the_short_code_or_the_qr(self, api) -> None:
        client, _, _ = api
        made = booked(client)
        short, qr = made["short_code"], made["code"]
        assert len(short) == 9 and short[4] == "-"
        assert qr.startswith("MDG1.") and made["qr_svg"].startswith("<")
        assert (made["slot_start"], made["state"], made["reminder"]) == (TEN, "booked", False)
        assert made["check_in_from"] == "2026-11-26T09:30:00+09:00"
        assert made["check_in_until"] == "2026-11-26T10:15:00+09:00"
        # Read over the phone: lower case, no hyphen.
        found = client.post("/api/v1/reservations/lookup", json={"code": short.lower()})
        assert found.json()["reservation"]["slot_start"] == TEN
        assert "short_code" not in found.json()["reservation"]
        moved = client.post(
            "/api/v1/reservations/change", json={"code": qr, "start": TEN_THIRTY}
        ).json()["reservation"]
        assert moved["slot_start"] == TEN_THIRTY
        assert slot_left(client, TEN) == 2 and slot_left(client, TEN_THIRTY) == 1
        # The old QR still names the same booking; the short code is unchanged.
        again = client.post("/api/v1/reservations/lookup", json={"code": qr}).json()
        assert again["reservation"]["slot_start"] == TEN_THIRTY
        cancelled = client.post("/api/v1/reservations/cancel", json={"code": short}).json()
        assert cancelled["reservation"]["state"] == "cancelled"
        assert "code" not in cancelled["reservation"]
        assert slot_left(client, TEN_THIRTY) == 2
        twice = client.post("/api/v1/reservations/cancel", json={"code": short})
        assert error(twice) == (409, "reservation_closed")

    def test_the_full_slot_refuses_and_a_cancel_frees_the_place(self, api) -> None:
        client, _, _ = api
        first = booked(client)
        booked(client)
        assert error(book(client)) == (409, "slot_full")
        client.post("/api/v1/reservations/cancel", json={"code": first["short_code"]})
        assert book(client).status_code == 201

    def test_times_that_are_not_slots_or_too_close_are_refused(self, api, clock) -> None:
        client, _, _ = api
        assert error(book(client, "2026-11-26T10:15:00+09:00")) == (422, "slot_unavailable")
        assert error(book(client, "2026-11-28T10:00:00+09:00")) == (422, "slot_unavailable")
        clock.set(datetime(2026, 11, 26, 9, 30, tzinfo=TOKYO))  # lead time is an hour
        assert error(book(client)) == (422, "slot_unavailable")
        assert book(client, "2026-11-26T11:00:00+09:00").status_code == 201

    def test_an_email_is_kept_only_for_a_reminder_and_checked(self, api) -> None:
        client, _, engine = api
        assert error(book(client, email="not-an-address")) == (422, "invalid_request")
        made = booked(client, email=EMAIL)
        assert made["reminder"] is True and EMAIL not in str(made)
        with engine.connect() as c:
            stored = c.execute(
                select(t.reservations.c.reminder_address, t.reservations.c.code_hash)
            ).all()
        assert stored[0].reminder_address == EMAIL
        assert made["short_code"] not in stored[0].code_hash  # only the hash is kept

    def test_tampered_codes_are_refused(self, api) -> None:
        client, tokens, _ = api
        qr = booked(client)["code"]
        head, payload, signature = qr.split(".")
        forged = f"{head}.{payload}.{'A' * len(signature)}"
        lookup = client.post("/api/v1/reservations/lookup", json={"code": forged})
        assert error(lookup) == (422, "code_tampered")
        cancel = client.post("/api/v1/reservations/cancel", json={"code": forged})
        assert error(cancel) == (422, "code_tampered")
        unknown = client.post("/api/v1/reservations/lookup", json={"code": "AAAA-AAAA"})
        assert error(unknown) == (404, "reservation_not_found")
        ticket = client.post("/api/v1/tickets", json={"code": forged}, headers=bearer(tokens.kiosk))
        assert error(ticket) == (422, "code_tampered")


class TestCheckIn:
    def test_early_within_the_window_then_once_only(self, api, clock) -> None:
        client, tokens, _ = api
        made = booked(client)
        kiosk = bearer(tokens.kiosk)
        clock.set(datetime(2026, 11, 26, 9, 29, tzinfo=TOKYO))
        early = client.post("/api/v1/tickets", json={"code": made["code"]}, headers=kiosk)
        assert error(early) == (422, "check_in_too_early")
        verify = client.post("/api/v1/codes/verify", json={"code": made["code"]}, headers=kiosk)
        assert error(verify) == (422, "check_in_too_early")
        clock.set(datetime(2026, 11, 26, 9, 31, tzinfo=TOKYO))
        issued = client.post("/api/v1/tickets", json={"code": made["code"]}, headers=kiosk)
        assert issued.status_code == 201, issued.text
        ticket = issued.json()["ticket"]
        assert (ticket["category_id"], ticket["priority"]) == ("mynumber", "reservation")
        reused = client.post("/api/v1/tickets", json={"code": made["code"]}, headers=kiosk)
        assert error(reused) == (409, "code_used")
        by_phone = client.post("/api/v1/tickets", json={"code": made["short_code"]}, headers=kiosk)
        assert error(by_phone) == (409, "code_used")
        listed = client.get("/api/v1/reservations", headers=bearer(tokens.clerk)).json()
        assert [(r["state"], r["ticket_id"]) for r in listed["reservations"]] == [
            ("checked_in", ticket["id"])
        ]

    def test_the_short_code_checks_in_at_a_counter(self, api, clock) -> None:
        client, tokens, _ = api
        made = booked(client)
        clock.set(datetime(2026, 11, 26, 10, 5, tzinfo=TOKYO))
        issued = client.post(
            "/api/v1/tickets", json={"code": made["short_code"]}, headers=bearer(tokens.clerk)
        )
        assert issued.status_code == 201, issued.text
        assert issued.json()["ticket"]["priority"] == "reservation"

    def test_late_after_the_grace_is_refused(self, api, clock) -> None:
        client, tokens, _ = api
        made = booked(client)
        clock.set(datetime(2026, 11, 26, 10, 15, tzinfo=TOKYO))
        late = client.post(
            "/api/v1/tickets", json={"code": made["short_code"]}, headers=bearer(tokens.kiosk)
        )
        # The QR expires with the grace too; the short code says why.
        assert error(late) == (422, "check_in_too_late")
        expired = client.post(
            "/api/v1/tickets", json={"code": made["code"]}, headers=bearer(tokens.kiosk)
        )
        assert error(expired) == (422, "code_expired")

    def test_a_no_show_is_listed_then_closed_out_and_its_email_deleted(self, api, clock) -> None:
        client, tokens, engine = api
        booked(client, email=EMAIL)
        booked(client, "2026-11-27T10:00:00+09:00", email=EMAIL)  # Friday's stays
        clock.set(datetime(2026, 11, 26, 10, 20, tzinfo=TOKYO))
        rows = client.get("/api/v1/reservations", headers=bearer(tokens.clerk)).json()
        assert [r["state"] for r in rows["reservations"]] == ["no_show"]
        clock.set(datetime(2026, 11, 26, 18, 1, tzinfo=TOKYO))  # after the day close
        summary = client.get(
            "/api/v1/reservations/summary",
            params={"from": "2026-11-26", "days": 2},
            headers=bearer(tokens.admin),
        ).json()["days"]
        thursday = next(d for d in summary if d["date"] == "2026-11-26")
        assert (thursday["booked"], thursday["no_show"]) == (0, 1)
        assert thursday["capacity"] == 2 * 13
        with engine.connect() as c:
            emails = c.execute(
                select(t.reservations.c.business_date, t.reservations.c.reminder_address).order_by(
                    t.reservations.c.business_date
                )
            ).all()
        assert [e.reminder_address for e in emails] == [None, EMAIL]


class TestDispatch:
    """A reservation's priority starts at its slot: early, it waits behind those already here."""

    def test_an_early_reservation_waits_for_its_slot_then_goes_first(self, api, clock) -> None:
        client, tokens, _ = api
        made = booked(client)
        kiosk, clerk = bearer(tokens.kiosk), bearer(tokens.clerk)

        def walk_in() -> dict[str, Any]:
            response = client.post(
                "/api/v1/tickets", json={"category_id": "mynumber"}, headers=kiosk
            )
            assert response.status_code == 201, response.text
            ticket: dict[str, Any] = response.json()["ticket"]
            return ticket

        def call() -> str:
            response = client.post(
                "/api/v1/counters/c8/call-next", json={"finish_current": True}, headers=clerk
            )
            assert response.status_code == 200, response.text
            number: str = response.json()["ticket"]["number"]
            return number

        clock.set(datetime(2026, 11, 26, 9, 20, tzinfo=TOKYO))
        first = walk_in()
        clock.set(datetime(2026, 11, 26, 9, 35, tzinfo=TOKYO))
        reserved = client.post("/api/v1/tickets", json={"code": made["code"]}, headers=kiosk)
        assert reserved.status_code == 201
        assert reserved.json()["ticket"]["ahead"] == 1  # the walk-in already here
        clock.set(datetime(2026, 11, 26, 9, 40, tzinfo=TOKYO))
        second = walk_in()
        third = walk_in()
        clock.set(datetime(2026, 11, 26, 9, 45, tzinfo=TOKYO))
        assert call() == first["number"]  # before 10:00 the reservation has no priority
        clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO))
        assert call() == reserved.json()["ticket"]["number"]  # at its slot, ahead of walk-ins
        assert call() == second["number"]
        assert call() == third["number"]

    def test_an_early_reservation_is_called_when_nobody_else_waits(self, api, clock) -> None:
        client, tokens, _ = api
        made = booked(client)
        clock.set(datetime(2026, 11, 26, 9, 35, tzinfo=TOKYO))
        reserved = client.post(
            "/api/v1/tickets", json={"code": made["code"]}, headers=bearer(tokens.kiosk)
        )
        called = client.post("/api/v1/counters/c8/call-next", headers=bearer(tokens.clerk))
        assert called.json()["ticket"]["number"] == reserved.json()["ticket"]["number"]


class TestEstimates:
    def test_walk_in_waits_include_the_bookings_still_to_come(self, api, clock) -> None:
        client, tokens, _ = api
        codes = [booked(client)["short_code"] for _ in range(2)]
        clock.set(datetime(2026, 11, 26, 9, 40, tzinfo=TOKYO))
        for _ in range(4):
            response = client.post(
                "/api/v1/tickets", json={"category_id": "mynumber"}, headers=bearer(tokens.kiosk)
            )
            assert response.status_code == 201

        def new_walk_in_wait() -> int:
            status = fresh_status(client)
            row = next(c for c in status["categories"] if c["id"] == "mynumber")
            minutes: int = row["estimated_wait_minutes"]
            return minutes

        with_bookings = new_walk_in_wait()
        for code in codes:
            client.post("/api/v1/reservations/cancel", json={"code": code})
        without = new_walk_in_wait()
        # Two 15-minute reservations due at 10:00 go ahead of a walk-in arriving now.
        assert with_bookings >= without + 20


class TestStaffAndOpenData:
    def test_staff_lists_need_their_roles(self, api) -> None:
        client, tokens, _ = api
        assert client.get("/api/v1/reservations").status_code == 401
        summary = client.get("/api/v1/reservations/summary", headers=bearer(tokens.clerk))
        assert summary.status_code == 403

    def test_statistics_separate_walk_ins_from_reservations(self, api, clock) -> None:
        client, tokens, _ = api
        made = booked(client)
        clock.set(datetime(2026, 11, 26, 9, 50, tzinfo=TOKYO))
        kiosk = bearer(tokens.kiosk)
        client.post("/api/v1/tickets", json={"category_id": "mynumber"}, headers=kiosk)
        client.post("/api/v1/tickets", json={"category_id": "certificates"}, headers=kiosk)
        client.post("/api/v1/tickets", json={"code": made["code"]}, headers=kiosk)
        stats = client.get(
            "/api/v1/reservations/stats",
            params={"by": "category", "from": "2026-11-26", "to": "2026-11-26"},
            headers=bearer(tokens.admin),
        ).json()
        walk_ins = {r["category"]: r["issued"] for r in stats["walk_in"]}
        reservations = {r["category"]: r["issued"] for r in stats["reservation"]}
        assert walk_ins == {"mynumber": 1, "certificates": 1}
        assert reservations == {"mynumber": 1}

    def test_slot_occupancy_has_no_personal_data(self, api) -> None:
        client, _, _ = api
        made = booked(client, email=EMAIL)
        response = client.get("/opendata/reservations.json", params={"from": "2026-11-26"})
        assert response.status_code == 200
        slot = next(s for s in response.json()["slots"] if s["start"] == TEN)
        assert (slot["category_id"], slot["capacity"], slot["booked"]) == ("mynumber", 2, 1)
        body = response.text
        for secret in (EMAIL, made["short_code"], made["code"]):
            assert secret not in body


@pytest.mark.slow
def test_concurrent_bookings_of_the_last_place_exactly_one_wins(database_url: str) -> None:
    """Two server processes on one database, twelve residents, one place left."""
    engine, _ = prepare(database_url, SystemClock())
    engine.dispose()
    with (
        server_process(database_url, secret_key=SECRET) as one,
        server_process(database_url, secret_key=SECRET) as two,
    ):
        days = httpx.get(f"{one}/api/v1/reserve/procedures/mynumber/days").json()["days"]
        day = next(d["date"] for d in days if not d["full"])
        slots = httpx.get(
            f"{one}/api/v1/reserve/procedures/mynumber/slots", params={"date": day}
        ).json()["slots"]
        start = next(s["start"] for s in slots if s["bookable"])
        body = {"category_id": "mynumber", "start": start}
        assert httpx.post(f"{one}/api/v1/reservations", json=body).status_code == 201
        results: list[int] = []
        barrier = threading.Barrier(12)

        def resident(index: int) -> None:
            base = (one, two)[index % 2]
            barrier.wait()
            response = httpx.post(f"{base}/api/v1/reservations", json=body, timeout=30)
            results.append(response.status_code)

        threads = [threading.Thread(target=resident, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [201] + [409] * 11
        left = httpx.get(
            f"{two}/api/v1/reserve/procedures/mynumber/slots", params={"date": day}
        ).json()["slots"]
        assert next(s["left"] for s in left if s["start"] == start) == 0
