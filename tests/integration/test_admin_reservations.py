"""The admin's reservations: booking rules and the calendar changed through the office-change
path (validation, 409, audit log), and bookings per slot as JSON and CSV without contact data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.server import Tokens, app_client, bearer
from tests_constants import TOKYO

from queue_server.adapters.office_file import DEMO_OFFICE
from queue_server.service.ports import FakeClock

CANARY = "canary.admin@example.jp"
DAY = "2026-11-26"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 9, 0, tzinfo=TOKYO))


@pytest.fixture
def api(sqlite_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[tuple[TestClient, Tokens]]:
    with app_client(sqlite_url, clock, data_dir=tmp_path, secret_key="k" * 40) as (c, tokens, _):
        yield c, tokens


def rules(client: TestClient, tokens: Tokens) -> dict[str, Any]:
    response = client.get("/api/v1/admin/reservation-rules", headers=bearer(tokens.admin))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def capacities(client: TestClient, category: str = "mynumber") -> set[int]:
    slots = client.get(f"/api/v1/reserve/procedures/{category}/slots", params={"date": DAY})
    return {s["capacity"] for s in slots.json()["slots"]}


def audit(client: TestClient, tokens: Tokens, action: str) -> list[dict[str, Any]]:
    response = client.get(
        "/api/v1/admin/audit",
        params={"action": action, "from": "2026-11-25", "to": "2026-11-25"},
        headers=bearer(tokens.admin),
    )
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


class TestBookingRules:
    def test_a_rule_change_goes_through_the_office_path_and_the_audit_log(self, api) -> None:
        client, tokens = api
        uploaded = client.put(
            "/api/v1/admin/office",
            content=DEMO_OFFICE.read_text(encoding="utf-8").encode(),
            headers=bearer(tokens.admin),
        )
        assert uploaded.status_code == 200, uploaded.text
        shown = rules(client, tokens)
        mynumber = next(c for c in shown["categories"] if c["id"] == "mynumber")
        assert mynumber["reservable"] is True
        assert mynumber["reservation"]["per_slot"] == 2
        assert capacities(client) == {2}
        section = {**mynumber["reservation"], "per_slot": 3, "hours": ["09:00-12:00"]}
        changed = client.put(
            "/api/v1/admin/reservation-rules/mynumber",
            json={"reservable": True, "reservation": section, "version": shown["version"]},
            headers=bearer(tokens.admin),
        )
        assert changed.status_code == 200, changed.text
        assert capacities(client) == {3}
        slots = client.get(
            "/api/v1/reserve/procedures/mynumber/slots", params={"date": DAY}
        ).json()["slots"]
        assert max(s["end"] for s in slots) == f"{DAY}T12:00:00+09:00"
        [entry] = audit(client, tokens, "office.reservation_changed")
        assert entry["actor"] == "staff:admin" and "category=mynumber" in entry["detail"]
        # The downloaded office file has the change and keeps the uploaded file's comments.
        text = client.get("/api/v1/admin/office.toml", headers=bearer(tokens.admin)).text
        assert "per_slot = 3" in text and "# Visit reservations" in text

    def test_the_office_parser_refuses_a_bad_rule_and_nothing_changes(self, api) -> None:
        client, tokens = api
        for section in (
            {"per_slot": 2, "counter_share": 0.5},  # both capacities at once
            {"hours": ["25:00-26:00"]},
            {"slot_minutes": 1},
        ):
            refused = client.put(
                "/api/v1/admin/reservation-rules/mynumber",
                json={"reservable": True, "reservation": section},
                headers=bearer(tokens.admin),
            )
            assert refused.status_code == 422, refused.text
        assert capacities(client) == {2}
        assert audit(client, tokens, "office.reservation_changed") == []

    def test_a_change_made_on_an_older_version_is_refused(self, api) -> None:
        client, tokens = api
        old = rules(client, tokens)["version"]
        client.put(
            "/api/v1/admin/calendar",
            json={"closed_dates": {"2026-12-28": "システム更新"}, "version": old},
            headers=bearer(tokens.admin),
        ).raise_for_status()
        late = client.put(
            "/api/v1/admin/reservation-rules/mynumber",
            json={"reservable": False, "version": old},
            headers=bearer(tokens.admin),
        )
        assert late.status_code == 409
        assert late.json()["error"]["code"] == "office_changed"
        assert capacities(client) == {2}

    def test_closed_dates_and_special_openings_change_the_slots(self, api) -> None:
        client, tokens = api
        changed = client.put(
            "/api/v1/admin/calendar",
            json={"closed_dates": {DAY: "システム更新"}, "special_openings": {}},
            headers=bearer(tokens.admin),
        )
        assert changed.status_code == 200, changed.text
        assert capacities(client) == set()
        shown = rules(client, tokens)
        assert shown["closed_dates"] == {DAY: "システム更新"}
        assert shown["special_openings"] == {}
        assert len(audit(client, tokens, "office.calendar_changed")) == 1

    def test_clerks_cannot_change_rules(self, api) -> None:
        client, tokens = api
        refused = client.put(
            "/api/v1/admin/reservation-rules/mynumber",
            json={"reservable": False},
            headers=bearer(tokens.clerk),
        )
        assert refused.status_code == 403


class TestBookingsPerSlot:
    def test_counts_per_slot_as_json_and_csv_without_contact_data(self, api, clock) -> None:
        client, tokens = api
        made = []
        for start, email in (("10:00", CANARY), ("10:00", None), ("10:30", None)):
            booked = client.post(
                "/api/v1/reservations",
                json={
                    "category_id": "mynumber",
                    "start": f"{DAY}T{start}:00+09:00",
                    "email": email,
                },
            )
            assert booked.status_code == 201, booked.text
            made.append(booked.json()["reservation"])
        client.post("/api/v1/reservations/cancel", json={"code": made[2]["short_code"]})
        # The next morning: the first checks in, the second never comes (past its grace).
        clock.set(datetime(2026, 11, 26, 9, 45, tzinfo=TOKYO))
        issued = client.post(
            "/api/v1/tickets", json={"code": made[0]["code"]}, headers=bearer(tokens.kiosk)
        )
        assert issued.status_code == 201, issued.text
        clock.set(datetime(2026, 11, 26, 10, 20, tzinfo=TOKYO))

        params = {"from": DAY, "to": DAY}
        answer = client.get(
            "/api/v1/admin/reservations", params=params, headers=bearer(tokens.admin)
        )
        assert answer.status_code == 200, answer.text
        rows = {(r["category_id"], r["slot_start"]): r for r in answer.json()["rows"]}
        ten = rows[("mynumber", f"{DAY}T10:00:00+09:00")]
        assert (ten["capacity"], ten["booked"], ten["checked_in"], ten["no_show"]) == (2, 2, 1, 1)
        half = rows[("mynumber", f"{DAY}T10:30:00+09:00")]
        assert (half["booked"], half["cancelled"]) == (0, 1)
        assert rows[("mynumber", f"{DAY}T09:00:00+09:00")]["booked"] == 0  # empty slots too

        exported = client.get(
            "/api/v1/admin/reservations",
            params={**params, "format": "csv"},
            headers=bearer(tokens.admin),
        )
        assert exported.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
        assert len(table) == len(rows)
        assert {"date", "slot_start", "capacity", "booked", "checked_in", "no_show"} <= set(
            table[0]
        )
        for body in (answer.text, exported.text):
            assert CANARY not in body and made[0]["short_code"] not in body
        refused = client.get("/api/v1/admin/reservations", headers=bearer(tokens.clerk))
        assert refused.status_code == 403
