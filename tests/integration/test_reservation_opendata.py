"""Slot occupancy as open data: listed on the /opendata/ index, described by schema.json,
licensed, open to other sites, and without anything about who booked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support.server import app_client
from tests_constants import TOKYO

from queue_server.service.ports import FakeClock

CANARY = "canary.opendata@example.jp"


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path) -> Iterator[TestClient]:
    clock = FakeClock(datetime(2026, 11, 25, 9, 0, tzinfo=TOKYO))
    with app_client(sqlite_url, clock, data_dir=tmp_path, secret_key="k" * 40) as (client, _, _):
        yield client


def test_the_index_lists_reservations_json_and_the_schema_describes_it(client) -> None:
    index = client.get("/opendata/")
    assert 'href="/opendata/reservations.json"' in index.text
    assert 'href="/opendata/schema.json"' in index.text
    booked = client.post(
        "/api/v1/reservations",
        json={"category_id": "mynumber", "start": "2026-11-26T10:00:00+09:00", "email": CANARY},
    )
    assert booked.status_code == 201, booked.text
    response = client.get("/opendata/reservations.json", params={"from": "2026-11-26", "days": 1})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    data = response.json()
    schema = client.get("/opendata/schema.json").json()["reservations"]
    assert schema["url"] == "/opendata/reservations.json"
    assert data["licence"] == schema["licence"]
    assert data["schema"] == "/opendata/schema.json"
    assert {f["name"] for f in schema["document"]} <= set(data)
    assert data["slots"], "the demo office has mynumber slots that day"
    described = {f["name"] for f in schema["fields"]}
    assert all(set(slot) == described for slot in data["slots"])
    taken = [s for s in data["slots"] if s["booked"]]
    assert [(s["category_id"], s["start"], s["booked"]) for s in taken] == [
        ("mynumber", "2026-11-26T10:00:00+09:00", 1)
    ]
    for secret in (CANARY, booked.json()["reservation"]["short_code"]):
        assert secret not in response.text
