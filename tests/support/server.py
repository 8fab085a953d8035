"""Helpers that build real servers: in-process (TestClient) and as separate processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from queue_server.adapters.accounts import Accounts
from queue_server.adapters.database import create_database_engine, upgrade
from queue_server.adapters.event_bus import EventBus
from queue_server.adapters.office_file import DEMO_OFFICE, around_the_clock, read_office_file
from queue_server.adapters.offices import load_office
from queue_server.api.app import create_app
from queue_server.service.ports import Clock, FakeClock, SystemClock
from queue_server.settings import ServerSettings

CLERK_PASSWORD = "clerk-password-1"
UNLIMITED = {
    name: 10**9
    for name in (
        "public_reads_per_minute",
        "preapplications_per_hour",
        "reservations_per_hour",
        "reservation_lookups_per_hour",
        "notices_per_hour",
    )
}
ADMIN_PASSWORD = "admin-password-1"


@dataclass
class Tokens:
    clerks: list[str] = field(default_factory=list)
    admin: str = ""
    kiosk: str = ""
    board: str = ""

    @property
    def clerk(self) -> str:
        return self.clerks[0]


def roomy_office() -> dict[str, Any]:
    """The demo office, open all day, with large number ranges and no caps (stress tests)."""
    raw = around_the_clock(read_office_file(DEMO_OFFICE))
    for category in raw["categories"]:
        category["numbers"] = "1-9999"
        category.pop("daily_cap", None)
    return raw


def prepare(
    url: str,
    clock: Clock,
    always_open: bool = False,
    clerks: int = 1,
    raw: dict[str, Any] | None = None,
) -> tuple[Engine, Tokens]:
    """Migrate, load the demo office, add staff and devices; return their tokens."""
    engine = create_database_engine(url)
    upgrade(engine)
    if raw is None:
        raw = read_office_file(DEMO_OFFICE)
        raw = around_the_clock(raw) if always_open else raw
    load_office(engine, raw, clock.now())
    # Cheap hashing keeps fixtures fast; the server verifies with the parameters in the hash.
    accounts = Accounts(
        engine, clock, staff_token_hours=1000, hasher=PasswordHasher(time_cost=1, memory_cost=1024)
    )
    tokens = Tokens()
    for i in range(clerks):
        accounts.add_user(f"clerk{i}", "clerk", CLERK_PASSWORD)
        tokens.clerks.append(accounts.log_in(f"clerk{i}", CLERK_PASSWORD)[0])
    accounts.add_user("admin", "admin", ADMIN_PASSWORD)
    tokens.admin = accounts.log_in("admin", ADMIN_PASSWORD)[0]
    tokens.kiosk = accounts.add_device("kiosk-1", "kiosk")[1]
    tokens.board = accounts.add_device("board-1", "board")[1]
    return engine, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def app_client(
    url: str, clock: FakeClock | None = None, bus: EventBus | None = None, **settings: Any
) -> Iterator[tuple[TestClient, Tokens, Engine]]:
    """The real app in-process (startup and shutdown run), on a real database."""
    used_clock: Clock = clock or SystemClock()
    engine, tokens = prepare(url, used_clock, always_open=clock is None)
    # Tests and benchmarks send many requests from one address: the residents' rate limits
    # are tested on their own (tests/integration/test_limits.py).
    settings = {**UNLIMITED, **settings}
    app = create_app(
        ServerSettings(
            database_url=url, heartbeat_seconds=settings.pop("heartbeat_seconds", 1.0), **settings
        ),
        clock=used_clock,
        engine=engine,
        bus=bus,
    )
    with TestClient(app) as client:
        yield client, tokens, engine
    engine.dispose()


def settled_status(base: str, timeout: float = 10.0) -> dict[str, Any]:
    """A live server's `/api/v1/status` once its state has caught up with the database."""
    deadline = time.monotonic() + timeout
    while True:
        seq = httpx.get(f"{base}/api/v1/health", timeout=5).json()["seq"]
        status = dict(httpx.get(f"{base}/api/v1/status", timeout=5).json())
        if status["seq"] >= seq:
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"status stayed at seq {status['seq']} < {seq}")
        time.sleep(0.02)


