"""The relay at a city's peak: thousands of residents' WebSockets, and the congestion JSON.

Runs the real parts as processes on this machine: `madoguchi serve` (SQLite) pushing to
`madoguchi relay`, and `--clients` public WebSockets on the relay, opened by `--client-procs`
asyncio processes (each from its own 127.0.0.x source address, closing with SO_LINGER 0). The
clients share the machine's cores with the servers, so the figures are pessimistic.

Measured:
- call -> delivered: a clerk's call-next on the queue server, from just before the request, to
  the moment each client receives the `ticket.called` event (same clock), over `--calls` calls;
- the relay's memory per connection (RSS with the clients connected, minus before, per client);
- `GET /api/v1/status` on the relay under wrk (16 connections): 200s, then 304s (If-None-Match).

    .venv/bin/python bench/bench_relay.py [--clients 10000] [--client-procs 2] [--calls 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support.server import (  # noqa: E402
    RELAY_SECRET,
    bearer,
    prepare,
    relay_process,
    server_process,
)

from queue_server.service.ports import SystemClock  # noqa: E402


def raise_nofile() -> None:
    """The benchmark, not the product, raises its open-file limit (children inherit it)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _clients(url: str, count: int, source: str, calls: int, out: Path) -> None:
    """One client process: `count` WebSockets; records when each call's event arrives."""
    import websockets

    arrivals: dict[str, list[float]] = {}
    ready = 0

    async def one() -> None:
        nonlocal ready
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.setsockopt(socket.IPPROTO_IP, 24, 1)  # IP_BIND_ADDRESS_NO_PORT
        sock.bind((source, 0))
        host, port = url.split("//")[1].split("/")[0].split(":")
        sock.connect((host, int(port)))
        async with websockets.connect(
            url, sock=sock, compression=None, open_timeout=120, ping_interval=None, max_queue=None
        ) as ws:
            await ws.recv()  # snapshot
            ready += 1
            seen = 0
            async for raw in ws:
                # Only calls matter here: skip parsing statuses and heartbeats (the clients share
                # the servers' cores, so they must cost as little as possible).
                if '"ticket.called"' not in raw:
                    continue
                message = json.loads(raw)
                if (
                    message.get("type") == "event"
                    and message["event"].get("type") == "ticket.called"
                ):
                    arrivals.setdefault(message["event"]["ticket"]["number"], []).append(
                        time.time()
                    )
                    seen += 1
                    if seen >= calls:
                        return

    tasks = []
    for start in range(0, count, 200):
        tasks += [asyncio.create_task(one()) for _ in range(min(200, count - start))]
        await asyncio.sleep(0.05)
    while ready < count:
        await asyncio.sleep(0.2)
    (out.parent / (out.name + ".ready")).write_text("ok")
    done, pending = await asyncio.wait(tasks, timeout=calls * 5 + 60)
    failed = len(pending) + sum(1 for t in done if t.exception() is not None)
    out.write_text(json.dumps({"arrivals": arrivals, "failed": failed}))


def client_main() -> None:
    url, count, source, calls, out = sys.argv[2:7]
    raise_nofile()
    asyncio.run(_clients(url, int(count), source, int(calls), Path(out)))


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def relay_pid(port: str) -> int:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                command = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"relay" in command and f"127.0.0.1:{port}".encode() in command:
                return int(proc.name)
    raise RuntimeError("relay process not found")


