"""Body limits (413), the pruning of office events at day close, and the kiosks' ticket scope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from support.server import Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT

from queue_server.adapters import tables as t
from queue_server.adapters.accounts import Accounts
from queue_server.service.ports import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPEN_MOMENT)


@pytest.fixture
def api(sqlite_url: str, clock: FakeClock) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    with app_client(sqlite_url, clock) as parts:
        yield parts


def too_large(response) -> None:
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "too_large"


def issue(client: TestClient, token: str) -> dict:
    response = client.post(
        "/api/v1/tickets", json={"category_id": "certificates"}, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    return response.json()["ticket"]


class TestBodyLimits:
    def test_a_large_health_report_is_refused_and_not_stored(self, api) -> None:
        client, tokens, engine = api
        report = {"printer": {"note": "x" * 10_000}}
        too_large(
            client.post("/api/v1/devices/me/health", json=report, headers=bearer(tokens.kiosk))
        )
        with engine.connect() as c:
            kinds = c.execute(select(t.office_events.c.type)).scalars().all()
        assert "device.health" not in kinds
        small = {"printer": {"online": True, "paper": "ok"}}
        ok = client.post("/api/v1/devices/me/health", json=small, headers=bearer(tokens.kiosk))
        assert ok.status_code == 200

    def test_a_large_print_report_is_refused(self, api) -> None:
        client, tokens, _ = api
        ticket = issue(client, tokens.kiosk)
        body = {"outcome": "failed", "printer_status": {"dump": "y" * 9000}}
        too_large(
            client.post(
                f"/api/v1/tickets/{ticket['id']}/print-outcome",
                json=body,
                headers=bearer(tokens.kiosk),
            )
        )

    def test_every_request_has_a_limit(self, api) -> None:
        client, tokens, _ = api
        big = b'{"category_id": "' + b"a" * (1024 * 1024 + 10) + b'"}'
        headers = {**bearer(tokens.kiosk), "Content-Type": "application/json"}
        too_large(client.post("/api/v1/tickets", content=big, headers=headers))

    def test_a_body_without_a_length_is_cut_at_the_limit(self, api) -> None:
        client, tokens, _ = api

        def chunks() -> Iterator[bytes]:
            yield b'{"printer": {"note": "'
            for _ in range(20):
                yield b"z" * 1000
            yield b'"}}'

        headers = {**bearer(tokens.kiosk), "Content-Type": "application/json"}
        too_large(client.post("/api/v1/devices/me/health", content=chunks(), headers=headers))


def close_days(client: TestClient, tokens: Tokens) -> None:
    """Any write of a later day closes the earlier ones (a health report: no office hours)."""
    for paper in ("a", "b"):
        report = {"printer": {"paper": paper}}
        client.post("/api/v1/devices/me/health", json=report, headers=bearer(tokens.kiosk))


class TestEventPruning:
    def test_day_close_keeps_what_learning_needs_and_drops_the_rest(self, api, clock) -> None:
        client, tokens, engine = api
        client.post(
            "/api/v1/devices/me/health",
            json={"printer": {"paper": "low"}},
            headers=bearer(tokens.kiosk),
        )
        issue(client, tokens.kiosk)
        client.post(
            "/api/v1/counters/c1/state", json={"state": "paused"}, headers=bearer(tokens.clerk)
        )
        client.post(
            "/api/v1/counters/c1/state", json={"state": "open"}, headers=bearer(tokens.clerk)
        )
        assert (
            client.post("/api/v1/counters/c1/call-next", headers=bearer(tokens.clerk)).status_code
            == 200
        )
        clock.advance(days=2)
        close_days(client, tokens)
        with engine.connect() as c:
            old = (
                c.execute(
                    select(t.office_events.c.type).where(
                        t.office_events.c.at < clock.now().replace(hour=0)
                    )
                )
                .scalars()
                .all()
            )
        assert sorted(set(old)) == ["counter.changed", "ticket.called"]
        clock.advance(days=91)
        close_days(client, tokens)
        with engine.connect() as c:
            left = c.execute(select(t.office_events.c.type)).scalars().all()
        assert "counter.changed" not in left and "ticket.called" not in left
        assert left  # today's events stay (realtime catch-up)


class TestDeviceScope:
    def test_a_kiosk_reports_only_on_its_own_tickets(self, api, clock) -> None:
        client, tokens, engine = api
        other = Accounts(engine, clock).add_device("kiosk-2", "kiosk")[1]
        mine = issue(client, tokens.kiosk)
        theirs = issue(client, other)
        by_staff = issue(client, tokens.clerk)
        report = {"outcome": "printed"}
        path = "/api/v1/tickets/{}/print-outcome"
        ok = client.post(path.format(mine["id"]), json=report, headers=bearer(tokens.kiosk))
        assert ok.status_code == 200
        for ticket in (theirs, by_staff):
            refused = client.post(
                path.format(ticket["id"]), json=report, headers=bearer(tokens.kiosk)
            )
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "not_your_ticket"
        staff = client.post(path.format(theirs["id"]), json=report, headers=bearer(tokens.clerk))
        assert staff.status_code == 200


class TestResidentRateLimits:
    def test_preapplications_per_address_are_limited(self, sqlite_url: str) -> None:
        with app_client(
            sqlite_url, FakeClock(OPEN_MOMENT), preapplications_per_hour=3, secret_key="k" * 40
        ) as (client, _, _):
            body = {"category_id": "certificates", "form": "juminhyo", "fields": {}}
            statuses = [
                client.post("/api/v1/preapplications", json=body).status_code for _ in range(4)
            ]
            assert statuses == [422, 422, 422, 429]  # counted before validation
            refused = client.post("/api/v1/preapplications", json=body)
            assert refused.json()["error"]["code"] == "rate_limited"
            assert 3500 <= int(refused.headers["retry-after"]) <= 3600

    def test_public_reads_are_limited_but_not_authenticated_ones(self, sqlite_url: str) -> None:
        with app_client(sqlite_url, FakeClock(OPEN_MOMENT), public_reads_per_minute=5) as (
            client,
            tokens,
            _,
        ):
            statuses = [client.get("/api/v1/office").status_code for _ in range(6)]
            assert statuses == [200] * 5 + [429]
            assert client.get("/api/v1/queue", headers=bearer(tokens.clerk)).status_code == 200
            assert client.get("/apply").status_code == 200  # pages are not API reads

    def test_a_window_ends(self) -> None:
        from queue_server.api.limits import ClientRateLimit

        now = [0.0]
        limiter = ClientRateLimit(None, 1, 1, clock=lambda: now[0])  # type: ignore[arg-type]
        assert limiter.take("public_read", "10.0.0.1") == 0
        assert limiter.take("public_read", "10.0.0.1") > 0
        assert limiter.take("public_read", "10.0.0.2") == 0
        now[0] = 61.0
        assert limiter.take("public_read", "10.0.0.1") == 0


def refused(response) -> int:
    """The 429 answer: the code pages translate, and when to try again."""
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["retry_after"] == int(response.headers["retry-after"])
    return int(response.headers["retry-after"])


class TestReservationAndNoticeRateLimits:
    def test_bookings_changes_and_cancels_share_one_budget_per_address(
        self, sqlite_url: str
    ) -> None:
        with app_client(
            sqlite_url, FakeClock(OPEN_MOMENT), reservations_per_hour=3, secret_key="k" * 40
        ) as (client, _, _):
            start = "2026-12-10T10:00:00+09:00"
            booked = client.post(
                "/api/v1/reservations", json={"category_id": "mynumber", "start": start}
            )
            assert booked.status_code == 201, booked.text
            code = booked.json()["reservation"]["short_code"]
            other = "2026-12-10T10:30:00+09:00"
            moved = client.post("/api/v1/reservations/change", json={"code": code, "start": other})
            assert moved.status_code == 200, moved.text
            gone = client.post("/api/v1/reservations/cancel", json={"code": code})
            assert gone.status_code == 200, gone.text
            again = client.post(
                "/api/v1/reservations", json={"category_id": "mynumber", "start": start}
            )
            assert 3500 <= refused(again) <= 3600
            assert refused(client.post("/api/v1/reservations/cancel", json={"code": code}))
            # Look-ups have their own budget; staff with a token are not counted.
            lookup = client.post("/api/v1/reservations/lookup", json={"code": code})
            assert lookup.status_code == 200, lookup.text

    def test_code_lookups_are_limited(self, sqlite_url: str) -> None:
        with app_client(
            sqlite_url, FakeClock(OPEN_MOMENT), reservation_lookups_per_hour=2, secret_key="k" * 40
        ) as (client, _, _):
            guesses = [
                client.post("/api/v1/reservations/lookup", json={"code": f"K7MQ-4RX{c}"})
                for c in "ACD"
            ]
            assert [g.status_code for g in guesses[:2]] == [404, 404]
            refused(guesses[2])

    def test_subscribing_and_unsubscribing_are_limited(
        self, sqlite_url: str, tmp_path: Path
    ) -> None:
        with app_client(
            sqlite_url,
            FakeClock(OPEN_MOMENT),
            notices_per_hour=3,
            smtp_url="smtp://127.0.0.1:9",
            data_dir=tmp_path,
        ) as (client, tokens, _):
            ticket = issue(client, tokens.kiosk)
            body = {
                "public_id": ticket["public_id"],
                "channel": "email",
                "address": "canary-limit@example.jp",
            }
            made = client.post("/api/v1/notify/subscribe", json=body)
            assert made.status_code == 201, made.text
            token = made.json()["subscription"]["token"]
            assert client.post("/api/v1/notify/unsubscribe", json={"token": token}).is_success
            assert client.get(f"/notify/unsubscribe/{token}").is_success
            late = client.post("/api/v1/notify/subscribe", json=body)
            refused(late)
            assert "canary-limit" not in late.text
            refused(client.get(f"/notify/unsubscribe/{token}"))
