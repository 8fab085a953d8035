"""Inputs an outside probe used to turn into 500s: each is now a 4xx with the error envelope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.websockets import WebSocketDisconnect
from support.server import Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT

from queue_server.adapters.office_file import DEMO_OFFICE
from queue_server.domain.codes import PREFIX, VisitCode, _b64, _sign, make_code
from queue_server.domain.forms import prefill_from_card
from queue_server.service.ports import FakeClock

SECRET = "test-secret-for-bad-inputs"


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    with app_client(
        sqlite_url, FakeClock(OPEN_MOMENT), data_dir=tmp_path, secret_key=SECRET
    ) as parts:
        yield parts


def refused(response, status: int, code: str | None = None) -> dict:
    """The response is `status` with the error envelope (and `code` when given)."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def signed(payload: dict) -> str:
    """A correctly signed code around any payload (as a holder of the secret could make)."""
    signed_part = f"{PREFIX}.{_b64(json.dumps(payload).encode())}"
    return f"{signed_part}.{_sign(SECRET.encode(), signed_part)}"


class TestTicketIds:
    @pytest.mark.parametrize("ticket_id", ["9223372036854775808", "99999999999999999999999", "0"])
    def test_out_of_range_ticket_ids_are_refused(self, api, ticket_id: str) -> None:
        client, tokens, _ = api
        for method, path in (
            ("GET", f"/api/v1/tickets/{ticket_id}"),
            ("GET", f"/api/v1/tickets/{ticket_id}/request"),
            ("POST", f"/api/v1/tickets/{ticket_id}/recall"),
        ):
            refused(
                client.request(method, path, headers=bearer(tokens.clerk)), 422, "validation_error"
            )
        refused(
            client.post(
                f"/api/v1/tickets/{ticket_id}/print-outcome",
                json={"outcome": "printed"},
                headers=bearer(tokens.kiosk),
            ),
            422,
        )

    def test_the_largest_64_bit_id_is_merely_not_found(self, api) -> None:
        client, tokens, _ = api
        response = client.get("/api/v1/tickets/9223372036854775807", headers=bearer(tokens.clerk))
        refused(response, 404, "not_found")


class TestCodes:
    @pytest.mark.parametrize("text", ["MDG1.é.é", "MDG1.\ud800.x", "ＭＤＧ１.a.b"])
    def test_non_ascii_codes_are_unknown(self, api, text: str) -> None:
        client, tokens, _ = api
        body = json.dumps({"code": text}).encode()  # \u escapes: a lone surrogate travels too
        headers = {**bearer(tokens.kiosk), "Content-Type": "application/json"}
        for path in ("/api/v1/codes/verify", "/api/v1/tickets"):
            error = refused(client.post(path, content=body, headers=headers), 422)
            assert error["code"] in ("code_unknown", "validation_error")

    @pytest.mark.parametrize("expiry", [10**11 * 60, 10**20, -(10**20)])
    def test_a_signed_code_with_an_absurd_expiry_is_refused(self, api, expiry: int) -> None:
        client, tokens, _ = api
        text = signed({"k": "reservation", "c": "mynumber", "r": "R-1", "x": expiry})
        response = client.post(
            "/api/v1/codes/verify", json={"code": text}, headers=bearer(tokens.kiosk)
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] in ("code_unknown", "code_expired")

    def test_a_code_valid_for_years_is_refused(self, api) -> None:
        client, tokens, _ = api
        visit = VisitCode("reservation", "mynumber", "R-1", OPEN_MOMENT + timedelta(days=3650))
        text = make_code(SECRET.encode(), visit)
        response = client.post(
            "/api/v1/codes/verify", json={"code": text}, headers=bearer(tokens.kiosk)
        )
        refused(response, 422, "code_unknown")


