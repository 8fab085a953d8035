"""Login throttling (per account and per address, growing, 429 + Retry-After) and the audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from support.server import ADMIN_PASSWORD, CLERK_PASSWORD, Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT

from queue_server.adapters import tables as t
from queue_server.adapters.throttle import FREE_PER_ACCOUNT, FREE_PER_ADDRESS, lock_for
from queue_server.service.ports import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPEN_MOMENT)


@pytest.fixture
def api(database_url: str, clock: FakeClock) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    with app_client(database_url, clock) as parts:
        yield parts


def login(client: TestClient, name: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": name, "password": password})


def audit_rows(engine: Engine) -> list[dict]:
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(select(t.audit_log).order_by(t.audit_log.c.id))]


class TestThrottling:
    def test_lock_outs_grow(self) -> None:
        delays = [lock_for(n, 3) for n in range(1, 12)]
        assert delays[:3] == [None, None, None]
        seconds = [d.total_seconds() for d in delays[3:] if d is not None]
        assert seconds == sorted(seconds) and seconds[0] == 2 and seconds[1] == 4
        assert lock_for(1000, 3).total_seconds() == 15 * 60  # capped

    def test_the_right_password_is_refused_during_a_lock_out(self, api, clock) -> None:
        client, _, _ = api
        for _ in range(FREE_PER_ACCOUNT):
            assert login(client, "clerk0", "wrong-password").status_code == 401
        locked = login(client, "clerk0", "wrong-password")
        assert locked.status_code == 401  # this failure sets the first lock-out
        right = login(client, "clerk0", CLERK_PASSWORD)
        assert right.status_code == 429
        assert int(right.headers["retry-after"]) >= 1
        error = right.json()["error"]
        assert error["code"] == "login_locked"
        assert "right password is refused" in error["message"]
        assert "正しいパスワードでもログインできません" in error["message_ja"]
        clock.advance(seconds=int(right.headers["retry-after"]) + 1)
        assert login(client, "clerk0", CLERK_PASSWORD).status_code == 200

    def test_the_lock_grows_with_each_failure_after_it(self, api, clock) -> None:
        client, _, _ = api
        waits = []
        for _ in range(4):
            while (answer := login(client, "clerk0", "wrong")).status_code == 401:
                pass
            waits.append(int(answer.headers["retry-after"]))
            clock.advance(seconds=waits[-1] + 1)
        assert waits == sorted(waits) and waits[-1] > waits[0]

    def test_another_account_is_not_locked_by_one_accounts_failures(self, api) -> None:
        client, _, _ = api
        for _ in range(FREE_PER_ACCOUNT + 2):
            login(client, "clerk0", "wrong")
        assert login(client, "admin", ADMIN_PASSWORD).status_code == 200

    def test_an_address_trying_many_accounts_is_locked(self, api) -> None:
        client, _, _ = api
        statuses = [
            login(client, f"nobody{i}", "wrong").status_code for i in range(FREE_PER_ADDRESS + 2)
        ]
        assert statuses[:FREE_PER_ADDRESS] == [401] * FREE_PER_ADDRESS
        assert login(client, "admin", ADMIN_PASSWORD).status_code == 429

    def test_failures_and_logins_are_audited_without_passwords(self, api) -> None:
        client, _, engine = api
        login(client, "clerk0", "secret-wrong-1")
        login(client, "no-such-user", "secret-wrong-2")
        assert login(client, "clerk0", CLERK_PASSWORD).status_code == 200
        rows = [(r["actor"], r["action"]) for r in audit_rows(engine)]
        assert rows == [
            ("staff:clerk0", "login.failed"),
            ("unknown-user", "login.failed"),
            ("staff:clerk0", "login"),
        ]
        dump = repr(audit_rows(engine))
        assert "secret-wrong" not in dump and CLERK_PASSWORD not in dump
        assert "no-such-user" not in dump

    def test_password_checks_are_rationed(self, api, monkeypatch) -> None:
        """A flood of logins waits for a few argon2 slots, then is told to retry."""
        import queue_server.adapters.accounts as accounts_module

        client, _, _ = api
        monkeypatch.setattr(accounts_module, "HASHING_WAIT_SECONDS", 0.1)
        accounts = client.app.state.container.accounts  # type: ignore[attr-defined]
        held = [accounts._hashing.acquire() for _ in range(accounts_module.HASHING_AT_ONCE)]
        try:
            busy = login(client, "clerk0", CLERK_PASSWORD)
        finally:
            for _ in held:
                accounts._hashing.release()
        assert busy.status_code == 429 and busy.headers["retry-after"] == "2"
        assert busy.json()["error"]["code"] == "login_busy"
        assert login(client, "clerk0", CLERK_PASSWORD).status_code == 200


class TestAuditLog:
    def test_admin_and_staff_actions_are_recorded(self, api) -> None:
        client, tokens, engine = api
        admin = bearer(tokens.admin)
        client.post(
            "/api/v1/admin/staff",
            json={"name": "suzuki", "role": "clerk", "password": "long-enough-pw"},
            headers=admin,
        )
        client.post("/api/v1/admin/devices", json={"name": "k2", "kind": "kiosk"}, headers=admin)
        client.post("/api/v1/admin/devices/k2/revoke", headers=admin)
        client.post("/api/v1/admin/devices/k2/rotate", headers=admin)
        client.post("/api/v1/admin/staff/suzuki/disable", headers=admin)
        client.post(
            "/api/v1/counters/c1/state", json={"state": "paused"}, headers=bearer(tokens.clerk)
        )
        office = client.get("/api/v1/admin/office.toml", headers=admin).text
        assert client.put("/api/v1/admin/office", content=office, headers=admin).status_code == 200
        actions = [(r["actor"], r["action"], r["device"], r["detail"]) for r in audit_rows(engine)]
        assert actions == [
            ("staff:admin", "staff.added", None, "staff=suzuki role=clerk"),
            ("staff:admin", "device.added", "k2", "kind=kiosk"),
            ("staff:admin", "device.revoked", "k2", None),
            ("staff:admin", "device.rotated", "k2", None),
            ("staff:admin", "staff.disabled", None, "staff=suzuki"),
            ("staff:clerk0", "counter.state", None, "counter=c1 paused"),
            ("staff:admin", "office.uploaded", None, "categories=6 counters=8"),
        ]
        assert "long-enough-pw" not in repr(audit_rows(engine))

    def test_counter_events_carry_their_actor_for_staff_only(self, api) -> None:
        client, tokens, engine = api
        client.post(
            "/api/v1/counters/c1/state", json={"state": "paused"}, headers=bearer(tokens.clerk)
        )
        with engine.connect() as c:
            payload = c.execute(
                select(t.office_events.c.payload).where(t.office_events.c.type == "counter.changed")
            ).scalar_one()
        assert payload["detail"] == {"state": "paused", "actor": "staff:clerk0"}

    def test_admins_list_and_export_the_log(self, api) -> None:
        client, tokens, _ = api
        login(client, "clerk0", "wrong")
        client.post(
            "/api/v1/counters/c2/state", json={"state": "closed"}, headers=bearer(tokens.clerk)
        )
        listed = client.get("/api/v1/admin/audit", headers=bearer(tokens.admin))
        assert listed.status_code == 200
        assert listed.headers["cache-control"] == "no-store"
        entries = listed.json()["entries"]
        assert [e["action"] for e in entries] == ["counter.state", "login.failed"]
        assert entries[0]["at"] == "2026-11-26T10:00:00+09:00"
        only = client.get(
            "/api/v1/admin/audit", params={"action": "login.failed"}, headers=bearer(tokens.admin)
        )
        assert [e["action"] for e in only.json()["entries"]] == ["login.failed"]
        exported = client.get(
            "/api/v1/admin/audit", params={"format": "csv"}, headers=bearer(tokens.admin)
        )
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
        assert [r["action"] for r in rows] == ["counter.state", "login.failed"]
        assert rows[0]["detail"] == "counter=c2 closed"
        assert client.get("/api/v1/admin/audit", headers=bearer(tokens.clerk)).status_code == 403

    def test_a_formula_typed_as_a_user_name_stays_text_in_the_csv(self) -> None:
        from datetime import UTC, datetime

        from queue_server.adapters.audit import audit_csv

        row = {"id": 1, "at": datetime(2026, 1, 1, tzinfo=UTC), "actor": "=HYPERLINK(1)"}
        assert "'=HYPERLINK(1)" in audit_csv([{**row, "action": "login.failed"}])
