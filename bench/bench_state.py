"""Cost of one queue-state recompute (read the queue, estimate every wait, shape the status).

This is the work the realtime hub does after changes (at most a few times a second) and on every
tick; no request runs it. The office is the demo office (8 counters) with `--waiting` tickets
spread over its procedures and every counter busy. Prints a markdown table.

    .venv/bin/python bench/bench_state.py [--waiting 200] [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bench_queue import drop_pg, fresh_pg, pct
from support.server import prepare, roomy_office
from tests_constants import OPEN_MOMENT

from queue_server.adapters.event_bus import MemoryBus
from queue_server.adapters.office_file import parse_office
from queue_server.adapters.sql_writer import SqlStoreFactory
from queue_server.api.app import ESTIMATORS
from queue_server.service.ports import FakeClock
from queue_server.service.queue import QueueService

CATEGORIES = ("certificates", "koseki", "moving", "insurance", "tax", "mynumber")


def measure(url: str, waiting: int, runs: int, estimator: str) -> list[float]:
    clock = FakeClock(OPEN_MOMENT)
    engine, _ = prepare(url, clock, raw=roomy_office())
    stores = SqlStoreFactory(engine, "shirakawa-shimin", MemoryBus())
    service = QueueService(
        stores, clock, parse_office, "http://bench", estimator=ESTIMATORS[estimator]
    )
    office = service.office_info()
    for counter in office["counters"]:  # every counter busy with a ticket of its own
        service.issue_ticket(counter["categories"][0])
        service.call_next(counter["id"])
    for i in range(waiting):
        clock.advance(seconds=9)
        service.issue_ticket(CATEGORIES[i % len(CATEGORIES)])
    times = []
    for _ in range(runs):
        clock.advance(seconds=30)  # a new tick: nothing is reused from the last state
        start = time.perf_counter()
        state = service.refresh_state()
        times.append((time.perf_counter() - start) * 1000)
    assert sum(c["waiting"] for c in state.status["categories"]) == waiting
    stores.close()
    engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=200)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    print("| database | estimator | waiting | counters busy | runs | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    for database in ("sqlite", "postgresql"):
        if args.only and database != args.only:
            continue
        for estimator in ("forecast", "replay"):
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/bench.db" if database == "sqlite" else fresh_pg()
                try:
                    times = measure(url, args.waiting, args.runs, estimator)
                finally:
                    if database == "postgresql":
                        drop_pg(url)
            print(
                f"| {database} | {estimator} | {args.waiting} | 8 | {args.runs} "
                f"| {statistics.median(times):.1f} | {pct(times, 0.95):.1f} | {max(times):.1f} |"
            )


if __name__ == "__main__":
    main()
