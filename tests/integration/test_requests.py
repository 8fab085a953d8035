"""書かない窓口 on the server: prefilled requests reach the clerk, as data and as a signed-ready
PDF, audit-logged, gone at day close; pre-applications from home become tickets once."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, func, select
from support.server import Tokens, app_client, bearer, fresh_status
from tests_constants import OPEN_MOMENT

from queue_server.adapters import tables as t
from queue_server.domain.forms import prefill_from_card
from queue_server.service.ports import FakeClock

# The fictional person of the reference's synthetic card vector.
CARD = {
    "name": "試験　花子",
    "address": "東京都千代田区霞が関１－２－３",
    "birth": "19900401",
    "sex": "2",
}
FIELDS = {
    **prefill_from_card("juminhyo", CARD),
    "relation": "self",
    "scope": "household",
    "copies": 2,
    "purpose": "bank",
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPEN_MOMENT)


@pytest.fixture
def api(
    database_url: str, clock: FakeClock, tmp_path: Path
) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    with app_client(database_url, clock, data_dir=tmp_path, secret_key="k" * 32) as parts:
        yield parts


def issue_with_request(
    client: TestClient, tokens: Tokens, fields: dict = FIELDS, form: str = "juminhyo"
):
    return client.post(
        "/api/v1/tickets",
        json={"category_id": "certificates", "request": {"form": form, "fields": fields}},
        headers=bearer(tokens.kiosk),
    )


def everything_stored(engine: Engine) -> str:
    """Every row of every table as text, to search for personal data."""
    with engine.connect() as c:
        return "\n".join(
            str([tuple(r) for r in c.execute(select(table))]) for table in t.metadata.sorted_tables
        )


def test_forms_are_published_without_data(api) -> None:
    client, _, _ = api
    forms = {f["id"]: f for f in client.get("/api/v1/forms").json()["forms"]}
    assert set(forms) == {"juminhyo", "inkan", "kazei"}
    fields = {f["name"]: f for f in forms["juminhyo"]["fields"]}
    assert fields["requester_name"]["from_card"] == "name"
    assert {c["value"] for c in fields["relation"]["choices"]} == {"self", "household", "proxy"}
    office = client.get("/api/v1/office").json()
    assert next(c for c in office["categories"] if c["id"] == "certificates")["forms"] == [
        "juminhyo",
        "inkan",
    ]


def test_clerk_sees_the_request_and_prints_it_then_day_close_deletes_it(
    api, clock: FakeClock
) -> None:
    client, tokens, engine = api
    ticket = issue_with_request(client, tokens).json()["ticket"]
    assert "試験" not in str(ticket)
    client.post("/api/v1/counters/c1/call-next", headers=bearer(tokens.clerk))
    request = client.get(
        f"/api/v1/tickets/{ticket['id']}/request", headers=bearer(tokens.clerk)
    ).json()["request"]
    assert request["fields"]["requester_name"] == "試験　花子"
    assert request["fields"]["requester_birth_date"] == "1990-04-01"
    assert (request["fee_per_copy"], request["fee_total"], request["source"]) == (300, 600, "kiosk")
    pdf = client.get(f"/api/v1/tickets/{ticket['id']}/request.pdf", headers=bearer(tokens.clerk))
    assert pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    for expected in (
        "住民票の写し等交付請求書",
        "試験",
        "花子",
        "霞が関",
        "1990-04-01",
        "合計 600円",
        ticket["number"],
    ):
        assert expected in text
    with engine.connect() as c:
        audit = c.execute(
            select(t.audit_log.c.actor, t.audit_log.c.action, t.audit_log.c.ticket_id)
        ).all()
    assert [tuple(a) for a in audit] == [
        ("staff:clerk0", "request.viewed", ticket["id"]),
        ("staff:clerk0", "request.viewed", ticket["id"]),
        ("staff:clerk0", "request.printed", ticket["id"]),
    ]
    # Events, status and the public views never carry the request.
    with engine.connect() as c:
        events = str([r.payload for r in c.execute(select(t.office_events.c.payload))])
    assert "試験" not in events and "霞が関" not in events
    assert "試験" not in json.dumps(fresh_status(client), ensure_ascii=False)
    clock.set(OPEN_MOMENT.replace(hour=18))
    client.app.state.container.service.close_day_if_due()
    gone = client.get(f"/api/v1/tickets/{ticket['id']}/request", headers=bearer(tokens.clerk))
    assert gone.status_code == 404
    stored = everything_stored(engine)
    assert "試験" not in stored and "霞が関" not in stored


def test_only_clerks_read_requests(api) -> None:
    client, tokens, _ = api
    ticket = issue_with_request(client, tokens).json()["ticket"]
    for token in (tokens.kiosk, tokens.board):
        assert (
            client.get(f"/api/v1/tickets/{ticket['id']}/request", headers=bearer(token)).status_code
            == 403
        )
    assert client.get(f"/api/v1/tickets/{ticket['id']}/request").status_code == 401


@pytest.mark.parametrize(
    ("fields", "form", "problem"),
    [
        ({**FIELDS, "copies": 0}, "juminhyo", "copies"),
        ({**FIELDS, "relation": "proxy", "subject_name": "代理 太郎",
          "include_individual_number": True}, "juminhyo", "include_individual_number"),
        ({**FIELDS, "requester_birth_date": "1990-13-45"}, "juminhyo", "requester_birth_date"),
        ({**FIELDS, "favourite_colour": "blue"}, "juminhyo", "favourite_colour"),
        ({k: v for k, v in FIELDS.items() if k != "requester_name"}, "juminhyo", "requester_name"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_by_field_without_echoing_data(api, fields, form, problem) -> None:
    client, tokens, engine = api
    response = issue_with_request(client, tokens, fields, form)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "form_invalid" and problem in error["message"]
    assert "試験" not in response.text and "霞が関" not in response.text
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(t.tickets)).scalar_one() == 0


def test_form_must_belong_to_the_procedure(api) -> None:
    client, tokens, _ = api
    response = client.post(
        "/api/v1/tickets",
        json={"category_id": "moving", "request": {"form": "juminhyo", "fields": FIELDS}},
        headers=bearer(tokens.kiosk),
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_request")


def test_preapplication_from_home_becomes_a_ticket_with_the_request_once(
    api, clock: FakeClock
) -> None:
    client, tokens, engine = api
    made = client.post(
        "/api/v1/preapplications",
        json={"category_id": "tax", "form": "kazei", "language": "en",
              "fields": {**prefill_from_card("kazei", CARD), "relation": "self", "tax_year": 2026,
                         "kind": "both", "copies": 1, "purpose": "visa"}},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    pre = made.json()["preapplication"]
    assert pre["fee_total"] == 600
    assert "<svg" in pre["qr_svg"]
    assert "試験" not in pre["code"]  # the QR carries only the signed token
    clock.advance(hours=1)
    ticket = client.post(
        "/api/v1/tickets", json={"code": pre["code"]}, headers=bearer(tokens.kiosk)
    ).json()["ticket"]
    assert (ticket["category_id"], ticket["number"]) == ("tax", "E-001")
    request = client.get(
        f"/api/v1/tickets/{ticket['id']}/request", headers=bearer(tokens.clerk)
    ).json()["request"]
    assert (request["source"], request["fields"]["tax_year"], request["fee_total"]) == (
        "preapplication",
        2026,
        600,
    )
    again = client.post("/api/v1/tickets", json={"code": pre["code"]}, headers=bearer(tokens.kiosk))
    assert again.json()["error"]["code"] == "code_used"
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(t.preapplications)).scalar_one() == 0


def test_preapplication_expires_and_is_purged(api, clock: FakeClock) -> None:
    client, tokens, engine = api
    pre = client.post(
        "/api/v1/preapplications",
        json={"category_id": "certificates", "form": "juminhyo", "fields": FIELDS},
    ).json()["preapplication"]
    clock.advance(days=8)
    expired = client.post(
        "/api/v1/tickets", json={"code": pre["code"]}, headers=bearer(tokens.kiosk)
    )
    assert expired.json()["error"]["code"] == "code_expired"
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(t.preapplications)).scalar_one() == 0


def test_bad_preapplications_are_refused(api) -> None:
    client, _, engine = api
    for body, code in (
        ({"category_id": "certificates", "form": "kazei", "fields": {}}, "invalid_request"),
        (
            {"category_id": "certificates", "form": "juminhyo", "fields": {"copies": 1}},
            "form_invalid",
        ),
        ({"category_id": "nope", "form": "juminhyo", "fields": FIELDS}, "not_found"),
    ):
        response = client.post("/api/v1/preapplications", json=body)
        assert response.json()["error"]["code"] == code
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(t.preapplications)).scalar_one() == 0
