"""Issue path and status reads under wrk, side by side with a peer system (MADO-queue).

Starts `madoguchi serve` on SQLite (a fresh file) and on PostgreSQL (a fresh database, dropped
afterwards), loads it with Debian's `wrk` (Lua scripts written into a temporary directory) and
prints one markdown table per scenario. After every issue run the database is checked: numbers
per category and business date gap-free from 1, every acknowledged ticket stored, event seq
contiguous and equal to the office's seq.

With --peer-url, each scenario also runs on the peer right before and after every Madoguchi run
(peer, Madoguchi on SQLite, peer, Madoguchi on PostgreSQL, peer), and Madoguchi's rows get their
ratio to the mean of the two neighbouring peer runs: the host's speed drifts, ratios hold. The
status scenario runs first, so a peer started on an empty database is topped up to exactly 150
waiting tickets before any issue run adds thousands more.

    .venv/bin/python bench/bench_issue.py [--seconds 10] [--only sqlite|postgresql]
        [--scenario kiosks16|kiosk1|status ...] [--peer-url http://127.0.0.1:8100]
        [--server-env ESTIMATOR=replay ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bench_queue import drop_pg, fresh_pg
from support.server import bearer, prepare, roomy_office, server_process
from tests_constants import REDIS_URL

from queue_server.service.ports import SystemClock

# The categories kiosks take turns issuing in; numbers are checked per category.
CATEGORIES = ("certificates", "koseki", "tax", "moving")
WAITING_FOR_READS = 150

# MADO-queue's own endpoints and what its kiosk page sends (category letter and button label;
# no timestamp, so the server stamps the current time and the ticket counts as today's).
PEER_ISSUE_PATH = "/get_next_number"
PEER_DISPLAY_PATH = "/display_data"
PEER_BODIES = (
    {"category": "A", "buttonText": "住民票", "staffCount": 1},
    {"category": "C", "buttonText": "戸籍届出", "staffCount": 1},
    {"category": "A", "buttonText": "印鑑証明", "staffCount": 1},
    {"category": "B", "buttonText": "転出", "staffCount": 1},
)


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    threads: int
    connections: int
    reads: bool
    target: str


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "kiosks16",
            "16 kiosks issuing as fast as they can (wrk -t2 -c16)",
            2,
            16,
            False,
            "SQLite >= 700 tickets/s with p95 < 30 ms; PostgreSQL >= 400/s with p95 < 50 ms",
        ),
        Scenario(
            "kiosk1",
            "1 kiosk issuing one ticket after another (wrk -t1 -c1)",
            1,
            1,
            False,
            "p95 < 5 ms",
        ),
        Scenario(
            "status",
            f"16 readers of the lobby figures, {WAITING_FOR_READS} tickets waiting (wrk -t2 -c16)",
            2,
            16,
            True,
            ">= 2,000 reads/s with p95 < 20 ms",
        ),
    )
}
# Reads first: the peer's waiting count only grows, and its display query scans today's tickets.
RUN_ORDER = ("status", "kiosk1", "kiosks16")
PRINT_ORDER = ("kiosks16", "kiosk1", "status")


@dataclass(frozen=True)
class Load:
    """What every wrk request is: method, path, headers and the JSON bodies taken in turn."""

    method: str
    path: str
    headers: dict[str, str]
    bodies: tuple[str, ...] = ()
    ok_status: int = 200
    capture_ids: bool = False


@dataclass
class WrkResult:
    statuses: Counter[int]
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    socket_errors: dict[str, int]
    ids: list[int] = field(default_factory=list)

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)

    def others(self, ok_status: int) -> str:
        parts = [f"{n} × {s}" for s, n in sorted(self.statuses.items()) if s != ok_status]
        parts += [f"{n} {kind} errors" for kind, n in self.socket_errors.items() if n]
        return ", ".join(parts) or "none"


@dataclass
class Row:
    system: str
    database: str
    load: Load
    result: WrkResult
    checked: str
    peer_rate: float | None = None
    peer_p95: float | None = None

    @property
    def ok(self) -> int:
        return self.result.count(self.load.ok_status)

    @property
    def rate(self) -> float:
        return self.ok / self.result.seconds if self.result.seconds else 0.0


def lua_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


LUA = """\
-- Written by bench/bench_issue.py: one load; statuses counted and ticket ids kept per thread.
local method = {method}
local path = {path}
local bodies = {{ {bodies} }}
local headers = {{ {headers} }}
local capture = {capture}
local out = {out}

