"""`/metrics` during a short simulated morning: the values follow what happened."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from support.server import app_client, bearer, fresh_status
from tests_constants import OPEN_MOMENT

from queue_server.service.ports import FakeClock


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_follow_a_short_morning(sqlite_url: str, tmp_path: Path) -> None:
    clock = FakeClock(OPEN_MOMENT)
    with app_client(sqlite_url, clock, data_dir=tmp_path) as (client, tokens, _):
        hub = client.app.state.container.hub  # type: ignore[attr-defined]
        for _ in range(3):
            answer = client.post(
                "/api/v1/tickets", json={"category_id": "koseki"}, headers=bearer(tokens.kiosk)
            )
            assert answer.status_code == 201
        clock.advance(seconds=600)
        called = client.post("/api/v1/counters/c3/call-next", headers=bearer(tokens.clerk))
        ticket = called.json()["ticket"]["id"]
        clock.advance(seconds=240)
        client.post(f"/api/v1/tickets/{ticket}/finish", headers=bearer(tokens.clerk))
        client.post(
            "/api/v1/devices/me/health",
            json={"printer": {"health": "problem", "paper": "out"}},
            headers=bearer(tokens.kiosk),
        )
        deadline = time.monotonic() + 10
        while hub.last_seq < 6:  # 3 issued, called, finished, device.health
            assert time.monotonic() < deadline
            time.sleep(0.01)
        fresh_status(client)
        text = client.get("/metrics").text
    got = samples(text)
    koseki = (("category", "koseki"),)
    assert got[("madoguchi_tickets_issued_total", koseki)] == 3
    assert got[("madoguchi_calls_total", koseki)] == 1
    assert got[("madoguchi_ticket_outcomes_total", (("outcome", "finished"),))] == 1
    assert got[("madoguchi_wait_seconds_count", koseki)] == 1
    assert got[("madoguchi_wait_seconds_sum", koseki)] == 600
    assert got[("madoguchi_waiting_tickets", koseki)] == 2
    assert got[("madoguchi_device_ok", (("device", "kiosk-1"), ("part", "printer")))] == 0
    issue_route = (("method", "POST"), ("route", "/api/v1/tickets"), ("status", "2xx"))
    assert got[("madoguchi_http_request_seconds_count", issue_route)] == 3
    assert got[("madoguchi_state_recompute_seconds_count", ())] >= 1
    assert got[("madoguchi_websocket_clients", ())] == 0
    for forbidden in ("K-0", "B-001", "public_id"):  # no visitor's number or id
        assert forbidden not in text
