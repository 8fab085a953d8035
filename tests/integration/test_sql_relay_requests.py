"""The record that makes each relay request processed once, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.server import prepare

from queue_server.adapters.sql_relay_requests import SqlRelayRequests, Stored
from queue_server.service.ports import SystemClock


def test_a_request_is_claimed_once_answered_once_and_forgotten_later(database_url: str) -> None:
    engine, _ = prepare(database_url, SystemClock())
    record = SqlRelayRequests(engine, "shirakawa-shimin")
    now = datetime.now(UTC)
    try:
        assert record.claim("request-0123456789abcdef", "/api/v1/reservations", now) is None
        # Pulled again before its answer was recorded: in progress, not new.
        assert record.claim("request-0123456789abcdef", "/api/v1/reservations", now) == Stored(
            None, None
        )
        record.finish("request-0123456789abcdef", 201, '{"reservation": {}}')
        assert record.claim("request-0123456789abcdef", "/api/v1/reservations", now) == Stored(
            201, '{"reservation": {}}'
        )
        assert record.forget(now - timedelta(hours=1)) == 0
        assert record.forget(now + timedelta(seconds=1)) == 1
        assert record.claim("request-0123456789abcdef", "/api/v1/reservations", now) is None
    finally:
        engine.dispose()