local threads = {{}}
local started = 0
local prepared = {{}}
local turn = 0
codes = {{}}
ids = {{}}

function setup(thread)
  started = started + 1
  thread:set("offset", started)
  table.insert(threads, thread)
end

function init(args)
  if #bodies == 0 then
    prepared[1] = wrk.format(method, path, headers)
  else
    for i, body in ipairs(bodies) do
      prepared[i] = wrk.format(method, path, headers, body)
    end
  end
  turn = offset or 0
end

function request()
  turn = turn + 1
  return prepared[turn % #prepared + 1]
end

function response(status, response_headers, body)
  codes[status] = (codes[status] or 0) + 1
  if capture and status == 201 then
    local id = string.match(body, '"id":(%d+)')
    if id then
      ids[#ids + 1] = tonumber(id)
    end
  end
end

function done(summary, latency, requests)
  local f = assert(io.open(out, "w"))
  f:write(string.format("duration_us %d\\n", summary.duration))
  for _, kind in ipairs({{"connect", "read", "write", "timeout"}}) do
    f:write(string.format("error_%s %d\\n", kind, summary.errors[kind]))
  end
  for _, p in ipairs({{50, 95, 99}}) do
    f:write(string.format("p%d_us %d\\n", p, latency:percentile(p)))
  end
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("codes")) do
      f:write(string.format("status %d %d\\n", status, n))
    end
    for _, id in ipairs(thread:get("ids")) do
      f:write(string.format("id %d\\n", id))
    end
  end
  f:close()
end
"""


def run_wrk(base: str, load: Load, scenario: Scenario, seconds: int, workdir: Path) -> WrkResult:
    """One wrk run; latencies over every request (the timeout is long so none is dropped)."""
    out = workdir / f"wrk-{time.monotonic_ns()}.out"
    script = out.with_suffix(".lua")
    script.write_text(
        LUA.format(
            method=lua_string(load.method),
            path=lua_string(load.path),
            bodies=", ".join(lua_string(b) for b in load.bodies),
            headers=", ".join(
                f"[{lua_string(k)}] = {lua_string(v)}" for k, v in load.headers.items()
            ),
            capture="true" if load.capture_ids else "false",
            out=lua_string(str(out)),
        )
    )
    command = [
        "wrk",
        f"-t{scenario.threads}",
        f"-c{scenario.connections}",
        f"-d{seconds}s",
        "--timeout",
        "60s",
        "--latency",
        "-s",
        str(script),
        base + load.path,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed: {completed.stderr.strip() or completed.stdout[-2000:]}")
    values: dict[str, int] = {}
    statuses: Counter[int] = Counter()
    ids: list[int] = []
    for line in out.read_text().splitlines():
        key, *rest = line.split()
        if key == "status":
            statuses[int(rest[0])] += int(rest[1])
        elif key == "id":
            ids.append(int(rest[0]))
        else:
            values[key] = int(rest[0])
    return WrkResult(
        statuses=statuses,
        seconds=values["duration_us"] / 1e6,
        p50_ms=values["p50_us"] / 1000,
        p95_ms=values["p95_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        socket_errors={k: values[f"error_{k}"] for k in ("connect", "read", "write", "timeout")},
        ids=ids,
    )


def madoguchi_issue_load(token: str) -> Load:
    return Load(
        "POST",
        "/api/v1/tickets",
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        tuple(json.dumps({"category_id": c, "language": "ja"}) for c in CATEGORIES),
        ok_status=201,
        capture_ids=True,
    )


STATUS_LOAD = Load("GET", "/api/v1/status", {})
PEER_ISSUE_LOAD = Load(
    "POST",
    PEER_ISSUE_PATH,
    {"Content-Type": "application/json"},
    tuple(json.dumps(b) for b in PEER_BODIES),
)
PEER_DISPLAY_LOAD = Load("GET", PEER_DISPLAY_PATH, {})


def bench_office() -> dict[str, Any]:
    """The roomy demo office with the largest ranges allowed: no run of any length exhausts them."""
    raw = roomy_office()
    for category in raw["categories"]:
        category["numbers"] = "1-99999"
    return raw


@contextmanager
def fresh_database(database: str, workdir: Path) -> Iterator[str]:
    if database == "sqlite":
        yield f"sqlite:///{workdir / f'madoguchi-{time.monotonic_ns()}.db'}"
        return
    url = fresh_pg()
    try:
        yield url
    finally:
        drop_pg(url)


def stored_count(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT COUNT(*) FROM tickets")).scalar_one())


def settle(engine: Engine, quiet_seconds: float = 1.0, limit: float = 60.0) -> None:
    """Wait until requests still in flight when wrk stopped have finished writing."""
    deadline = time.monotonic() + limit
    last, since = stored_count(engine), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_seconds:
        time.sleep(0.2)
        now = stored_count(engine)
        if now != last:
            last, since = now, time.monotonic()


def check_issue(engine: Engine, result: WrkResult, connections: int) -> str:
    """The issue invariants after a run; 'ok' or what failed."""
    failed: list[str] = []
    with engine.connect() as c:
        groups = c.execute(
            text(
                "SELECT t.origin_category_id, t.business_date, COUNT(*), COUNT(DISTINCT t.number),"
                " MIN(t.number), MAX(t.number), MAX(s.last_number)"
                " FROM tickets t LEFT JOIN number_sequences s"
                " ON s.office_id = t.office_id AND s.category_id = t.origin_category_id"
                " AND s.business_date = t.business_date"
                " GROUP BY t.origin_category_id, t.business_date"
            )
        ).all()
        stored = {int(i) for i in c.execute(text("SELECT id FROM tickets")).scalars()}
        office_seq = int(c.execute(text("SELECT MAX(seq) FROM offices")).scalar_one() or 0)
        events, low, high, issued_events = c.execute(
            text(
                "SELECT COUNT(*), MIN(seq), MAX(seq),"
                " SUM(CASE WHEN type = 'ticket.issued' THEN 1 ELSE 0 END) FROM office_events"
            )
        ).one()
    for category, day, n, distinct, lowest, highest, last in groups:
        if not (n == distinct == highest and lowest == 1):
            failed.append(f"{category} {day}: {n} tickets, numbers {lowest}..{highest}")
        if last != highest:
            failed.append(f"{category} {day}: counter {last} != highest number {highest}")
    acknowledged = set(result.ids)
    if len(acknowledged) != len(result.ids) or len(result.ids) != result.count(201):
        failed.append(f"{result.count(201)} × 201 but {len(acknowledged)} distinct ticket ids")
    lost = acknowledged - stored
    if lost:
        failed.append(f"{len(lost)} acknowledged tickets not stored")
    unanswered = len(stored - acknowledged)
    if unanswered > connections:
        failed.append(f"{unanswered} stored tickets never acknowledged")
    if events and not (low == 1 and high == events == office_seq):
        failed.append(f"events seq {low}..{high}, {events} rows, office seq {office_seq}")
    if (issued_events or 0) != len(stored):
        failed.append(f"{issued_events} ticket.issued events for {len(stored)} tickets")
    if failed:
        return "FAILED: " + "; ".join(failed)
    # wrk closes its connections at the deadline: a request already sent is still stored.
    return f"ok ({unanswered} in flight at stop)" if unanswered else "ok"


def issue_tickets(
    base: str, path: str, bodies: list[dict[str, Any]], headers: dict[str, str]
) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for body in bodies:
            client.post(path, json=body).raise_for_status()


def madoguchi_waiting(base: str) -> int:
    status = httpx.get(f"{base}/api/v1/status", timeout=60).json()
    return sum(int(c["waiting"]) for c in status["categories"])


def run_madoguchi(
    scenario: Scenario,
    database: str,
    server_env: dict[str, str],
    seconds: int,
    workdir: Path,
    workers: int = 1,
) -> Row:
    """A fresh database and `madoguchi serve`, one wrk run against it, then the checks."""
    settings = {"data_dir": str(workdir), **server_env}
    # several workers need a shared bus: the queue database's NOTIFY, or Redis next to SQLite
    shared = "postgresql" if database == "postgresql" else REDIS_URL
    bus = settings.pop("event_bus", "memory://" if workers == 1 else shared)
    with fresh_database(database, workdir) as url:
        engine, tokens = prepare(url, SystemClock(), raw=bench_office())
        try:
            with server_process(url, bus, None, workers, **settings) as base:
                if scenario.reads:
                    bodies = [
                        {"category_id": CATEGORIES[i % len(CATEGORIES)]}
                        for i in range(WAITING_FOR_READS)
                    ]
                    issue_tickets(base, "/api/v1/tickets", bodies, bearer(tokens.kiosk))
                    load = STATUS_LOAD
                    result = run_wrk(base, load, scenario, seconds, workdir)
                    waiting = madoguchi_waiting(base)
                    checked = "ok" if waiting == WAITING_FOR_READS else f"{waiting} waiting"
                else:
                    load = madoguchi_issue_load(tokens.kiosk)
                    result = run_wrk(base, load, scenario, seconds, workdir)
                    settle(engine)
                    checked = check_issue(engine, result, scenario.connections)
        finally:
            engine.dispose()
    name = "SQLite" if database == "sqlite" else "PostgreSQL"
    return Row("Madoguchi", name, load, result, checked)


def peer_waiting(base: str) -> int:
    return int(httpx.get(base + PEER_DISPLAY_PATH, timeout=60).json()["waiting_count"])


def run_peer(scenario: Scenario, base: str, seconds: int, workdir: Path) -> Row:
    """One wrk run against the peer; reads first top its queue up to 150 waiting."""
    if scenario.reads:
        missing = WAITING_FOR_READS - peer_waiting(base)
        bodies = [PEER_BODIES[i % len(PEER_BODIES)] for i in range(max(0, missing))]
        issue_tickets(base, PEER_ISSUE_PATH, bodies, {})
        result = run_wrk(base, PEER_DISPLAY_LOAD, scenario, seconds, workdir)
        waiting = peer_waiting(base)
        checked = "ok" if waiting == WAITING_FOR_READS else f"{waiting} waiting: not comparable"
        return Row("MADO-queue", "SQLite (its own)", PEER_DISPLAY_LOAD, result, checked)
    result = run_wrk(base, PEER_ISSUE_LOAD, scenario, seconds, workdir)
    return Row("MADO-queue", "SQLite (its own)", PEER_ISSUE_LOAD, result, "not checked")


def run_scenario(
    scenario: Scenario,
    databases: list[str],
    peer_url: str | None,
    server_env: dict[str, str],
    seconds: int,
    workdir: Path,
    workers: int = 1,
) -> list[Row]:
    """Madoguchi on each database, each run bracketed by peer runs when a peer is given."""
    rows: list[Row] = []
    if peer_url:
        rows.append(run_peer(scenario, peer_url, seconds, workdir))
    for database in databases:
        ours = run_madoguchi(scenario, database, server_env, seconds, workdir, workers)
        rows.append(ours)
        if peer_url:
            before = rows[-2]
            after = run_peer(scenario, peer_url, seconds, workdir)
            ours.peer_rate = statistics.mean([before.rate, after.rate])
            ours.peer_p95 = statistics.mean([before.result.p95_ms, after.result.p95_ms])
            rows.append(after)
    return rows


def ratio(value: float, peer: float | None) -> str:
    return f"{value / peer:.2f}×" if peer else ""


def print_table(scenario: Scenario, rows: list[Row], with_peer: bool) -> None:
    unit = "reads/s" if scenario.reads else "tickets/s"
    ok = "200" if scenario.reads else "201 (peer: 200)" if with_peer else "201"
    print(f"\n### {scenario.title}\n\nTarget for Madoguchi: {scenario.target}.\n")
    head = ["run", "system", "database", ok, "other responses", unit, "p50 ms", "p95 ms", "p99 ms"]
    if with_peer:
        head += [f"{unit} ratio to peer", "p95 ratio to peer"]
    head.append("checked")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for index, row in enumerate(rows, 1):
        r = row.result
        cells = [
            str(index),
            row.system,
            row.database,
            f"{row.ok:,}",
            r.others(row.load.ok_status),
            f"{row.rate:,.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p95_ms:.1f}",
            f"{r.p99_ms:.1f}",
        ]
        if with_peer:
            cells += [ratio(row.rate, row.peer_rate), ratio(r.p95_ms, row.peer_p95)]
        cells.append(row.checked)
        print("| " + " | ".join(cells) + " |")


def parse_env(pairs: list[str]) -> dict[str, str]:
    """KEY=VALUE pairs as server settings; a MADOGUCHI_ prefix on KEY is optional."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--server-env wants KEY=VALUE, got {pair!r}")
        env[key.upper().removeprefix("MADOGUCHI_").lower()] = value
    return env


