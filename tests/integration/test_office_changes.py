"""Office uploads: refused when they would strand live tickets; the file round-trips unchanged."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from support.server import Tokens, app_client, bearer, fresh_status
from tests_constants import OPEN_MOMENT

from queue_server.adapters.office_file import DEMO_OFFICE, parse_office, read_office_file
from queue_server.adapters.office_toml import dumps
from queue_server.api.app import create_app
from queue_server.domain.errors import InvalidConfiguration
from queue_server.service.ports import FakeClock
from queue_server.settings import ServerSettings


@pytest.fixture
def api(database_url: str) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    with app_client(database_url, FakeClock(OPEN_MOMENT)) as parts:
        yield parts


def without_category(raw: dict[str, Any], category: str) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    raw["categories"] = [c for c in raw["categories"] if c["id"] != category]
    for counter in raw["counters"]:
        counter["categories"] = [c for c in counter["categories"] if c != category]
    raw["counters"] = [c for c in raw["counters"] if c["categories"]]
    return raw


def without_counter(raw: dict[str, Any], counter: str) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    raw["counters"] = [c for c in raw["counters"] if c["id"] != counter]
    return raw


def upload(client: TestClient, tokens: Tokens, text: str):
    return client.put(
        "/api/v1/admin/office", content=text.encode("utf-8"), headers=bearer(tokens.admin)
    )


def issue(client: TestClient, tokens: Tokens, category: str) -> None:
    response = client.post(
        "/api/v1/tickets", json={"category_id": category}, headers=bearer(tokens.kiosk)
    )
    assert response.status_code == 201, response.text


class TestLiveTicketsAreProtected:
    def test_removing_a_category_with_waiting_tickets_is_refused(self, api) -> None:
        client, tokens, _ = api
        issue(client, tokens, "tax")
        refused = upload(
            client, tokens, dumps(without_category(read_office_file(DEMO_OFFICE), "tax"))
        )
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["code"] == "office_change_conflict"
        assert "tax" in error["message"] and error["message_ja"]
        assert client.get("/api/v1/status").status_code == 200
        assert any(c["id"] == "tax" for c in client.get("/api/v1/office").json()["categories"])

    def test_removing_a_counter_holding_a_called_ticket_is_refused(self, api) -> None:
        client, tokens, _ = api
        issue(client, tokens, "certificates")
        called = client.post("/api/v1/counters/c1/call-next", headers=bearer(tokens.clerk))
        assert called.status_code == 200
        refused = upload(
            client, tokens, dumps(without_counter(read_office_file(DEMO_OFFICE), "c1"))
        )
        assert refused.status_code == 409
        assert "c1" in refused.json()["error"]["message"]
        with client.websocket_connect("/ws/public") as ws:
            assert ws.receive_json()["type"] == "snapshot"

    def test_removing_what_no_live_ticket_uses_is_accepted(self, api) -> None:
        client, tokens, _ = api
        issue(client, tokens, "certificates")
        accepted = upload(
            client, tokens, dumps(without_category(read_office_file(DEMO_OFFICE), "tax"))
        )
        assert accepted.status_code == 200, accepted.text
        assert client.get("/api/v1/status").status_code == 200


class TestRoundTrip:
    def test_the_uploaded_file_comes_back_with_its_comments(self, api) -> None:
        client, tokens, _ = api
        text = DEMO_OFFICE.read_text(encoding="utf-8").replace(
            "[[counters]]", "# 窓口の並びは庁舎の案内図と同じ\n[[counters]]", 1
        )
        assert upload(client, tokens, text).status_code == 200
        back = client.get("/api/v1/admin/office.toml", headers=bearer(tokens.admin)).text
        assert back == text

    def test_a_switched_off_day_close_stays_off(self, database_url: str) -> None:
        with app_client(database_url) as (client, tokens, _):  # open around the clock
            text = client.get("/api/v1/admin/office.toml", headers=bearer(tokens.admin)).text
            office = parse_office(tomllib.loads(text))
            assert office.day_close is None
            assert office.calendar.holiday_country is None
            assert upload(client, tokens, text).status_code == 200
            again = client.get("/api/v1/admin/office.toml", headers=bearer(tokens.admin)).text
            assert parse_office(tomllib.loads(again)) == office


class TestCongestionLamp:
    def test_changed_people_thresholds_change_the_lamp_served_by_status(self, api) -> None:
        client, tokens, _ = api
        for _ in range(3):
            issue(client, tokens, "certificates")
        lamp = category_of(fresh_status(client), "certificates")
        assert (lamp["waiting"], lamp["congestion"]) == (3, "low")  # defaults: yellow from 5

        raw = read_office_file(DEMO_OFFICE)
        raw["congestion"] = {"minutes": [30, 60], "people": [2, 3]}
        assert upload(client, tokens, dumps(raw)).status_code == 200
        assert category_of(fresh_status(client), "certificates")["congestion"] == "high"
        config = client.get("/api/v1/pages/config").json()
        assert config["congestion_lamp_people"] == [2, 3]
        assert config["congestion_lamp_minutes"] == [30, 60]

    def test_a_bad_threshold_pair_is_refused_with_the_reason(self, api) -> None:
        client, tokens, _ = api
        raw = read_office_file(DEMO_OFFICE)
        raw["congestion"] = {"people": [15, 5]}
        refused = upload(client, tokens, dumps(raw))
        assert refused.status_code == 422, refused.text
        assert "congestion.people" in refused.json()["error"]["message"]

    def test_the_old_environment_variable_stops_the_server_with_where_it_went(
        self, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MADOGUCHI_CONGESTION_LAMP_MINUTES", "[20,45]")
        with pytest.raises(InvalidConfiguration, match=r"office file \(\[congestion\] minutes"):
            create_app(ServerSettings(database_url=sqlite_url))


def category_of(status: dict[str, Any], category_id: str) -> dict[str, Any]:
    return next(c for c in status["categories"] if c["id"] == category_id)
