"""WebSocket channels: snapshot then every event in seq order, auth, projections, gaps."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from support.server import Tokens, app_client, bearer, fresh_status
from tests_constants import OPEN_MOMENT

from queue_server.adapters.event_bus import MemoryBus, Notice
from queue_server.service.ports import FakeClock


@pytest.fixture
def api(sqlite_url: str) -> Iterator[tuple[TestClient, Tokens]]:
    with app_client(sqlite_url, FakeClock(OPEN_MOMENT)) as (client, tokens, _):
        yield client, tokens


def receive(ws: WebSocketTestSession, kind: str | None = None) -> dict:
    """Next message of `kind`; by default the next one that is not a heartbeat or status."""
    while True:
        message = json.loads(ws.receive_text())
        if kind == message["type"] or (
            kind is None and message["type"] not in ("heartbeat", "status")
        ):
            return message


def issue(client: TestClient, tokens: Tokens, category: str = "certificates") -> dict:
    return client.post(
        "/api/v1/tickets", json={"category_id": category}, headers=bearer(tokens.kiosk)
    ).json()["ticket"]


def test_public_channel_gets_snapshot_then_ordered_events(api) -> None:
    client, tokens = api
    issue(client, tokens)
    fresh_status(client)  # the computed state has caught up with the ticket
    with client.websocket_connect("/ws/public") as ws:
        snapshot = receive(ws)
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == 1
        assert snapshot["status"]["categories"][0]["waiting"] == 1
        second = issue(client, tokens)
        client.post("/api/v1/counters/c1/call-next", headers=bearer(tokens.clerk))
        issued, called = receive(ws), receive(ws)
        assert [issued["seq"], called["seq"]] == [2, 3]
        assert issued["event"]["type"] == "ticket.issued"
        assert issued["event"]["ticket"]["number"] == second["number"]
        assert called["event"]["type"] == "ticket.called"
        assert called["event"]["ticket"]["counter_number"] == 1
        status = receive(ws, "status")
        while status["seq"] < 3:
            status = receive(ws, "status")
        assert status["status"]["recent_calls"][0]["number"] == "A-001"
        assert status["status"]["categories"][0]["waiting"] == 1
        # Public events carry no internal ids and no public ids.
        assert "id" not in called["event"]["ticket"]
        assert second["public_id"] not in json.dumps(issued)


def test_heartbeat_and_ping(api) -> None:
    client, _ = api
    with client.websocket_connect("/ws/public") as ws:
        receive(ws, "snapshot")
        beat = receive(ws, "heartbeat")
        assert beat["seq"] == 0
        ws.send_text(json.dumps({"type": "ping"}))
        assert receive(ws)["type"] == "pong"


def test_resync_sends_a_fresh_snapshot(api) -> None:
    client, tokens = api
    with client.websocket_connect("/ws/public") as ws:
        receive(ws, "snapshot")
        issue(client, tokens)
        receive(ws, "event")
        ws.send_text(json.dumps({"type": "resync"}))
        again = receive(ws, "snapshot")
        # The snapshot is the last computed state; events since then follow it at once.
        seq = again["seq"]
        while seq < 1:
            caught_up = receive(ws, "event")
            assert caught_up["seq"] == seq + 1
            seq = caught_up["seq"]
        assert seq == 1


@pytest.mark.parametrize(
    ("channel", "token_name"), [("board", "board"), ("kiosk", "kiosk"), ("clerk", "clerk")]
)
def test_protected_channels_need_the_right_token(api, channel: str, token_name: str) -> None:
    client, tokens = api
    with client.websocket_connect(f"/ws/{channel}") as ws:
        ws.send_text(json.dumps({"type": "hello", "token": getattr(tokens, token_name)}))
        assert receive(ws)["type"] == "snapshot"
    for wrong in ("nope", tokens.kiosk if channel != "kiosk" else tokens.board):
        with client.websocket_connect(f"/ws/{channel}") as ws:
            ws.send_text(json.dumps({"type": "hello", "token": wrong}))
            error = receive(ws)
            assert (error["type"], error["code"]) == ("error", "unauthorized")


def test_clerk_channel_sees_ticket_ids(api) -> None:
    client, tokens = api
    with client.websocket_connect("/ws/clerk") as ws:
        ws.send_text(json.dumps({"type": "hello", "token": tokens.clerk}))
        receive(ws, "snapshot")
        ticket = issue(client, tokens)
        assert receive(ws, "event")["event"]["ticket"]["id"] == ticket["id"]


def test_unknown_channel_is_refused(api) -> None:
    from starlette.websockets import WebSocketDisconnect

    client, _ = api
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/secret") as ws:
        ws.receive_text()


class LossyBus(MemoryBus):
    """A bus that loses every other notice and strips events from the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    def publish_after_commit(self, notices: Sequence[Notice]) -> None:
        kept = []
        for notice in notices:
            self.sent += 1
            if self.sent % 2:
                kept.append(Notice(notice.office_id, notice.seq, None))
        super().publish_after_commit(kept)


def test_lost_notices_are_filled_from_the_event_table(sqlite_url: str) -> None:
    bus = LossyBus()
    with app_client(sqlite_url, FakeClock(OPEN_MOMENT), bus=bus, catch_up_seconds=0.2) as (
        client,
        tokens,
        _,
    ):
        with client.websocket_connect("/ws/public") as ws:
            receive(ws, "snapshot")
            for _ in range(6):
                issue(client, tokens)
            seqs = [receive(ws, "event")["seq"] for _ in range(6)]
        assert seqs == [1, 2, 3, 4, 5, 6]
