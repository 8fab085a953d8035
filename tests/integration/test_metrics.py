"""`/metrics` during a short simulated morning: the values follow what happened."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from support.server import RELAY_SECRET, app_client, bearer, free_port, fresh_status, relay_process
from tests_constants import OPEN_MOMENT

from queue_server.service.ports import FakeClock

DASHBOARD = "packaging/grafana/madoguchi-dashboard.json"


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


def test_estimate_error_is_measured_when_each_ticket_is_called(
    sqlite_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(OPEN_MOMENT)
    with app_client(sqlite_url, clock, data_dir=tmp_path) as (client, tokens, _):
        shown = []
        for _ in range(3):
            fresh_status(client)  # no recompute pending: the slip and the event see one state
            answer = client.post(
                "/api/v1/tickets", json={"category_id": "koseki"}, headers=bearer(tokens.kiosk)
            )
            shown.append(answer.json()["ticket"]["estimated_wait_minutes"] * 60)
        waited = []
        for wait in (300, 600, 600):  # called at 5, 15 and 25 minutes after issue
            clock.advance(seconds=wait)
            called = client.post("/api/v1/counters/c3/call-next", headers=bearer(tokens.clerk))
            ticket = called.json()["ticket"]["id"]
            waited.append(sum((300, 600, 600)[: len(waited) + 1]))
            if len(waited) == 1:  # a recall is not a second measurement
                client.post(f"/api/v1/tickets/{ticket}/recall", headers=bearer(tokens.clerk))
            client.post(f"/api/v1/tickets/{ticket}/finish", headers=bearer(tokens.clerk))
        hub = client.app.state.container.hub  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while hub.last_seq < 10:  # 3 issued, 3 called, 1 recalled, 3 finished
            assert time.monotonic() < deadline
            time.sleep(0.01)
        got = samples(client.get("/metrics").text)
    koseki = (("category", "koseki"),)
    errors = [abs(s - w) for s, w in zip(shown, waited, strict=True)]
    assert shown[:2] == [0, 0] and shown[2] > 0  # nobody ahead, two counters idle
    assert got[("madoguchi_estimate_error_seconds_count", koseki)] == 3
    assert got[("madoguchi_estimate_error_seconds_sum", koseki)] == sum(errors)
    assert got[("madoguchi_estimate_error_seconds_bucket", (*koseki, ("le", "300.0")))] == 1
    assert got[("madoguchi_estimate_bias_seconds_count", koseki)] == 3
    bias = sum(s - w for s, w in zip(shown, waited, strict=True))
    assert got[("madoguchi_estimate_bias_seconds_sum", koseki)] == bias < 0  # ran short


def test_relay_push_counters(sqlite_url: str) -> None:
    port = free_port()
    started = time.time()
    with (
        relay_process(port=port) as relay,
        app_client(
            sqlite_url,
            relay_push_url=relay,
            relay_push_secret=RELAY_SECRET,
        ) as (client, tokens, _),
    ):

        def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
            return samples(client.get("/metrics").text)

        def wait_for(check) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
            deadline = time.monotonic() + 20
            while not check(got := scrape()):
                assert time.monotonic() < deadline, got
                time.sleep(0.1)
            return got

        ok = (("result", "ok"),)
        failed = (("result", "failed"),)
        got = wait_for(lambda g: g.get(("madoguchi_relay_pushes_total", ok), 0) >= 1)
        assert got[("madoguchi_relay_pushes_total", failed)] == 0
        assert got[("madoguchi_relay_snapshot_resyncs_total", ())] == 0
        assert started <= got[("madoguchi_relay_last_success_timestamp_seconds", ())] <= time.time()
        client.post("/api/v1/tickets", json={"category_id": "tax"}, headers=bearer(tokens.kiosk))
        wait_for(lambda g: g[("madoguchi_relay_pushes_total", ok)] >= 2)  # the relay is at seq 1
        relay.process.terminate()
        relay.process.wait(10)
        client.post("/api/v1/tickets", json={"category_id": "tax"}, headers=bearer(tokens.kiosk))
        got = wait_for(lambda g: g[("madoguchi_relay_pushes_total", failed)] >= 1)
        stalled = got[("madoguchi_relay_last_success_timestamp_seconds", ())]
        with relay_process(port=port):
            # A new relay knows nothing: it refuses the next delta (409), and the push after
            # that is a snapshot (the pusher sends when events come or a snapshot is due).
            def resynced(g: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> bool:
                if g[("madoguchi_relay_snapshot_resyncs_total", ())] >= 1:
                    return True
                issue = {"category_id": "tax"}
                client.post("/api/v1/tickets", json=issue, headers=bearer(tokens.kiosk))
                time.sleep(0.5)
                return False

            got = wait_for(resynced)
        assert got[("madoguchi_relay_snapshot_resyncs_total", ())] == 1
        assert got[("madoguchi_relay_last_success_timestamp_seconds", ())] > stalled
        exported = client.get("/metrics").text
    assert_the_dashboard_plots_only(exported)


def assert_the_dashboard_plots_only(*exported: str) -> None:
    """Every series the example Grafana dashboard plots is one the server exports."""
    dashboard = (Path(__file__).parents[2] / DASHBOARD).read_text(encoding="utf-8")
    families = {f for text in exported for f in re.findall(r"^# TYPE (\S+)", text, re.MULTILINE)}
    for name in set(re.findall(r"madoguchi_[a-z_]+", dashboard)):
        assert any(re.fullmatch(rf"{f}(_bucket|_sum|_count)?", name) for f in families), name


def test_relay_pull_counters_and_the_relays_bookings_open(sqlite_url: str) -> None:
    port = free_port()
    started = time.time()
    options = ("--pull-stale", "3")
    with contextlib.ExitStack() as relays:  # the relay outlives the queue server at the end
        relay = relays.enter_context(relay_process(port=port, options=options))
        assert httpx.get(f"{relay}/healthz").json()["bookings_open"] is False  # never pulled
        with app_client(
            sqlite_url,
            relay_push_url=relay,
            relay_push_secret=RELAY_SECRET,
            relay_pull_wait_seconds=1,
        ) as (client, _, _):

            def wait_for(check) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
                deadline = time.monotonic() + 20
                while not check(got := samples(client.get("/metrics").text)):
                    assert time.monotonic() < deadline, got
                    time.sleep(0.1)
                return got

            ok, failed = (("result", "ok"),), (("result", "failed"),)
            got = wait_for(lambda g: g.get(("madoguchi_relay_pulls_total", ok), 0) >= 1)
            assert got[("madoguchi_relay_pulls_total", failed)] == 0
            last = got[("madoguchi_relay_last_pull_timestamp_seconds", ())]
            assert started <= last <= time.time()
            assert httpx.get(f"{relay}/healthz").json()["bookings_open"] is True

            # Two residents' requests through the relay: one answered 200, one refused.
            gone = httpx.post(
                f"{relay}/api/v1/notify/unsubscribe", json={"token": "no-such-token"}, timeout=30
            )
            assert gone.status_code == 200, gone.text
            lookup = httpx.post(
                f"{relay}/api/v1/reservations/lookup", json={"code": "ZZZZ-ZZZZ"}, timeout=30
            )
            assert 400 <= lookup.status_code < 500, lookup.text
            unsubscribe = (("outcome", "2xx"), ("path", "/api/v1/notify/unsubscribe"))
            looked_up = (("outcome", "4xx"), ("path", "/api/v1/reservations/lookup"))
            got = wait_for(lambda g: g.get(("madoguchi_relay_requests_total", looked_up)) == 1)
            assert got[("madoguchi_relay_requests_total", unsubscribe)] == 1

            relay.process.terminate()  # the relay is away: pulls fail, and say so
            relay.process.wait(10)
            got = wait_for(lambda g: g[("madoguchi_relay_pulls_total", failed)] >= 1)
            stalled = got[("madoguchi_relay_last_pull_timestamp_seconds", ())]
            again = relays.enter_context(relay_process(port=port, options=options))
            last_pull = ("madoguchi_relay_last_pull_timestamp_seconds", ())
            wait_for(lambda g: g[last_pull] > stalled)
            assert httpx.get(f"{again}/healthz").json()["bookings_open"] is True
            assert_the_dashboard_plots_only(client.get("/metrics").text)
        # The queue server stopped: after --pull-stale the relay says bookings are closed.
        time.sleep(3.5)
        assert httpx.get(f"{again}/healthz").json()["bookings_open"] is False