def wrk(url: str, seconds: int, etag: str | None, work: Path) -> tuple[float, str]:
    script = work / "wrk.lua"
    header = f'wrk.headers["If-None-Match"] = {json.dumps(etag)}\n' if etag else ""
    script.write_text(
        header
        + "done = function(summary, latency, requests)\n"
        + '  io.write(string.format("RESULT %d %d %.3f\\n", summary.requests,'
        + " summary.errors.status, latency:percentile(95) / 1000))\nend\n"
    )
    output = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in output.splitlines() if x.startswith("RESULT"))
    _, requests, _, p95 = line.split()
    return int(requests) / seconds, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    args = parser.parse_args()
    raise_nofile()
    work = Path(tempfile.mkdtemp(prefix="bench-relay-"))
    url = f"sqlite:///{work / 'm.db'}"
    engine, tokens = prepare(url, SystemClock(), always_open=True)
    engine.dispose()
    push = {"relay_push_url": "", "relay_push_secret": RELAY_SECRET}
    with relay_process() as relay:
        port = relay.rsplit(":", 1)[1]
        push["relay_push_url"] = relay
        with server_process(url, **push) as server:
            kiosk, clerk = bearer(tokens.kiosk), bearer(tokens.clerk)
            for _ in range(args.calls + 150):  # calls, and a lobby of 150 waiting
                httpx.post(
                    f"{server}/api/v1/tickets", json={"category_id": "certificates"}, headers=kiosk
                )
            time.sleep(2)
            pid = relay_pid(port)
            before = rss_kb(pid)
            per = args.clients // args.client_procs
            outs = [work / f"client{i}.json" for i in range(args.client_procs)]
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "client",
                        f"{relay.replace('http', 'ws')}/ws/public",
                        str(per),
                        f"127.0.0.{10 + i}",
                        str(args.calls),
                        str(out),
                    ]
                )
                for i, out in enumerate(outs)
            ]
            started = time.monotonic()
            while not all((o.parent / (o.name + ".ready")).exists() for o in outs):
                if time.monotonic() - started > 300 or any(p.poll() is not None for p in procs):
                    raise SystemExit("clients did not connect")
                time.sleep(0.5)
            connect_s = time.monotonic() - started
            time.sleep(2)
            after = rss_kb(pid)
            sent: dict[str, float] = {}
            for i in range(args.calls):
                at = time.time()
                answer = httpx.post(
                    f"{server}/api/v1/counters/c1/call-next",
                    json={"finish_current": i > 0},
                    headers=clerk,
                    timeout=30,
                )
                sent[answer.json()["ticket"]["number"]] = at
                time.sleep(1.0)
            for p in procs:
                p.wait(120)
            latencies: list[float] = []
            failed = 0
            for out in outs:
                result = json.loads(out.read_text())
                failed += result["failed"]
                for number, times in result["arrivals"].items():
                    latencies += [(t - sent[number]) * 1000 for t in times]
            etag = httpx.get(f"{relay}/api/v1/status").headers["etag"]
            reads, reads_p95 = wrk(f"{relay}/api/v1/status", args.seconds, None, work)
            cached, cached_p95 = wrk(f"{relay}/api/v1/status", args.seconds, etag, work)
    q = statistics.quantiles(latencies, n=100)
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M')} UTC, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}; relay and queue server on this machine with the clients.\n"
    )
    print("| measure | result |\n|---|---|")
    print(
        f"| public WebSockets on one relay process | {args.clients:,} "
        f"({args.client_procs} client processes; connected in {connect_s:.0f} s; "
        f"{failed} failed) |"
    )
    print(
        f"| call on the queue server -> delivered to every client, {args.calls} calls "
        f"({len(latencies):,} deliveries) | p50 {statistics.median(latencies):.0f} ms, "
        f"p95 {q[94]:.0f} ms, p99 {q[98]:.0f} ms, max {max(latencies):.0f} ms |"
    )
    print(
        f"| relay memory per connection | {(after - before) / args.clients:.1f} kB "
        f"(RSS {before / 1024:.0f} -> {after / 1024:.0f} MB) |"
    )
    print(
        f"| relay `GET /api/v1/status`, 16 connections, 200s | {reads:,.0f} reads/s, "
        f"p95 {reads_p95} ms |"
    )
    print(f"| same with `If-None-Match` (304s) | {cached:,.0f} reads/s, p95 {cached_p95} ms |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        client_main()
    else:
        main()
