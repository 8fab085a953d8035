"""What the public sees says nothing about a person: no priority (assistance) by a number."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from support.server import Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT

from queue_server.service.ports import FakeClock


@pytest.fixture
def api(sqlite_url: str) -> Iterator[tuple[TestClient, Tokens]]:
    with app_client(sqlite_url, FakeClock(OPEN_MOMENT)) as (client, tokens, _):
        yield client, tokens


def next_event(ws) -> dict:
    while (message := json.loads(ws.receive_text()))["type"] != "event":
        pass
    return dict(message["event"])


@pytest.mark.parametrize(
    ("channel", "token"), [("public", None), ("board", "board"), ("kiosk", "kiosk")]
)
def test_non_staff_channels_do_not_learn_who_asked_for_assistance(api, channel, token) -> None:
    client, tokens = api
    with client.websocket_connect(f"/ws/{channel}") as ws:
        if token:
            ws.send_text(json.dumps({"type": "hello", "token": getattr(tokens, token)}))
        assert json.loads(ws.receive_text())["type"] == "snapshot"
        client.post(
            "/api/v1/tickets",
            json={"category_id": "certificates", "priority": "assistance"},
            headers=bearer(tokens.kiosk),
        )
        event = next_event(ws)
        assert event["ticket"]["number"] == "A-001"
        assert "priority" not in event["ticket"] and "id" not in event["ticket"]
        assert "assistance" not in json.dumps(event)


def test_staff_still_see_the_priority(api) -> None:
    client, tokens = api
    with client.websocket_connect("/ws/clerk") as ws:
        ws.send_text(json.dumps({"type": "hello", "token": tokens.clerk}))
        assert json.loads(ws.receive_text())["type"] == "snapshot"
        client.post(
            "/api/v1/tickets",
            json={"category_id": "certificates", "priority": "assistance"},
            headers=bearer(tokens.kiosk),
        )
        assert next_event(ws)["ticket"]["priority"] == "assistance"


CANARY = "カナリア試験ZQXW"


def _forms(text: str) -> list[bytes]:
    """How a text can sit in a file: UTF-8, or JSON's \\u escapes (SQLAlchemy's JSON)."""
    escaped = json.dumps(text)[1:-1]
    return [text.encode(), escaped.encode(), escaped.lower().encode()]


def test_no_trace_of_a_visitor_on_disk_after_day_close(tmp_path, caplog) -> None:
    import logging
    import os
    import stat

    from queue_server.domain.forms import prefill_from_card

    caplog.set_level(logging.DEBUG)
    clock = FakeClock(OPEN_MOMENT)
    db = tmp_path / "data" / "madoguchi.db"
    card = {"name": CANARY, "address": f"白河市{CANARY}1-1", "birth": "19900401", "sex": "2"}
    fields = {**prefill_from_card("juminhyo", card), "relation": "self", "scope": "household"}
    fields.update({"copies": 1, "purpose": "bank"})
    with app_client(f"sqlite:///{db}", clock, data_dir=tmp_path) as (client, tokens, _):
        issued = client.post(
            "/api/v1/tickets",
            json={"category_id": "certificates", "request": {"form": "juminhyo", "fields": fields}},
            headers=bearer(tokens.kiosk),
        )
        assert issued.status_code == 201, issued.text
        ticket_id = issued.json()["ticket"]["id"]
        shown = client.get(f"/api/v1/tickets/{ticket_id}/request", headers=bearer(tokens.clerk))
        assert CANARY in shown.text
        found = b"".join(p.read_bytes() for p in db.parent.glob("madoguchi.db*"))
        assert any(form in found for form in _forms(CANARY))  # the canary is really there
        clock.advance(days=1)
        client.post(
            "/api/v1/devices/me/health",
            json={"printer": {"paper": "ok"}},
            headers=bearer(tokens.kiosk),
        )  # the first write of the next day closes the previous one
        files = {p.name: p.read_bytes() for p in db.parent.glob("madoguchi.db*")}
        for name, content in files.items():
            for form in _forms(CANARY):
                assert form not in content, f"the canary is still in {name}"
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert CANARY not in logged and json.dumps(CANARY)[1:-1] not in logged


def test_the_data_directory_is_private(tmp_path) -> None:
    import stat

    from queue_server.settings import ServerSettings

    settings = ServerSettings(data_dir=tmp_path / "fresh")
    settings.code_secret()
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "fresh" / "secret.key").stat().st_mode) == 0o600
