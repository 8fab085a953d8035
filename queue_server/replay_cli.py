"""Backtest and simulation subcommands: `madoguchi replay` and `madoguchi simulate`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _fail(message: str) -> int:
    print(f"madoguchi: {message}", file=sys.stderr)
    return 2


def _bar(total: int, unit: str, label: str) -> Any:
    """A progress bar on stderr when it is a terminal; None (quiet) when piped or redirected."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=label, file=sys.stderr, leave=False)


def _office(path: str) -> Any:
    from queue_server.adapters.office_file import parse_office, read_office_file

    return parse_office(read_office_file(Path(path)))


def _replay(args: argparse.Namespace) -> int:
    from queue_server.backtest.log import LogError, read_log, read_sessions, write_predictions
    from queue_server.backtest.metrics import Scored, score, summary_lines
    from queue_server.backtest.replay import replay
    from queue_server.domain.errors import DomainError

    try:
        office = _office(args.office)
        records = read_log(Path(args.log))
        sessions = read_sessions(Path(args.sessions)) if args.sessions else None
    except (DomainError, LogError, OSError) as exc:
        return _fail(getattr(exc, "message", None) or str(exc))
    known = {c.id for c in office.categories}
    unknown = sorted({r.category_id for r in records} - known)
    if unknown:
        return _fail(f"the log has categories the office file lacks: {', '.join(unknown)}")
    from queue_server.domain.facts import day_start_of

    days = len({day_start_of(r.issued_at, office.zone) for r in records})
    bar = _bar(len(records), "ticket", f"replaying {days} days")
    try:
        rows = replay(records, office, sessions, progress=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    write_predictions(Path(args.out), (row.prediction for row in rows))
    print(f"wrote {len(rows)} predictions to {args.out}")
    scored = [
        Scored(
            row.record.wait_minutes, row.prediction.minutes, row.prediction.low, row.prediction.high
        )
        for row in rows
        if row.record.wait_minutes is not None
        and row.prediction.minutes is not None
        and row.prediction.low is not None
        and row.prediction.high is not None
    ]
    if scored:
        for line in summary_lines(score(scored)):
            print(line)
    else:
        print("no called tickets in the log: nothing to score")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from datetime import date

    from queue_server.backtest.log import write_log, write_sessions
    from queue_server.domain.errors import DomainError
    from queue_server.simulation.engine import open_days, simulate_days
    from queue_server.simulation.model import SCENARIOS, scenario_model

    if args.scenario not in SCENARIOS:
        return _fail(f"unknown scenario {args.scenario!r}; known: {', '.join(SCENARIOS)}")
    try:
        office = _office(args.office)
        start = date.fromisoformat(args.start) if args.start else SCENARIOS[args.scenario].start
    except (DomainError, OSError, ValueError) as exc:
        return _fail(getattr(exc, "message", None) or str(exc))
    model = scenario_model(
        office, args.scenario, seed=args.seed, tickets_per_day=args.tickets_per_day
    )
    dates = open_days(start, args.days)
    bar = _bar(len(dates), "day", f"simulating ({args.scenario})")
    days = []
    for day in dates:  # one at a time, so the bar moves; the same seeds as simulate_days
        days += simulate_days(model, [day], seed=args.seed)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_log(out / "LOG.csv", (r for d in days for r in d.records))
    write_sessions(out / "SESSIONS.csv", (s for d in days for s in d.sessions))
    tickets = sum(len(d.records) for d in days)
    print(
        f"simulated {len(days)} days, {tickets} tickets: {out / 'LOG.csv'}, {out / 'SESSIONS.csv'}"
    )
    return 0


def register(sub: Any) -> None:
    """Add `replay` and `simulate` to the `madoguchi` parser."""
    replay = sub.add_parser(
        "replay",
        help="backtest the wait estimate on a ticket log",
        description="Replay LOG.csv and write what the system would have shown at each issue.",
    )
    replay.add_argument("log", metavar="LOG.csv")
    replay.add_argument("--office", required=True, metavar="OFFICE_FILE")
    replay.add_argument("--sessions", metavar="SESSIONS.csv", help="counter staffing periods")
    replay.add_argument("--out", required=True, metavar="PRED.csv")
    replay.set_defaults(handler=_replay)

    simulate = sub.add_parser(
        "simulate",
        help="simulate city-hall days and write LOG.csv and SESSIONS.csv",
    )
    simulate.add_argument("--days", type=int, default=5)
    simulate.add_argument("--seed", type=int, default=1)
    simulate.add_argument("--office", required=True, metavar="OFFICE_FILE")
    simulate.add_argument("--out", required=True, metavar="DIR")
    simulate.add_argument(
        "--start", help="first day (ISO date; default: the scenario's, 2027-02-01 for default)"
    )
    simulate.add_argument("--tickets-per-day", type=float, default=380.0)
    simulate.add_argument(
        "--scenario",
        default="default",
        help="a world that differs from the default: "
        "default, impatient, breaks, skills, quiet, moving (see docs/estimation.md)",
    )
    simulate.set_defaults(handler=_simulate)
