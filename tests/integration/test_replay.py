"""`madoguchi simulate` and `madoguchi replay` end to end, and the no-look-ahead guarantee."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from queue_server.adapters.office_file import DEMO_OFFICE, parse_office, read_office_file
from queue_server.backtest.log import TicketRecord, read_log, read_predictions, write_log
from queue_server.backtest.replay import replay
from queue_server.simulation.engine import open_days, simulate_days
from queue_server.simulation.model import model_from_office

OFFICE = parse_office(read_office_file(DEMO_OFFICE))


def madoguchi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def small_days() -> list:
    model = model_from_office(OFFICE, seed=7, tickets_per_day=160)
    return simulate_days(model, open_days(date(2027, 2, 1), 2), seed=7)


def test_simulate_then_replay_writes_predictions_and_prints_metrics(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    sim = madoguchi(
        "simulate",
        "--days",
        "2",
        "--seed",
        "3",
        "--office",
        str(DEMO_OFFICE),
        "--out",
        str(out),
        "--tickets-per-day",
        "150",
    )
    assert sim.returncode == 0, sim.stderr
    log = read_log(out / "LOG.csv")
    assert {r.outcome for r in log} <= {"done", "no_show", "cancelled"}
    assert any(r.priority == "reservation" for r in log)

    pred = tmp_path / "PRED.csv"
    result = madoguchi(
        "replay",
        str(out / "LOG.csv"),
        "--office",
        str(DEMO_OFFICE),
        "--sessions",
        str(out / "SESSIONS.csv"),
        "--out",
        str(pred),
    )
    assert result.returncode == 0, result.stderr
    for label in ("MAE:", "RMSE:", "within ±5 min:", "80% interval coverage:"):
        assert label in result.stdout
    header = pred.read_text(encoding="utf-8").splitlines()[0]
    assert header == "ticket_id,estimate_minutes,low_minutes,high_minutes"
    predictions = read_predictions(pred)
    assert [p.ticket_id for p in predictions] == sorted(r.ticket_id for r in log)
    shown = [p for p in predictions if p.minutes is not None]
    assert len(shown) > 0.95 * len(predictions)
    assert all(p.low <= p.minutes <= p.high for p in shown)  # type: ignore[operator]

    inferred = madoguchi(
        "replay",
        str(out / "LOG.csv"),
        "--office",
        str(DEMO_OFFICE),
        "--out",
        str(tmp_path / "inferred.csv"),
    )
    assert inferred.returncode == 0 and "MAE:" in inferred.stdout


def test_a_broken_log_is_refused_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "LOG.csv"
    bad.write_text(
        "ticket_id,category_id,priority,issued_at,called_at,started_at,finished_at,counter_id,outcome\n"
        "1,certificates,normal,2027-02-01T09:00:00,,,,,done\n",
        encoding="utf-8",
    )
    result = madoguchi(
        "replay", str(bad), "--office", str(DEMO_OFFICE), "--out", str(tmp_path / "p.csv")
    )
    assert result.returncode == 2
    assert "LOG.csv:2" in result.stderr and "offset" in result.stderr
    assert "Traceback" not in result.stderr


def _scramble_after(records: list[TicketRecord], cut: datetime) -> list[TicketRecord]:
    """Every event at or after `cut` changed: later calls, other outcomes, extra tickets."""

    def later(moment: datetime | None) -> datetime | None:
        if moment is None or moment < cut:
            return moment
        return moment + timedelta(minutes=37)

    changed = []
    for r in records:
        if r.issued_at >= cut:
            r = dataclasses.replace(r, category_id="tax", priority="assistance")
        changed.append(
            dataclasses.replace(
                r,
                called_at=later(r.called_at),
                started_at=later(r.started_at),
                finished_at=later(r.finished_at),
                outcome="no_show" if r.called_at is not None and r.called_at >= cut else r.outcome,
            )
        )
    extra = [
        TicketRecord(
            f"x{i}",
            "moving",
            "normal",
            cut + timedelta(minutes=i),
            None,
            None,
            None,
            None,
            "cancelled",
        )
        for i in range(30)
    ]
    return changed + extra


@pytest.mark.parametrize("with_sessions", [True, False])
def test_no_look_ahead(small_days: list, with_sessions: bool) -> None:
    records = [r for d in small_days for r in d.records]
    sessions = [s for d in small_days for s in d.sessions] if with_sessions else None
    second = small_days[1].truth.day
    cut = datetime.combine(second, datetime.min.time(), tzinfo=OFFICE.zone) + timedelta(hours=11)
    before = {
        row.record.ticket_id: row.prediction
        for row in replay(records, OFFICE, sessions, only_days=[second])
        if row.record.issued_at < cut
    }
    if sessions is not None:  # staffing after the cut changes too
        sessions = [
            dataclasses.replace(
                s,
                open_at=s.open_at + timedelta(minutes=25) if s.open_at >= cut else s.open_at,
                close_at=s.close_at + timedelta(minutes=25) if s.close_at >= cut else s.close_at,
            )
            for s in sessions
        ]
    scrambled = {
        row.record.ticket_id: row.prediction
        for row in replay(_scramble_after(records, cut), OFFICE, sessions, only_days=[second])
        if row.record.issued_at < cut
    }
    assert len(before) > 50
    assert scrambled == before


def test_the_log_round_trips_through_csv(small_days: list, tmp_path: Path) -> None:
    records = list(small_days[0].records)
    write_log(tmp_path / "LOG.csv", records)
    assert read_log(tmp_path / "LOG.csv") == records


def test_progress_shows_on_a_terminal_and_stays_quiet_when_piped(tmp_path: Path) -> None:
    import fcntl
    import os
    import pty
    import struct
    import termios

    args = ["simulate", "--days", "2", "--office", str(DEMO_OFFICE), "--tickets-per-day", "60"]
    piped = madoguchi(*args, "--out", str(tmp_path / "piped"))
    assert piped.returncode == 0 and piped.stderr == ""

    master, slave = pty.openpty()
    # a terminal 100 columns wide (a fresh pty has none, and tqdm then draws nothing)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    try:
        on_terminal = subprocess.run(
            [sys.executable, "-m", "madoguchi.cli", *args, "--out", str(tmp_path / "tty")],
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=120,
        )
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal is closed once everything is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert on_terminal.returncode == 0
    # The bar is drawn at 0/2 and redrawn at most every 0.1 s; whether 1/2 or 2/2 is drawn before
    # it is cleared depends on the machine's speed, so only the first drawing is certain.
    assert b"simulating (default)" in shown and b"0/2" in shown


class TestScenarios:
    def test_each_scenario_changes_the_world_it_names(self) -> None:
        from queue_server.simulation.model import SCENARIOS, scenario_model

        base = model_from_office(OFFICE, seed=1)
        assert scenario_model(OFFICE, "default", seed=1) == base
        impatient = scenario_model(OFFICE, "impatient", seed=1)
        assert impatient.patience_share > base.patience_share and impatient.no_show > base.no_show
        breaks = scenario_model(OFFICE, "breaks", seed=1)
        assert breaks.lunch_minutes[1] > base.lunch_minutes[1]
        assert breaks.short_break_minutes[1] > base.short_break_minutes[1]
        skills = scenario_model(OFFICE, "skills", seed=1)
        counter = skills.counters[0]
        main, other = counter.categories[0], counter.categories[-1]
        assert counter.pace(other) > 1.4 * counter.pace(main)
        quiet = scenario_model(OFFICE, "quiet", seed=1)
        assert quiet.tickets_per_day < 0.7 * base.tickets_per_day
        assert SCENARIOS["quiet"].start.month == 7
        assert SCENARIOS["moving"].start < date(2027, 3, 1)

    def test_more_impatient_visitors_give_up_more_often(self) -> None:
        from queue_server.simulation.model import scenario_model

        dates = open_days(date(2027, 3, 22), 2)  # moving season: long queues

        def cancelled(name: str) -> int:
            model = scenario_model(OFFICE, name, seed=2)
            days = simulate_days(model, dates, seed=2)
            return sum(r.outcome == "cancelled" for d in days for r in d.records)

        assert cancelled("impatient") > 1.3 * cancelled("default")
