"""Signed visit codes: verified by the server, used once, refused clearly when bad."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from support.server import Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT

from queue_server.adapters import tables as t
from queue_server.domain.codes import VisitCode, make_code
from queue_server.service.ports import FakeClock

SECRET = "test-secret-for-codes"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPEN_MOMENT)


@pytest.fixture
def api(
    sqlite_url: str, clock: FakeClock, tmp_path: Path
) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    with app_client(sqlite_url, clock, data_dir=tmp_path, secret_key=SECRET) as parts:
        yield parts


def code(
    kind: str = "reservation", category: str = "mynumber", minutes: int = 60, secret: str = SECRET
) -> str:
    visit = VisitCode(kind, category, "R-0001", OPEN_MOMENT + timedelta(minutes=minutes))
    return make_code(secret.encode(), visit)


def tickets(engine: Engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(t.tickets)).scalar_one()


def test_valid_code_is_verified_and_issues_a_reservation_ticket_once(api) -> None:
    client, tokens, engine = api
    text = code()
    verified = client.post(
        "/api/v1/codes/verify", json={"code": text}, headers=bearer(tokens.kiosk)
    )
    assert verified.status_code == 200
    assert verified.json()["code"] == {
        "kind": "reservation",
        "category_id": "mynumber",
        "reference": "R-0001",
        "expires_at": "2026-11-26T11:00:00+09:00",
        "priority": "reservation",
    }
    issued = client.post("/api/v1/tickets", json={"code": text}, headers=bearer(tokens.kiosk))
    assert issued.status_code == 201
    ticket = issued.json()["ticket"]
    assert (ticket["category_id"], ticket["priority"], ticket["number"]) == (
        "mynumber",
        "reservation",
        "F-001",
    )
    again = client.post("/api/v1/tickets", json={"code": text}, headers=bearer(tokens.kiosk))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "code_used")
    assert (
        client.post(
            "/api/v1/codes/verify", json={"code": text}, headers=bearer(tokens.kiosk)
        ).status_code
        == 409
    )
    assert tickets(engine) == 1


def tamper(text: str) -> str:
    prefix, payload, signature = text.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["c"] = "certificates"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    return f"{prefix}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("make", "status", "error"),
    [
        (lambda: "https://example.com/not-ours", 422, "code_unknown"),
        (lambda: "4901234567894", 422, "code_unknown"),
        (lambda: tamper(code()), 422, "code_tampered"),
        (lambda: code(secret="another-server"), 422, "code_tampered"),
        (lambda: code(minutes=-1), 422, "code_expired"),
        (lambda: code(category="closed-forever"), 422, "code_unknown"),
    ],
)
def test_bad_codes_are_refused_and_change_nothing(api, make, status: int, error: str) -> None:
    client, tokens, engine = api
    text = make()
    for path, body in (
        ("/api/v1/codes/verify", {"code": text}),
        ("/api/v1/tickets", {"code": text}),
    ):
        response = client.post(path, json=body, headers=bearer(tokens.kiosk))
        assert (response.status_code, response.json()["error"]["code"]) == (status, error)
        assert response.json()["error"]["message_ja"].endswith("職員にお声がけください。")
    assert tickets(engine) == 0


def test_code_for_another_procedure_than_chosen_is_refused(api) -> None:
    client, tokens, engine = api
    response = client.post(
        "/api/v1/tickets", json={"code": code(), "category_id": "tax"}, headers=bearer(tokens.kiosk)
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_request")
    assert tickets(engine) == 0


def test_codes_need_a_kiosk_or_staff(api) -> None:
    client, tokens, _ = api
    assert client.post("/api/v1/codes/verify", json={"code": code()}).status_code == 401
    response = client.post(
        "/api/v1/codes/verify", json={"code": code()}, headers=bearer(tokens.board)
    )
    assert response.status_code == 403


def test_cli_makes_codes_the_server_accepts(api, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    client, tokens, _ = api
    png = tmp_path / "code.png"
    made = subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", "codes", "make", "--kind", "preapplication",
         "--category", "certificates", "--png", str(png)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "MADOGUCHI_SECRET_KEY": SECRET, "MADOGUCHI_DATA_DIR": str(tmp_path)},
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    text = made.stdout.strip().splitlines()[-1]
    # The CLI signs with the real clock; the server here runs on the fixed test moment.
    verified = client.post(
        "/api/v1/codes/verify", json={"code": text}, headers=bearer(tokens.kiosk)
    )
    assert verified.json()["code"]["kind"] == "preapplication"
    import zxingcpp
    from PIL import Image

    assert [r.text for r in zxingcpp.read_barcodes(Image.open(png))] == [text]
