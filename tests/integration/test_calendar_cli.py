"""`madoguchi calendar` and `madoguchi counter`: the real command changes what a running server
does (the kiosk is refused on a closed day, issues within a 休日開庁 day's hours), through the
upload path (validation, 409 for live tickets), keeping the file's comments, audit-logged."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from support.server import Tokens, app_client, bearer
from tests_constants import OPEN_MOMENT, TOKYO

from queue_server.adapters.office_file import DEMO_OFFICE
from queue_server.service.ports import FakeClock


def madoguchi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


def issue(client: TestClient, tokens: Tokens, category: str = "certificates") -> dict:
    answer = client.post(
        "/api/v1/tickets", json={"category_id": category}, headers=bearer(tokens.kiosk)
    )
    return {"status": answer.status_code, **answer.json()}


def audit_rows(url: str) -> list[tuple[str, str, str]]:
    engine = create_engine(url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT actor, action, detail FROM audit_log ORDER BY id")).all()
    engine.dispose()
    return [(r.actor, r.action, r.detail) for r in rows]


def office_source(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as c:
        found = c.execute(text("SELECT source FROM offices")).scalar_one()
    engine.dispose()
    return str(found)


class TestCalendarShow:
    def test_lists_holidays_year_end_and_special_openings(self, sqlite_url: str) -> None:
        db = ("--database-url", sqlite_url)
        assert madoguchi("db", "upgrade", *db).returncode == 0
        assert madoguchi("office", "load", str(DEMO_OFFICE), *db).returncode == 0
        this_year = madoguchi("calendar", "show", "--year", "2026", *db)
        assert this_year.returncode == 0, this_year.stderr
        lines = this_year.stdout.splitlines()
        for day in ("12-29 (火)", "12-30 (水)", "12-31 (木)", "01-01 (木)", "01-02 (金)"):
            assert f"2026-{day}  closed  年末年始" in lines
        assert "2026-11-23 (月)  closed  勤労感謝の日" in lines
        assert not any(line.startswith("2026-11-28") for line in lines)  # a plain Saturday
        next_year = madoguchi("calendar", "show", "--year", "2027", *db).stdout.splitlines()
        assert "2027-03-28 (日)  open    09:00-12:00  休日開庁" in next_year
        assert "2027-01-04 (月)  closed  年末年始" not in next_year  # 12/29-1/3 only


@pytest.fixture
def running(database_url: str):
    clock = FakeClock(OPEN_MOMENT)  # Thursday 2026-11-26 10:00
    db = ("--database-url", database_url)
    with app_client(database_url, clock) as (client, tokens, _):
        # As an administrator would have: the file loaded from disk, its text kept.
        assert madoguchi("office", "load", str(DEMO_OFFICE), *db).returncode == 0
        yield client, tokens, clock, db, database_url


class TestDaysChangedOnTheCommandLine:
    def test_a_closed_day_refuses_the_kiosk(self, running) -> None:
        client, tokens, _, db, url = running
        assert issue(client, tokens)["status"] == 201
        closed = madoguchi("calendar", "close-day", "2026-11-26", "--reason", "庁舎停電", *db)
        assert closed.returncode == 0, closed.stderr
        refused = issue(client, tokens)
        assert refused["status"] == 409
        assert refused["error"]["code"] == "office_closed"
        office = client.get("/api/v1/office").json()
        assert {"date": "2026-11-26", "reason": "庁舎停電"} in office["closed_days"]
        assert madoguchi("calendar", "clear-day", "2026-11-26", *db).returncode == 0
        assert issue(client, tokens)["status"] == 201
        actors = {actor for actor, _, _ in audit_rows(url)}
        assert len(actors) == 1 and actors.pop().startswith("cli:")
        actions = [action for _, action, _ in audit_rows(url)]
        assert actions == ["office.day_closed", "office.day_cleared"]

    def test_a_special_opening_issues_within_its_hours_only(self, running) -> None:
        client, tokens, clock, db, url = running
        clock.set(datetime(2026, 11, 29, 10, 0, tzinfo=TOKYO))  # a Sunday
        assert issue(client, tokens)["error"]["code"] == "office_closed"
        opened = madoguchi(
            "calendar",
            "open-day",
            "2026-11-29",
            "--hours",
            "09:00-12:00",
            "--note",
            "転入繁忙期",
            *db,
        )
        assert opened.returncode == 0, opened.stderr
        ticket = issue(client, tokens)
        assert ticket["status"] == 201, ticket
        clock.set(datetime(2026, 11, 29, 12, 0, tzinfo=TOKYO))
        assert issue(client, tokens)["error"]["code"] == "office_closed"
        source = office_source(url)
        assert '"2026-11-29" = "09:00-12:00" # 転入繁忙期' in source
        assert "# 休日開庁 for the moving season" in source  # the file's own comments stay
        assert audit_rows(url)[-1][1:] == (
            "office.day_opened",
            "office=shirakawa-shimin open 2026-11-29 09:00-12:00",
        )

    def test_a_special_opening_for_some_procedures_only(self, running) -> None:
        client, tokens, clock, db, url = running
        clock.set(datetime(2026, 11, 29, 10, 0, tzinfo=TOKYO))  # a Sunday
        opened = madoguchi(
            "calendar", "open-day", "2026-11-29", "--hours", "09:00-12:00",
            "--procedures", "moving,koseki", *db,
        )  # fmt: skip
        assert opened.returncode == 0, opened.stderr
        assert issue(client, tokens, "moving")["status"] == 201
        assert issue(client, tokens, "koseki")["status"] == 201
        assert issue(client, tokens, "certificates")["error"]["code"] == "office_closed"
        source = office_source(url)
        assert '"2026-11-29" = {hours = "09:00-12:00", procedures = ["moving", "koseki"]}' in source
        shown = madoguchi("calendar", "show", "--year", "2026", *db).stdout.splitlines()
        assert "2026-11-29 (日)  open    09:00-12:00  休日開庁 (moving, koseki)" in shown
        unknown = madoguchi(
            "calendar", "open-day", "2026-11-29", "--hours", "09:00-12:00",
            "--procedures", "passports", *db,
        )  # fmt: skip
        assert unknown.returncode == 2 and "unknown procedure(s): passports" in unknown.stderr

    def test_a_mistake_changes_nothing(self, running) -> None:
        *_, db, url = running
        before = office_source(url)
        bad = madoguchi("calendar", "open-day", "2026-11-29", "--hours", "12:00-09:00", *db)
        assert bad.returncode == 2
        assert "special_openings" in bad.stderr and "ends before it starts" in bad.stderr
        assert office_source(url) == before
        assert audit_rows(url) == []


class TestCounters:
    def test_add_and_remove_follow_the_live_ticket_rule(self, running) -> None:
        client, tokens, _, db, url = running
        added = madoguchi(
            "counter", "add", "c9", "--number", "9", "--categories", "certificates,koseki", *db
        )
        assert added.returncode == 0, added.stderr
        counters = {c["id"]: c for c in client.get("/api/v1/office").json()["counters"]}
        assert counters["c9"]["number"] == 9
        assert issue(client, tokens)["status"] == 201
        called = client.post("/api/v1/counters/c9/call-next", headers=bearer(tokens.clerk))
        assert called.status_code == 200, called.text
        refused = madoguchi("counter", "remove", "c9", *db)
        assert refused.returncode == 2
        assert "office_change_conflict" in refused.stderr and "c9" in refused.stderr
        assert any(c["id"] == "c9" for c in client.get("/api/v1/office").json()["counters"])
        ticket = called.json()["ticket"]["id"]
        client.post(f"/api/v1/tickets/{ticket}/finish", headers=bearer(tokens.clerk))
        assert madoguchi("counter", "remove", "c9", *db).returncode == 0
        assert all(c["id"] != "c9" for c in client.get("/api/v1/office").json()["counters"])
        again = madoguchi("counter", "add", "c1", "--number", "1", "--categories", "tax", *db)
        assert again.returncode == 2 and "already exists" in again.stderr
        actions = [action for _, action, _ in audit_rows(url)]
        assert actions == ["office.counter_added", "office.counter_removed"]
