"""The HTTP API end to end on real databases: lifecycle, errors, auth, day close."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from support.server import Tokens, app_client, bearer, fresh_status
from tests_constants import OPEN_MOMENT, TOKYO

from queue_server.adapters import tables as t
from queue_server.service.ports import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPEN_MOMENT)


@pytest.fixture
def api(database_url: str, clock: FakeClock) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    with app_client(database_url, clock) as parts:
        yield parts


def issue(client: TestClient, tokens: Tokens, category: str = "certificates", **extra: str) -> dict:
    response = client.post(
        "/api/v1/tickets", json={"category_id": category, **extra}, headers=bearer(tokens.kiosk)
    )
    assert response.status_code == 201, response.text
    return response.json()["ticket"]


def act(client: TestClient, tokens: Tokens, ticket_id: int, action: str, body: dict | None = None):
    return client.post(
        f"/api/v1/tickets/{ticket_id}/{action}", json=body, headers=bearer(tokens.clerk)
    )


def call_next(client: TestClient, tokens: Tokens, counter: str = "c1"):
    return client.post(f"/api/v1/counters/{counter}/call-next", headers=bearer(tokens.clerk))


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {
            name: c.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in (
                ("tickets", t.tickets),
                ("transitions", t.ticket_transitions),
                ("events", t.office_events),
                ("numbers", t.number_sequences),
            )
        }


def ticket_row(engine: Engine, ticket_id: int) -> dict:
    with engine.connect() as c:
        return dict(c.execute(select(t.tickets).where(t.tickets.c.id == ticket_id)).one()._mapping)


class TestIssuing:
    def test_ticket_has_the_contract_fields(self, api) -> None:
        client, tokens, _ = api
        ticket = issue(client, tokens)
        assert ticket["number"] == "A-001"
        assert ticket["category_id"] == "certificates"
        assert ticket["issued_at"] == "2026-11-26T10:00:00+09:00"
        assert ticket["ahead"] == 0
        assert ticket["estimated_wait_minutes"] == 0
        assert ticket["status_url"].endswith("/t/" + ticket["public_id"])
        assert len(ticket["public_id"]) >= 20
        assert isinstance(ticket["id"], int)

    def test_numbers_count_up_per_category_and_ahead_grows(self, api) -> None:
        client, tokens, _ = api
        numbers = [issue(client, tokens)["number"] for _ in range(7)]
        other = issue(client, tokens, "koseki")
        eighth = issue(client, tokens)
        assert numbers == [f"A-00{i}" for i in range(1, 8)]
        assert other["number"] == "B-001"
        assert eighth["number"] == "A-008"
        # Five counters serve certificates (one of them prefers koseki): the 8th waits.
        assert eighth["ahead"] == 7
        assert eighth["estimated_wait_minutes"] > 0

    def test_daily_cap_closes_the_category_for_the_day(self, api, clock: FakeClock) -> None:
        client, tokens, engine = api
        with engine.begin() as c:  # as if 120 MyNumber tickets were issued already today
            c.execute(
                t.number_sequences.insert().values(
                    office_id="shirakawa-shimin",
                    category_id="mynumber",
                    business_date=OPEN_MOMENT.date(),
                    last_number=120,
                )
            )
        before = table_counts(engine)
        response = client.post(
            "/api/v1/tickets", json={"category_id": "mynumber"}, headers=bearer(tokens.kiosk)
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "daily_cap_reached"
        assert response.json()["error"]["message_ja"] == "本日の受付は終了しました。"
        assert table_counts(engine) == before
        status = fresh_status(client)
        mynumber = next(c for c in status["categories"] if c["id"] == "mynumber")
        assert (mynumber["open"], mynumber["closed_reason"]) == (False, "daily_cap_reached")

    def test_end_of_the_number_range_is_refused_cleanly(self, api) -> None:
        client, tokens, engine = api
        with engine.begin() as c:  # moving has no cap and numbers 1-299
            c.execute(
                t.number_sequences.insert().values(
                    office_id="shirakawa-shimin",
                    category_id="moving",
                    business_date=OPEN_MOMENT.date(),
                    last_number=298,
                )
            )
        assert issue(client, tokens, "moving")["number"] == "C-299"
        response = client.post(
            "/api/v1/tickets", json={"category_id": "moving"}, headers=bearer(tokens.kiosk)
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "number_range_exhausted"

    def test_closed_office_and_closed_category(self, api, clock: FakeClock) -> None:
        client, tokens, _ = api
        clock.set(OPEN_MOMENT.replace(hour=16, minute=45))
        response = client.post(
            "/api/v1/tickets", json={"category_id": "mynumber"}, headers=bearer(tokens.kiosk)
        )
        assert (response.status_code, response.json()["error"]["code"]) == (409, "office_closed")
        assert issue(client, tokens, "certificates")["number"] == "A-001"
        clock.set(OPEN_MOMENT.replace(hour=7))
        response = client.post(
            "/api/v1/tickets", json={"category_id": "certificates"}, headers=bearer(tokens.kiosk)
        )
        assert response.status_code == 409
        assert "outside_hours" in response.json()["error"]["message"]

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"category_id": "nope"}, 404, "not_found"),
            ({"category_id": "certificates", "language": "xx"}, 422, "unsupported_language"),
            ({"category_id": "certificates", "priority": "vip"}, 422, "validation_error"),
            ({"category_id": "certificates", "extra": 1}, 422, "validation_error"),
            ({}, 422, "validation_error"),
        ],
    )
    def test_bad_requests_change_nothing(self, api, body: dict, status: int, code: str) -> None:
        client, tokens, engine = api
        before = table_counts(engine)
        response = client.post("/api/v1/tickets", json=body, headers=bearer(tokens.kiosk))
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
        assert response.json()["error"]["message"]
        assert table_counts(engine) == before

    def test_malformed_json(self, api) -> None:
        client, tokens, engine = api
        before = table_counts(engine)
        response = client.post(
            "/api/v1/tickets",
            content=b'{"category_id": ',
            headers={**bearer(tokens.kiosk), "content-type": "application/json"},
        )
        assert (response.status_code, response.json()["error"]["code"]) == (400, "malformed_json")
        assert table_counts(engine) == before


class TestAuth:
    @pytest.mark.parametrize(
        "header", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}]
    )
    def test_missing_or_invalid_token(self, api, header: dict) -> None:
        client, _, engine = api
        before = table_counts(engine)
        response = client.post(
            "/api/v1/tickets", json={"category_id": "certificates"}, headers=header
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert table_counts(engine) == before

    def test_wrong_roles(self, api) -> None:
        client, tokens, engine = api
        before = table_counts(engine)
        board = client.post(
            "/api/v1/tickets", json={"category_id": "certificates"}, headers=bearer(tokens.board)
        )
        kiosk_calls = client.post("/api/v1/counters/c1/call-next", headers=bearer(tokens.kiosk))
        assert (board.status_code, kiosk_calls.status_code) == (403, 403)
        assert board.json()["error"]["code"] == "forbidden"
        assert table_counts(engine) == before

    def test_password_login_gives_a_working_token(self, api) -> None:
        client, _, _ = api
        bad = client.post(
            "/api/v1/auth/token", data={"username": "clerk0", "password": "wrong-one"}
        )
        assert (bad.status_code, bad.json()["error"]["code"]) == (401, "invalid_credentials")
        good = client.post(
            "/api/v1/auth/token", data={"username": "clerk0", "password": "clerk-password-1"}
        )
        assert good.status_code == 200 and good.json()["role"] == "clerk"
        response = call_next(client, Tokens(clerks=[good.json()["access_token"]]))
        assert response.status_code == 204

    def test_staff_token_expires(self, api, clock: FakeClock) -> None:
        client, _, _ = api
        token = client.post(
            "/api/v1/auth/token", data={"username": "clerk0", "password": "clerk-password-1"}
        ).json()
        clock.advance(hours=13)
        response = client.post(
            "/api/v1/counters/c1/call-next", headers=bearer(token["access_token"])
        )
        assert response.status_code == 401


class TestLifecycle:
    def test_call_start_finish(self, api) -> None:
        client, tokens, engine = api
        ticket = issue(client, tokens)
        called = call_next(client, tokens).json()["ticket"]
        assert (called["id"], called["state"], called["counter_id"], called["counter_number"]) == (
            ticket["id"],
            "called",
            "c1",
            1,
        )
        assert act(client, tokens, ticket["id"], "start").json()["ticket"]["state"] == "serving"
        assert act(client, tokens, ticket["id"], "finish").json()["ticket"]["state"] == "done"
        with engine.connect() as c:
            actions = [
                r.action
                for r in c.execute(
                    select(t.ticket_transitions.c.action)
                    .where(t.ticket_transitions.c.ticket_id == ticket["id"])
                    .order_by(t.ticket_transitions.c.id)
                )
            ]
        assert actions == ["issue", "call", "start", "finish"]

    def test_call_next_follows_counter_priority_then_ticket_priority_then_age(
        self, api, clock: FakeClock
    ) -> None:
        client, tokens, _ = api
        old_koseki = issue(client, tokens, "koseki")
        clock.advance(minutes=1)
        cert_1 = issue(client, tokens, "certificates")
        clock.advance(minutes=1)
        cert_assist = issue(client, tokens, "certificates", priority="assistance")
        # Counter 3 serves koseki first, then certificates.
        assert call_next(client, tokens, "c3").json()["ticket"]["id"] == old_koseki["id"]
        # Counter 1 serves certificates: assistance goes before the older normal ticket.
        assert call_next(client, tokens, "c1").json()["ticket"]["id"] == cert_assist["id"]
        assert call_next(client, tokens, "c2").json()["ticket"]["id"] == cert_1["id"]
        assert call_next(client, tokens, "c4").status_code == 204

    def test_busy_counter_must_finish_first(self, api) -> None:
        client, tokens, _ = api
        issue(client, tokens)
        issue(client, tokens)
        assert call_next(client, tokens).status_code == 200
        response = call_next(client, tokens)
        assert (response.status_code, response.json()["error"]["code"]) == (409, "counter_busy")

    def test_next_please_finishes_the_current_ticket_first(self, api) -> None:
        client, tokens, engine = api
        first, second = issue(client, tokens), issue(client, tokens)
        call_next(client, tokens)
        response = client.post(
            "/api/v1/counters/c1/call-next",
            json={"finish_current": True},
            headers=bearer(tokens.clerk),
        )
        assert response.json()["ticket"]["id"] == second["id"]
        assert ticket_row(engine, first["id"])["state"] == "done"

    def test_call_a_specific_ticket_out_of_order(self, api) -> None:
        client, tokens, _ = api
        issue(client, tokens)
        second = issue(client, tokens)
        called = act(client, tokens, second["id"], "call", {"counter_id": "c2"}).json()["ticket"]
        assert (called["number"], called["counter_id"]) == ("A-002", "c2")
        other = issue(client, tokens, "moving")
        refused = act(client, tokens, other["id"], "call", {"counter_id": "c1"})
        assert (refused.status_code, refused.json()["error"]["code"]) == (
            409,
            "category_not_served",
        )

    def test_recall_is_counted(self, api) -> None:
        client, tokens, _ = api
        ticket = issue(client, tokens)
        call_next(client, tokens)
        act(client, tokens, ticket["id"], "recall")
        assert act(client, tokens, ticket["id"], "recall").json()["ticket"]["recall_count"] == 2
        recent = fresh_status(client)["recent_calls"]
        assert [r["recall"] for r in recent] == [True, True, False]

    def test_no_show_and_return(self, api) -> None:
        client, tokens, _ = api
        first = issue(client, tokens)
        second = issue(client, tokens)
        call_next(client, tokens)
        assert act(client, tokens, first["id"], "no-show").json()["ticket"]["state"] == "no_show"
        back = act(client, tokens, first["id"], "return").json()["ticket"]
        assert (back["state"], back["ahead"]) == ("issued", 0)  # its original place: first again
        assert call_next(client, tokens).json()["ticket"]["id"] == first["id"]
        assert second["id"] != first["id"]

    def test_transfer_keeps_number_and_moves_section(self, api) -> None:
        client, tokens, _ = api
        ticket = issue(client, tokens, "moving")
        call_next(client, tokens, "c4")
        moved = act(client, tokens, ticket["id"], "transfer", {"category_id": "insurance"}).json()[
            "ticket"
        ]
        assert (moved["number"], moved["category_id"], moved["state"]) == (
            "C-001",
            "insurance",
            "issued",
        )
        called = call_next(client, tokens, "c6").json()["ticket"]
        assert (called["number"], called["counter_id"]) == ("C-001", "c6")
        bad = act(client, tokens, ticket["id"], "transfer", {"category_id": "nope"})
        assert bad.status_code == 404

    def test_hold_and_resume(self, api) -> None:
        client, tokens, _ = api
        ticket = issue(client, tokens)
        call_next(client, tokens)
        act(client, tokens, ticket["id"], "start")
        assert act(client, tokens, ticket["id"], "hold").json()["ticket"]["state"] == "on_hold"
        # The counter is free for the next visitor while the first one fetches a document.
        nxt = issue(client, tokens)
        assert call_next(client, tokens).json()["ticket"]["id"] == nxt["id"]
        busy = act(client, tokens, ticket["id"], "resume")
        assert (busy.status_code, busy.json()["error"]["code"]) == (409, "counter_busy")
        act(client, tokens, nxt["id"], "finish")
        assert act(client, tokens, ticket["id"], "resume").json()["ticket"]["state"] == "serving"

    def test_cancel(self, api) -> None:
        client, tokens, _ = api
        ticket = issue(client, tokens)
        assert act(client, tokens, ticket["id"], "cancel").json()["ticket"]["state"] == "cancelled"
        assert call_next(client, tokens).status_code == 204

    @pytest.mark.parametrize(
        ("steps", "action", "body"),
        [
            ([], "start", None),
            ([], "finish", None),
            ([], "hold", None),
            ([], "transfer", {"category_id": "koseki"}),
            (["call"], "resume", None),
            (["call", "finish"], "cancel", None),
            (["call", "finish"], "return", None),
        ],
    )
    def test_illegal_transitions_are_409_and_change_nothing(self, api, steps, action, body) -> None:
        client, tokens, engine = api
        ticket = issue(client, tokens)
        for step in steps:
            if step == "call":
                call_next(client, tokens)
            else:
                act(client, tokens, ticket["id"], step)
        before = (table_counts(engine), ticket_row(engine, ticket["id"]))
        response = act(client, tokens, ticket["id"], action, body)
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "illegal_transition"
        assert "cannot" in error["message"] and "A-001" in error["message"]
        assert (table_counts(engine), ticket_row(engine, ticket["id"])) == before

    def test_unknown_ticket_and_action(self, api) -> None:
        client, tokens, _ = api
        assert act(client, tokens, 999, "start").json()["error"]["code"] == "not_found"
        assert act(client, tokens, 1, "explode").json()["error"]["code"] == "unknown_action"
        assert (
            client.post("/api/v1/counters/c99/call-next", headers=bearer(tokens.clerk)).status_code
            == 404
        )


class TestPublicViews:
    def test_status_has_no_personal_or_internal_data(self, api) -> None:
        client, tokens, _ = api
        ticket = issue(client, tokens)
        call_next(client, tokens)
        status = fresh_status(client)
        assert status["seq"] == 2
        text = str(status)
        assert ticket["public_id"] not in text
        cert = next(c for c in status["categories"] if c["id"] == "certificates")
        assert cert["called"][0]["number"] == "A-001" and cert["called"][0]["counter_number"] == 1
        assert next(c for c in status["counters"] if c["id"] == "c1")["ticket"]["number"] == "A-001"

    def test_ticket_by_public_id(self, api) -> None:
        client, tokens, _ = api
        issue(client, tokens)
        ticket = issue(client, tokens)
        public = client.get(f"/api/v1/tickets/by-public-id/{ticket['public_id']}").json()["ticket"]
        assert (public["number"], public["state"], public["ahead"]) == ("A-002", "issued", 1)
        assert "id" not in public and "public_id" not in public
        page = client.get(f"/t/{ticket['public_id']}")  # the page itself is tested in Chromium
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert client.get("/api/v1/tickets/by-public-id/unknown").status_code == 404

    def test_office_lists_categories_in_all_languages_and_hours(self, api) -> None:
        client, _, _ = api
        office = client.get("/api/v1/office").json()
        assert office["open"] is True and office["hours_today"] == "08:30-17:15"
        assert len(office["categories"]) == 6
        assert office["categories"][0]["names"]["ja-easy"]
        assert office["languages"] == ["ja", "en", "zh-Hans", "ko", "vi", "pt", "ja-easy"]
        assert any(d["reason"] == "年末年始" for d in office["closed_days"])

    def test_docs_are_served(self, api) -> None:
        client, _, _ = api
        assert client.get("/docs").status_code == 200
        paths = client.get("/openapi.json").json()["paths"]
        assert "/api/v1/counters/{counter_id}/call-next" in paths


class TestDayClose:
    def test_rollover_at_local_midnight(self, api, clock: FakeClock) -> None:
        client, tokens, engine = api
        waiting = issue(client, tokens)
        clock.set(datetime(2026, 11, 26, 23, 59, 59, tzinfo=TOKYO))
        # Just before midnight in Tokyo (14:59 UTC) it is still the 26th.
        assert fresh_status(client)["business_date"] == "2026-11-26"
        clock.set(datetime(2026, 11, 27, 8, 30, tzinfo=TOKYO))
        status = fresh_status(client)
        assert status["business_date"] == "2026-11-27"
        assert all(c["waiting"] == 0 for c in status["categories"])
        assert ticket_row(engine, waiting["id"])["state"] == "cancelled"
        assert issue(client, tokens)["number"] == "A-001"  # numbering starts again

    def test_day_close_time_closes_tickets_and_deletes_personal_data(
        self, api, clock: FakeClock
    ) -> None:
        client, tokens, engine = api
        ticket = issue(client, tokens)
        service = client.app.state.container.service
        service.attach(ticket["id"], "request", {"name": "テスト 花子", "address": "白川市1-2-3"})
        assert service.attachments(ticket["id"])[0]["data"]["name"] == "テスト 花子"
        clock.set(OPEN_MOMENT.replace(hour=17, minute=59))
        assert service.close_day_if_due() is False
        clock.set(OPEN_MOMENT.replace(hour=18, minute=0))
        assert service.close_day_if_due() is True
        assert service.close_day_if_due() is False
        with engine.connect() as c:
            assert (
                c.execute(select(func.count()).select_from(t.ticket_attachments)).scalar_one() == 0
            )
            payloads = [r.payload for r in c.execute(select(t.office_events.c.payload))]
        assert ticket_row(engine, ticket["id"])["state"] == "cancelled"
        assert payloads[-1]["type"] == "day.closed"
        assert "テスト" not in str(payloads)

    def test_return_is_refused_after_the_day_closed(self, api, clock: FakeClock) -> None:
        client, tokens, _ = api
        ticket = issue(client, tokens)
        call_next(client, tokens)
        act(client, tokens, ticket["id"], "no-show")
        clock.advance(days=1)
        assert act(client, tokens, ticket["id"], "return").status_code == 409


def test_every_transition_is_one_event_with_increasing_seq(api) -> None:
    client, tokens, engine = api
    ticket = issue(client, tokens)
    call_next(client, tokens)
    act(client, tokens, ticket["id"], "recall")
    act(client, tokens, ticket["id"], "finish")
    with engine.connect() as c:
        rows = c.execute(
            select(t.office_events.c.seq, t.office_events.c.type).order_by(t.office_events.c.seq)
        ).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert [r.type for r in rows] == [
        "ticket.issued",
        "ticket.called",
        "ticket.recalled",
        "ticket.finished",
    ]


def test_learnt_service_time_raises_estimates(api, clock: FakeClock) -> None:
    client, tokens, _ = api
    for _ in range(6):
        ticket = issue(client, tokens, "tax")
        call_next(client, tokens, "c7")
        clock.advance(minutes=20)
        act(client, tokens, ticket["id"], "finish")
    for _ in range(3):
        issue(client, tokens, "tax")
    status = fresh_status(client)
    tax = next(c for c in status["categories"] if c["id"] == "tax")
    # Prior 5 min per ticket blended with six 20-minute services is well above the prior alone.
    assert tax["estimated_wait_minutes"] > 3 * 5 / 2
