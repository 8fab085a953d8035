"""Schemathesis over the OpenAPI document, bounded: 30 examples per operation with a fixed seed,
as a clerk, a kiosk and an admin. No answer may be a 5xx or break the documented response schema.

Hypothesis drives each operation's strategy directly (schemathesis' pytest plugin does not load
its schema from a fixture under this pytest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402
from support.server import app_client, bearer  # noqa: E402
from tests_constants import OPEN_MOMENT  # noqa: E402

from queue_server.service.ports import FakeClock  # noqa: E402

#: Left out: ending the fuzzer's own session would turn every later case into a 401.
SKIPPED = {("POST", "/api/v1/auth/logout")}
BOUNDED = settings(
    max_examples=30,
    derandomize=True,  # a fixed seed: the same cases every run
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def send(client: TestClient, case: Any, token: str) -> None:
    """Send one case with `token` and apply the two checks."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    headers = {**(kwargs.pop("headers", None) or {}), **bearer(token)}
    if "data" in kwargs and isinstance(kwargs["data"], bytes | str):
        kwargs["content"] = kwargs.pop("data")
    for unused in ("timeout", "allow_redirects", "verify", "cookies"):
        kwargs.pop(unused, None)  # the API uses no cookies
    response = client.request(headers=headers, follow_redirects=False, **kwargs)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


@pytest.mark.slow
@pytest.mark.parametrize("who", ["clerk", "kiosk", "admin"])
def test_no_server_error_and_no_schema_violation(who: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'madoguchi.db'}"
    with app_client(url, FakeClock(OPEN_MOMENT), data_dir=tmp_path, secret_key="f" * 40) as (
        client,
        tokens,
        _,
    ):
        token = getattr(tokens, who)
        schema = schemathesis.openapi.from_dict(client.app.openapi())  # type: ignore[attr-defined]
        failures: list[str] = []
        operations = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue
            operations += 1

            @given(case=operation.as_strategy())
            @BOUNDED
            def fuzz(case: Any) -> None:
                send(client, case, token)

            try:
                fuzz()
            except Exception as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
        assert operations > 30
        assert not failures, "\n\n".join(failures)