class TestAssetsAndOffice:
    def test_a_nul_byte_in_an_asset_path_is_not_found(self, api) -> None:
        client, _, _ = api
        refused(client.get("/assets/a%00b.js"), 404, "not_found")
        refused(client.get("/assets/" + "x" * 5000), 404, "not_found")

    @pytest.mark.parametrize("depth", [20, 1000, 5000])
    def test_a_deeply_nested_office_file_is_refused(self, api, depth: int) -> None:
        client, tokens, _ = api
        text = DEMO_OFFICE.read_text(encoding="utf-8") + "\nx = " + "[" * depth + "]" * depth
        response = client.put(
            "/api/v1/admin/office", content=text.encode(), headers=bearer(tokens.admin)
        )
        error = refused(response, 422, "invalid_configuration")
        assert "nested deeper" in error["message"]

    def test_an_office_with_a_huge_number_range_is_refused(self, api) -> None:
        client, tokens, _ = api
        text = DEMO_OFFICE.read_text(encoding="utf-8").replace(
            'numbers = "1-499"', 'numbers = "1-99999999999999999999999"', 1
        )
        assert "99999999999999999999999" in text
        response = client.put(
            "/api/v1/admin/office", content=text.encode(), headers=bearer(tokens.admin)
        )
        refused(response, 422, "invalid_configuration")


class TestWebSocket:
    @pytest.mark.parametrize("channel", ["clerk", "kiosk", "board"])
    def test_a_binary_hello_is_refused_with_an_error(self, api, channel: str) -> None:
        client, _, _ = api
        with client.websocket_connect(f"/ws/{channel}") as ws:
            ws.send_bytes(b'{"type": "hello"}')
            error = json.loads(ws.receive_text())
            assert (error["type"], error["code"]) == ("error", "unauthorized")
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
            assert closed.value.code == 4401

    def test_binary_frames_after_hello_are_ignored(self, api) -> None:
        client, _, _ = api
        with client.websocket_connect("/ws/public") as ws:
            assert json.loads(ws.receive_text())["type"] == "snapshot"
            ws.send_bytes(b"\x00\x01")
            ws.send_text(json.dumps({"type": "ping"}))
            while (message := json.loads(ws.receive_text()))["type"] != "pong":
                assert message["type"] in ("status", "heartbeat")


class TestStrictTypes:
    def test_a_string_is_not_a_boolean(self, api) -> None:
        client, tokens, _ = api
        response = client.post(
            "/api/v1/counters/c1/call-next",
            json={"finish_current": "yes"},
            headers=bearer(tokens.clerk),
        )
        refused(response, 422, "validation_error")

    @pytest.mark.parametrize("birth", ["0001-01-01", "2999-01-01", "1899-12-31", "2026-11-27"])
    def test_implausible_birth_dates_are_refused(self, api, birth: str) -> None:
        client, _, _ = api
        card = {"name": "試験 花子", "address": "白河市1-1", "birth": "19900401", "sex": "2"}
        fields = {**prefill_from_card("juminhyo", card), "relation": "self", "scope": "household"}
        fields.update({"copies": 2, "purpose": "bank"})
        birth_field = next(k for k in fields if k.endswith("birth_date"))
        fields[birth_field] = birth
        response = client.post(
            "/api/v1/preapplications",
            json={"category_id": "certificates", "form": "juminhyo", "fields": fields},
        )
        error = refused(response, 422, "form_invalid")
        assert birth_field in json.dumps(error)

    @pytest.mark.parametrize("password", [" " * 12, "short-admin", ""])
    def test_admin_passwords_are_long_and_not_blank(self, api, password: str) -> None:
        client, tokens, _ = api
        response = client.post(
            "/api/v1/admin/staff",
            json={"name": "boss", "role": "admin", "password": password},
            headers=bearer(tokens.admin),
        )
        refused(response, 422)

    def test_a_clerk_password_of_spaces_is_refused(self, api) -> None:
        client, tokens, _ = api
        response = client.post(
            "/api/v1/admin/staff",
            json={"name": "clerk9", "role": "clerk", "password": " " * 8},
            headers=bearer(tokens.admin),
        )
        refused(response, 422, "weak_password")


@pytest.mark.parametrize("minutes", ["1e11", "100000000000", "0", "-5"])
def test_codes_make_refuses_an_absurd_validity(minutes: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "MADOGUCHI_SECRET_KEY": SECRET, "MADOGUCHI_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "madoguchi.cli", "codes", "make", "--kind", "reservation"]
    made = subprocess.run(
        [*command, "--category", "mynumber", "--minutes", minutes],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert made.returncode == 2
    assert "Traceback" not in made.stderr and "minutes" in made.stderr