def describe_build() -> str:
    root = Path(__file__).resolve().parent.parent
    git = ["git", "-C", str(root)]
    sha = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    commit = sha.stdout.strip() or "unknown"
    return commit + (" with uncommitted changes" if dirty.stdout.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of every wrk run")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument(
        "--scenario",
        action="append",
        choices=tuple(SCENARIOS),
        help="run only this scenario (repeatable); default: all",
    )
    parser.add_argument("--peer-url", help="a running MADO-queue, e.g. http://127.0.0.1:8100")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="MADOGUCHI_KEY=VALUE for the server process (repeatable), e.g. ESTIMATOR=replay",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="`madoguchi serve --workers N` (shared bus)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: `apt-get install wrk` (make bench installs it)")
    server_env = parse_env(args.server_env)
    databases = [args.only] if args.only else ["sqlite", "postgresql"]
    chosen = [name for name in RUN_ORDER if not args.scenario or name in args.scenario]
    peer_url = args.peer_url.rstrip("/") if args.peer_url else None

    load1 = os.getloadavg()[0]
    results: dict[str, list[Row]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-issue-") as tmp:
        for name in chosen:
            results[name] = run_scenario(
                SCENARIOS[name],
                databases,
                peer_url,
                server_env,
                args.seconds,
                Path(tmp),
                args.workers,
            )

    env_text = ", ".join(f"MADOGUCHI_{k.upper()}={v}" for k, v in server_env.items()) or "none"
    print(f"\n{date.today()}: Madoguchi at commit {describe_build()}, {os.cpu_count()} cores,")
    print(f"load average {load1:.1f} at the start, {args.seconds} s a run, server env: {env_text},")
    print(f"{args.workers} server worker process(es).")
    if peer_url:
        print(f"Peer: MADO-queue at {peer_url}; ratios to the mean of the peer runs either side.")
    for name in PRINT_ORDER:
        if name in results:
            print_table(SCENARIOS[name], results[name], peer_url is not None)


if __name__ == "__main__":
    main()
