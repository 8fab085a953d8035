"""Queue server benchmark: issue throughput and latency, and call-to-subscriber latency.

Runs real server processes (`madoguchi serve`) on SQLite and on PostgreSQL and drives them over
HTTP and WebSocket from this process. Prints markdown tables.

    .venv/bin/python bench/bench_queue.py [--kiosks 16] [--tickets 100] [--calls 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.server import bearer, prepare, roomy_office, server_process

from queue_server.service.ports import SystemClock

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fresh_pg() -> str:
    name = f"madoguchi_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_pg(url: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def issue_load(base: str, token: str, kiosks: int, per_kiosk: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()

    def kiosk(index: int) -> None:
        category = ("certificates", "koseki", "tax", "moving")[index % 4]
        with httpx.Client(base_url=base, headers=bearer(token), timeout=60) as client:
            for _ in range(per_kiosk):
                start = time.perf_counter()
                response = client.post("/api/v1/tickets", json={"category_id": category})
                elapsed = time.perf_counter() - start
                assert response.status_code == 201, response.text
                with lock:
                    latencies.append(elapsed * 1000)

    threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(kiosks)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - start), latencies


def call_latency(
    call_base: str, listen_base: str, kiosk: str, clerk: str, calls: int
) -> list[float]:
    """Time from sending call-next to the subscriber receiving the ticket.called event."""
    out: list[float] = []
    with (
        httpx.Client(base_url=call_base, timeout=30) as client,
        connect(listen_base.replace("http", "ws") + "/ws/public") as ws,
    ):
        json.loads(ws.recv(timeout=10))  # snapshot
        for _ in range(calls):
            client.post("/api/v1/tickets", json={"category_id": "mynumber"}, headers=bearer(kiosk))
            start = time.perf_counter()
            called = client.post("/api/v1/counters/c8/call-next", headers=bearer(clerk)).json()[
                "ticket"
            ]
            while True:
                message = json.loads(ws.recv(timeout=10))
                if message["type"] == "event" and message["event"]["type"] == "ticket.called":
                    break
            out.append((time.perf_counter() - start) * 1000)
            client.post(f"/api/v1/tickets/{called['id']}/finish", headers=bearer(clerk))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=16)
    parser.add_argument("--tickets", type=int, default=100, help="tickets per kiosk")
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()

    issue_rows, call_rows = [], []
    for database, estimator in (
        ("sqlite", "forecast"),
        ("sqlite", "replay"),
        ("postgresql", "forecast"),
        ("postgresql", "replay"),
    ):
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db" if database == "sqlite" else fresh_pg()
        try:
            engine, tokens = prepare(url, SystemClock(), raw=roomy_office())
            engine.dispose()
            bus = "memory://" if database == "sqlite" else "postgresql"
            with server_process(url, event_bus=bus, estimator=estimator) as base:
                rate, lat = issue_load(base, tokens.kiosk, args.kiosks, args.tickets)
                issue_rows.append(
                    (
                        database,
                        estimator,
                        args.kiosks,
                        len(lat),
                        rate,
                        pct(lat, 0.5),
                        pct(lat, 0.95),
                    )
                )
                if estimator == "replay":
                    continue  # calls compute no estimate: measured once per database
                calls = call_latency(base, base, tokens.kiosk, tokens.clerk, args.calls)
                call_rows.append((database, "same process", calls))
                if database == "postgresql":
                    with server_process(url, event_bus="postgresql") as other:
                        calls = call_latency(other, base, tokens.kiosk, tokens.clerk, args.calls)
                        call_rows.append((database, "other process (LISTEN/NOTIFY)", calls))
        finally:
            if database == "postgresql":
                drop_pg(url)

    print("\n### Issuing tickets (HTTP, concurrent kiosks, one server process)\n")
    print("| database | estimator | kiosks | tickets | tickets/s | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for db, estimator, kiosks, n, rate, p50, p95 in issue_rows:
        print(f"| {db} | {estimator} | {kiosks} | {n} | {rate:.0f} | {p50:.1f} | {p95:.1f} |")
    print("\n### Call to subscriber (call-next sent -> ticket.called received on /ws/public)\n")
    print("| database | subscriber on | calls | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    for db, where, values in call_rows:
        print(
            f"| {db} | {where} | {len(values)} | {statistics.median(values):.1f}"
            f" | {pct(values, 0.95):.1f} |"
        )


if __name__ == "__main__":
    main()
