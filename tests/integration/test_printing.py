"""Slips for real tickets: issue through the API, print over TCP, read the QR back; and every
printer failure ends with a number on screen, an alert for staff and a working reprint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from support.server import Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT

from printer.fake import FakePrinter
from printer.slip import slip_from_ticket
from printer.transports import open_printer
from queue_server.adapters.office_file import DEMO_OFFICE, parse_office, read_office_file
from queue_server.adapters.offices import load_office
from queue_server.service.ports import FakeClock

OFFICE = parse_office(read_office_file(DEMO_OFFICE))


def read_qr(path: Path) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(Image.open(path).convert("L"))]


@pytest.fixture
def printers(tmp_path: Path) -> Iterator[tuple[FakePrinter, FakePrinter]]:
    """The kiosk's printer and the reception printer the server reprints on."""
    with (
        FakePrinter(port=0, out_dir=tmp_path / "kiosk") as kiosk,
        FakePrinter(port=0, out_dir=tmp_path / "reception") as reception,
    ):
        yield kiosk, reception


@pytest.fixture
def api(sqlite_url: str, printers, tmp_path: Path) -> Iterator[tuple[TestClient, Tokens]]:
    _, reception = printers
    with app_client(sqlite_url, FakeClock(OPEN_MOMENT), data_dir=tmp_path) as (
        client,
        tokens,
        engine,
    ):
        raw = read_office_file(DEMO_OFFICE)
        raw["printers"] = [{"id": "reception", "name": "総合案内", "url": reception.url}]
        # A reload is newer than the first load: the server notices by the office's updated_at.
        load_office(engine, raw, OPEN_MOMENT + timedelta(seconds=1))
        yield client, tokens


def issue(client: TestClient, tokens: Tokens) -> dict:
    response = client.post(
        "/api/v1/tickets",
        json={"category_id": "moving", "language": "en"},
        headers=bearer(tokens.kiosk),
    )
    assert response.status_code == 201
    return response.json()["ticket"]


def print_on(url: str, ticket: dict):
    category = OFFICE.category(ticket["category_id"])
    slip = slip_from_ticket(ticket, OFFICE.names["ja"], category.names, ticket["language"], "1階")
    return open_printer(url, timeout_s=0.5).print_slip(slip)


def test_issued_ticket_prints_with_its_status_url_in_the_qr(api, printers) -> None:
    client, tokens = api
    kiosk, _ = printers
    ticket = issue(client, tokens)
    result = print_on(kiosk.url, ticket)
    assert result.ok
    assert kiosk.wait_for_slips(1)
    assert read_qr(kiosk.printed[0].png) == [ticket["status_url"]]
    reported = client.post(
        f"/api/v1/tickets/{ticket['id']}/print-outcome",
        json={"outcome": "printed"},
        headers=bearer(tokens.kiosk),
    ).json()
    assert reported["ticket"]["print_outcome"] == "printed"
    assert "fallback" not in reported


def subscribed(ws, token: str | None = None) -> None:
    """Say hello when needed and wait for the snapshot: later events are then all seen."""
    if token is not None:
        ws.send_text(json.dumps({"type": "hello", "token": token}))
    while json.loads(ws.receive_text())["type"] != "snapshot":
        pass


def events_until(ws, kind: str) -> list[dict]:
    seen = []
    while True:
        message = json.loads(ws.receive_text())
        if message["type"] == "event":
            seen.append(message["event"])
            if message["event"]["type"] == kind:
                return seen


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("out", "paper_out"),
        ("cover_open", "cover_open"),
        ("offline", "offline"),
        ("silent", "timeout"),
    ],
)
def test_printer_failure_leaves_nobody_without_a_number(
    api, printers, state: str, reason: str
) -> None:
    client, tokens = api
    kiosk, reception = printers
    kiosk.state = state
    ticket = issue(client, tokens)
    result = print_on(kiosk.url, ticket)
    assert not result.ok and result.reason.value == reason
    assert kiosk.printed == []
    with (
        client.websocket_connect("/ws/clerk") as clerk_ws,
        client.websocket_connect("/ws/public") as public_ws,
    ):
        subscribed(clerk_ws, tokens.clerk)
        subscribed(public_ws)
        report = client.post(
            f"/api/v1/tickets/{ticket['id']}/print-outcome",
            json={
                "outcome": "failed",
                "reason": reason,
                "printer_status": result.status_before.as_dict(),
            },
            headers=bearer(tokens.kiosk),
        )
        assert report.status_code == 200
        fallback = report.json()["fallback"]
        assert (fallback["number"], fallback["status_url"]) == (
            ticket["number"],
            ticket["status_url"],
        )
        staff = events_until(clerk_ws, "device.health")
        failed = next(e for e in staff if e["type"] == "ticket.print_failed")
        assert failed["detail"]["reason"] == reason
        assert staff[-1]["detail"]["device"] == "kiosk-1"
        public = events_until(public_ws, "device.health")
        assert all("detail" not in e for e in public)
    devices = client.get("/api/v1/devices", headers=bearer(tokens.clerk)).json()["devices"]
    kiosk_health = next(d for d in devices if d["name"] == "kiosk-1")["health"]["printer"]
    assert kiosk_health["health"] in ("problem", "unknown")
    # A clerk reprints at reception; the slip carries the same number and QR.
    reprint = client.post(
        f"/api/v1/tickets/{ticket['id']}/reprint",
        json={"printer_id": "reception"},
        headers=bearer(tokens.clerk),
    ).json()
    assert reprint["print"]["outcome"] == "printed"
    assert reprint["ticket"]["print_outcome"] == "printed"
    assert reception.wait_for_slips(1)
    assert read_qr(reception.printed[0].png) == [ticket["status_url"]]
    # The failed job was never sent later, even with the kiosk printer fixed.
    kiosk.state = "ok"
    assert kiosk.printed == []


def test_reprint_failures_are_reported_not_queued(api, printers) -> None:
    client, tokens = api
    _, reception = printers
    reception.state = "out"
    ticket = issue(client, tokens)
    answer = client.post(
        f"/api/v1/tickets/{ticket['id']}/reprint",
        json={"printer_id": "reception"},
        headers=bearer(tokens.clerk),
    ).json()
    assert (answer["print"]["outcome"], answer["print"]["reason"]) == ("failed", "paper_out")
    assert answer["ticket"]["print_outcome"] == "failed"
    reception.state = "ok"
    assert reception.printed == []
    unknown = client.post(
        f"/api/v1/tickets/{ticket['id']}/reprint",
        json={"printer_id": "nope"},
        headers=bearer(tokens.clerk),
    )
    assert unknown.status_code == 404
    kiosk_try = client.post(
        f"/api/v1/tickets/{ticket['id']}/reprint",
        json={"printer_id": "reception"},
        headers=bearer(tokens.kiosk),
    )
    assert kiosk_try.status_code == 403


def test_bad_print_reports_are_refused(api) -> None:
    client, tokens = api
    ticket = issue(client, tokens)
    for body in ({"outcome": "maybe"}, {"outcome": "failed", "reason": "<script>"}):
        response = client.post(
            f"/api/v1/tickets/{ticket['id']}/print-outcome", json=body, headers=bearer(tokens.kiosk)
        )
        assert response.status_code == 422
    health = client.post(
        "/api/v1/devices/me/health",
        json={"printer": {"paper": "out"}},
        headers=bearer(tokens.clerk),
    )
    assert health.status_code == 403
