"""`MADOGUCHI_LOG_FORMAT=json`: every log line the server writes is one JSON object, and a
visitor's personal data or a token never appears in them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from support.server import bearer, free_port, prepare

from queue_server.service.ports import SystemClock


def test_json_logs_are_one_object_per_line_without_tokens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine, tokens = prepare(url, SystemClock(), always_open=True)
    engine.dispose()
    port = free_port()
    env = {**os.environ, "MADOGUCHI_LOG_FORMAT": "json", "MADOGUCHI_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "madoguchi.cli", "serve", "--database-url", url]
    command += ["--port", str(port), "--log-level", "info"]
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        answer = httpx.post(
            f"{base}/api/v1/tickets", json={"category_id": "tax"}, headers=bearer(tokens.kiosk)
        )
        assert answer.status_code == 201
        httpx.post(f"{base}/api/v1/auth/token", data={"username": "nobody", "password": "x" * 12})
    finally:
        server.terminate()
        server.wait(10)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(
        r["logger"] == "uvicorn.access" and "/api/v1/tickets" in r["message"] for r in records
    )
    text = log.read_text()
    assert tokens.kiosk not in text and "x" * 12 not in text