def fresh_status(client: TestClient) -> dict[str, Any]:
    """`/api/v1/status` once the server has recomputed its queue state from the database as it
    stands now (the state follows changes asynchronously, a fraction of a second later)."""
    container = client.app.state.container  # type: ignore[attr-defined]
    hub = container.hub
    committed = container.stores.current_seq()
    before = hub.refreshes
    client.portal.call(hub.changed)  # type: ignore[union-attr]
    deadline = time.monotonic() + 10
    # A recompute already under way when we asked may finish with an older seq: wait for ours.
    while hub.refreshes <= before or hub.state.seq < committed:
        if time.monotonic() > deadline:
            raise TimeoutError("the queue state was not recomputed")
        time.sleep(0.005)
    return dict(client.get("/api/v1/status").json())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Running(str):
    """A started service's base URL that also holds its process (for fault tests: kill -9)."""

    process: subprocess.Popen[bytes]

    def __new__(cls, base: str, process: subprocess.Popen[bytes]) -> Running:
        running = super().__new__(cls, base)
        running.process = process
        return running


@contextmanager
def _service(
    command: list[str], env: dict[str, str], base: str, probe: str, log: Path, what: str
) -> Iterator[Running]:
    """Start `command` with its output in `log`; yield once `base + probe` answers at all (any
    status: a relay that has no figures yet answers 503); stop it afterwards."""
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}{probe}", timeout=1)
                break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield Running(base, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def server_process(
    url: str,
    event_bus: str = "memory://",
    port: int | None = None,
    workers: int = 1,
    **settings: str,
) -> Iterator[str]:
    """`madoguchi serve` as its own process (with `workers` worker processes); yields its base
    URL. `settings` become MADOGUCHI_* environment variables (e.g. estimator="replay")."""
    port = port or free_port()
    env = {
        **os.environ,
        "MADOGUCHI_CATCH_UP_SECONDS": "1",
        "MADOGUCHI_HEARTBEAT_SECONDS": "2",
        **{f"MADOGUCHI_{name.upper()}": str(value) for name, value in UNLIMITED.items()},
        **{f"MADOGUCHI_{name.upper()}": value for name, value in settings.items()},
        "MADOGUCHI_EVENT_BUS": event_bus,
    }
    command = [
        sys.executable,
        "-m",
        "madoguchi.cli",
        "serve",
        "--database-url",
        url,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"madoguchi-server-{port}.log"
    base = f"http://127.0.0.1:{port}"
    with _service(command, env, base, "/api/v1/health", log, "server") as running:
        yield running


RELAY_SECRET = "relay-test-secret-0123456789abcdef0123"


@contextmanager
def relay_process(
    office_id: str = "shirakawa-shimin",
    port: int | None = None,
    redis: str | None = None,
    secrets: str = RELAY_SECRET,
    options: tuple[str, ...] = (),
) -> Iterator[str]:
    """`madoguchi relay` as its own process; yields its base URL once it answers. `options` go
    on its command line (e.g. "--offline-after", "3")."""
    port = port or free_port()
    command = [sys.executable, "-m", "madoguchi.cli", "relay", "--listen", f"127.0.0.1:{port}"]
    command += list(options)
    command += ["--office", office_id] + (["--redis", redis] if redis else [])
    env = {**os.environ, "MADOGUCHI_RELAY_SECRETS": secrets}
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"madoguchi-relay-{port}.log"
    base = f"http://127.0.0.1:{port}"
    with _service(command, env, base, "/healthz", log, "relay") as running:
        yield running


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@contextmanager
def nginx_proxy(upstreams: list[str], work: Path) -> Iterator[str]:
    """Debian's nginx in front of `upstreams` (base URLs), round robin, WebSockets upgraded;
    started like the other services, in the foreground, with everything under `work`."""
    port = free_port()
    servers = "\n".join(f"    server {u.split('//', 1)[1]};" for u in upstreams)
    (work / "logs").mkdir(parents=True, exist_ok=True)
    config = work / "nginx.conf"
    config.write_text(
        f"""worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi;
  scgi_temp_path {work}/scgi;
  upstream madoguchi {{
{servers}
  }}
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{port};
    location /ws/ {{
      proxy_pass http://madoguchi;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
    }}
    location / {{
      proxy_pass http://madoguchi;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""
    )
    command = [NGINX, "-p", str(work), "-c", str(config), "-g", "daemon off;"]
    base = f"http://127.0.0.1:{port}"
    with _service(command, dict(os.environ), base, "/api/v1/health", work / "nginx.out", "nginx"):
        yield base
