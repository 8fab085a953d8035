"""Security headers, the API docs without a CDN, caching of private answers, public health."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from support.server import CLERK_PASSWORD, Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT

from queue_server.service.ports import FakeClock


@pytest.fixture
def api(sqlite_url: str) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    with app_client(sqlite_url, FakeClock(OPEN_MOMENT)) as parts:
        yield parts


@pytest.mark.parametrize("path", ["/apply", "/apply/apply.js", "/", "/clerk"])
def test_the_apply_page_has_the_same_headers_as_the_others(api, path: str) -> None:
    client, _, _ = api
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_docs_load_nothing_from_outside(api) -> None:
    client, _, _ = api
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assert "https://" not in page.text and "http://" not in page.text.replace(
            "http://www.w3.org", ""
        )
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
            if asset in page.text:
                assert client.get(f"/docs-assets/{asset}").status_code == 200
    assert client.get("/docs-assets/../../etc/passwd").status_code == 404


def test_production_mode_has_no_docs_pages(sqlite_url: str, tmp_path: Path) -> None:
    with app_client(
        sqlite_url, FakeClock(OPEN_MOMENT), environment="production", secret_key="k" * 40
    ) as (client, _, _):
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").status_code == 200


def test_private_answers_are_not_stored(api) -> None:
    client, tokens, _ = api
    for path in ("/api/v1/queue", "/api/v1/devices", "/api/v1/office"):
        response = client.get(path, headers=bearer(tokens.clerk))
        assert response.headers["cache-control"] == "no-store", path
    token = client.post(
        "/api/v1/auth/token", data={"username": "clerk0", "password": CLERK_PASSWORD}
    )
    assert token.headers["cache-control"] == "no-store"
    wrong = client.post("/api/v1/auth/token", data={"username": "clerk0", "password": "x"})
    assert wrong.headers["cache-control"] == "no-store"
    public = client.get("/api/v1/status")
    assert public.headers["cache-control"].startswith("public")


def test_public_health_shows_no_internals(api) -> None:
    client, tokens, _ = api
    assert set(client.get("/api/v1/health").json()) == {"ok", "seq"}
    internals = client.get("/api/v1/admin/health", headers=bearer(tokens.admin))
    assert internals.status_code == 200 and "subscribers" in internals.json()
    assert client.get("/api/v1/admin/health", headers=bearer(tokens.clerk)).status_code == 403
