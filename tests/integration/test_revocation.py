"""Revocation: disabled users, ended sessions, revoked or rotated devices and expired staff tokens
stop working within a second, on HTTP and on every open WebSocket (closed with 1008)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect
from support.server import CLERK_PASSWORD, Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT

from queue_server.service.ports import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPEN_MOMENT)


@pytest.fixture
def api(sqlite_url: str, clock: FakeClock) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    with app_client(sqlite_url, clock) as parts:
        yield parts


def hello(client: TestClient, channel: str, token: str) -> WebSocketTestSession:
    ws = client.websocket_connect(f"/ws/{channel}").__enter__()
    ws.send_text(json.dumps({"type": "hello", "token": token}))
    assert json.loads(ws.receive_text())["type"] == "snapshot"
    return ws


def closed_within(ws: WebSocketTestSession, started: float, limit: float = 1.0) -> None:
    """The socket says why, then closes with 1008, within `limit` seconds of `started`."""
    try:
        while True:
            message = json.loads(ws.receive_text())
            if message["type"] == "error":
                assert message["code"] == "token_revoked"
                break
            assert message["type"] in ("status", "heartbeat", "event")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1008
        assert time.monotonic() - started < limit
    finally:
        ws.__exit__(None, None, None)


def madoguchi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


def login(client: TestClient, name: str = "clerk0", password: str = CLERK_PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def queue(client: TestClient, token: str) -> int:
    return client.get("/api/v1/queue", headers=bearer(token)).status_code


def health(client: TestClient, token: str) -> int:
    return client.post("/api/v1/devices/me/health", json={}, headers=bearer(token)).status_code


class TestStaff:
    def test_logout_ends_the_session_at_once(self, api) -> None:
        client, _, _ = api
        token = login(client)
        assert queue(client, token) == 200
        out = client.post("/api/v1/auth/logout", headers=bearer(token))
        assert out.status_code == 204
        assert out.headers["cache-control"] == "no-store"
        assert queue(client, token) == 401

    def test_a_disabled_user_is_out_and_cannot_log_in(self, api) -> None:
        client, tokens, _ = api
        token = login(client)
        answer = client.post("/api/v1/admin/staff/clerk0/disable", headers=bearer(tokens.admin))
        assert answer.status_code == 200
        assert queue(client, token) == 401
        assert queue(client, tokens.clerk) == 401
        refused = client.post(
            "/api/v1/auth/token", data={"username": "clerk0", "password": CLERK_PASSWORD}
        )
        assert refused.status_code == 401
        client.post("/api/v1/admin/staff/clerk0/enable", headers=bearer(tokens.admin))
        assert queue(client, login(client)) == 200

    def test_only_admins_disable_and_not_themselves(self, api) -> None:
        client, tokens, _ = api
        assert (
            client.post(
                "/api/v1/admin/staff/admin/disable", headers=bearer(tokens.clerk)
            ).status_code
            == 403
        )
        own = client.post("/api/v1/admin/staff/admin/disable", headers=bearer(tokens.admin))
        assert own.status_code == 409


class TestDevices:
    def test_a_revoked_device_is_refused_and_a_rotation_brings_it_back(self, api) -> None:
        client, tokens, _ = api
        assert health(client, tokens.kiosk) == 200
        revoked = client.post("/api/v1/admin/devices/kiosk-1/revoke", headers=bearer(tokens.admin))
        assert revoked.status_code == 200
        assert health(client, tokens.kiosk) == 401
        listed = client.get("/api/v1/devices", headers=bearer(tokens.clerk)).json()["devices"]
        assert next(d for d in listed if d["name"] == "kiosk-1")["revoked_at"] is not None
        assert next(d for d in listed if d["name"] == "board-1")["revoked_at"] is None
        rotated = client.post("/api/v1/admin/devices/kiosk-1/rotate", headers=bearer(tokens.admin))
        assert rotated.status_code == 200
        assert rotated.headers["cache-control"] == "no-store"
        fresh = rotated.json()["token"]
        assert health(client, fresh) == 200
        assert health(client, tokens.kiosk) == 401
        listed = client.get("/api/v1/devices", headers=bearer(tokens.clerk)).json()["devices"]
        assert next(d for d in listed if d["name"] == "kiosk-1")["revoked_at"] is None

    def test_rotation_retires_the_old_token(self, api) -> None:
        client, tokens, _ = api
        rotated = client.post("/api/v1/admin/devices/board-1/rotate", headers=bearer(tokens.admin))
        assert health(client, tokens.board) == 401
        assert health(client, rotated.json()["token"]) == 200

    def test_unknown_devices_and_users_are_named(self, api) -> None:
        client, tokens, _ = api
        for path in ("/api/v1/admin/devices/nope/revoke", "/api/v1/admin/staff/nope/disable"):
            response = client.post(path, headers=bearer(tokens.admin))
            assert response.status_code == 409
            assert "nope" in response.json()["error"]["message"]


class TestOpenSockets:
    """Every channel with a token: the socket closes (1008) within a second of the revocation."""

    @pytest.mark.parametrize(
        ("channel", "token_name", "revoke"),
        [
            ("clerk", "clerk", "/api/v1/admin/staff/clerk0/disable"),
            ("kiosk", "kiosk", "/api/v1/admin/devices/kiosk-1/revoke"),
            ("board", "board", "/api/v1/admin/devices/board-1/revoke"),
            ("board", "board", "/api/v1/admin/devices/board-1/rotate"),
            ("kiosk", "clerk", "/api/v1/admin/staff/clerk0/disable"),
        ],
    )
    def test_admin_revocation_closes_the_socket(
        self, api, channel: str, token_name: str, revoke: str
    ) -> None:
        client, tokens, _ = api
        ws = hello(client, channel, getattr(tokens, token_name))
        started = time.monotonic()
        assert client.post(revoke, headers=bearer(tokens.admin)).status_code == 200
        closed_within(ws, started)

    @pytest.mark.parametrize("channel", ["clerk", "board", "kiosk"])
    def test_logout_closes_the_sessions_sockets(self, api, channel: str) -> None:
        client, _, _ = api
        token = login(client)
        ws = hello(client, channel, token)
        started = time.monotonic()
        assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
        closed_within(ws, started)

    def test_a_staff_token_expiring_while_open_closes_the_socket(
        self, api, clock: FakeClock
    ) -> None:
        client, tokens, _ = api
        ws = hello(client, "clerk", tokens.clerk)
        other = hello(client, "board", tokens.board)
        clock.advance(hours=1001)  # the fixture's sessions last 1000 hours
        closed_within(ws, time.monotonic())
        # A device token does not expire: the board stays.
        other.send_text(json.dumps({"type": "ping"}))
        while json.loads(other.receive_text())["type"] != "pong":
            pass
        other.__exit__(None, None, None)

    def test_other_sockets_stay_open(self, api) -> None:
        client, tokens, _ = api
        kiosk = hello(client, "kiosk", tokens.kiosk)
        board = hello(client, "board", tokens.board)
        client.post("/api/v1/admin/devices/kiosk-1/revoke", headers=bearer(tokens.admin))
        closed_within(kiosk, time.monotonic())
        time.sleep(0.6)  # a guard tick later
        board.send_text(json.dumps({"type": "ping"}))
        while json.loads(board.receive_text())["type"] != "pong":
            pass
        board.__exit__(None, None, None)


class TestFromTheCommandLine:
    """The CLI is another process: the server learns of it by re-reading, within a second."""

    def test_devices_revoke_and_users_disable(self, api, sqlite_url: str) -> None:
        client, tokens, _ = api
        kiosk = hello(client, "kiosk", tokens.kiosk)
        clerk = hello(client, "clerk", tokens.clerk)
        done = madoguchi("devices", "revoke", "kiosk-1", "--database-url", sqlite_url)
        assert done.returncode == 0, done.stderr
        started = time.monotonic()
        closed_within(kiosk, started)
        assert health(client, tokens.kiosk) == 401
        done = madoguchi("users", "disable", "clerk0", "--database-url", sqlite_url)
        assert done.returncode == 0, done.stderr
        closed_within(clerk, time.monotonic())
        assert queue(client, tokens.clerk) == 401

    def test_devices_rotate_prints_a_working_token(self, api, sqlite_url: str) -> None:
        client, tokens, _ = api
        done = madoguchi("devices", "rotate", "kiosk-1", "--database-url", sqlite_url)
        assert done.returncode == 0, done.stderr
        token = done.stdout.strip().splitlines()[-1]
        deadline = time.monotonic() + 1.0
        while health(client, tokens.kiosk) != 401:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert health(client, token) == 200


def test_token_cache_forgets_within_a_second() -> None:
    from queue_server.api.deps import TokenCache

    cache = TokenCache()
    cache.put("t", None)
    assert cache.get("t") == (None,)
    time.sleep(0.6)
    assert cache.get("t") is None
