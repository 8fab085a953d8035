"""The `madoguchi` command as operators and scripts use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from support.server import free_port

from queue_server.adapters.office_file import DEMO_OFFICE


def madoguchi(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_operator_commands_on_a_fresh_database(database_url: str) -> None:
    db = ("--database-url", database_url)
    assert madoguchi("db", "upgrade", *db).returncode == 0
    loaded = madoguchi("office", "load", str(DEMO_OFFICE), *db)
    assert loaded.returncode == 0 and "6 categories, 8 counters" in loaded.stdout
    added = madoguchi(
        "users", "add", "sato", "--role", "clerk", "--password-stdin", *db, stdin="long-enough-pw\n"
    )
    assert added.returncode == 0, added.stderr
    again = madoguchi(
        "users", "add", "sato", "--role", "clerk", "--password-stdin", *db, stdin="long-enough-pw\n"
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    short = madoguchi(
        "users", "add", "kato", "--role", "admin", "--password-stdin", *db, stdin="short\n"
    )
    assert short.returncode == 2 and "at least 12" in short.stderr
    device = madoguchi("devices", "add", "entrance", "--kind", "kiosk", *db)
    assert device.returncode == 0
    token = device.stdout.strip().splitlines()[-1]
    assert token.startswith("mdgk_") and " " not in token
    assert madoguchi("devices", "revoke", "entrance", *db).returncode == 0
    assert madoguchi("users", "disable", "sato", *db).returncode == 0
    # What an operator did on the command line is in the audit log, with the OS user as actor.
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT actor, action FROM audit_log ORDER BY id")).all()
    engine.dispose()
    actions = [action for _, action in rows]
    assert actions == ["staff.added", "device.added", "device.revoked", "staff.disabled"]
    assert all(actor.startswith("cli:") for actor, _ in rows)


def test_database_url_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    assert madoguchi("db", "upgrade", env={"MADOGUCHI_DATABASE_URL": url}).returncode == 0
    assert (tmp_path / "env.db").exists()


def test_several_workers_without_a_shared_bus_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    done = madoguchi(
        "serve", "--database-url", url, "--workers", "2", env={"MADOGUCHI_EVENT_BUS": "memory://"}
    )
    assert done.returncode == 2
    assert "several workers need a shared event bus" in done.stderr


def test_invalid_office_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "office.toml"
    bad.write_text(
        DEMO_OFFICE.read_text(encoding="utf-8").replace('prefix = "B"', 'prefix = "A"'),
        encoding="utf-8",
    )
    result = madoguchi(
        "office", "load", str(bad), "--database-url", f"sqlite:///{tmp_path / 'x.db'}"
    )
    assert result.returncode == 2
    assert "prefixes must be unique" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_serve_loads_the_demo_office_into_an_empty_database(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "madoguchi.cli",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={**__import__("os").environ, "MADOGUCHI_DATA_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                office = httpx.get(f"http://127.0.0.1:{port}/api/v1/office", timeout=1).json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("server did not answer")
        assert office["id"] == "shirakawa-shimin"
        assert (tmp_path / "madoguchi.db").exists()
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert "loaded the demo office" in out
    assert f"http://127.0.0.1:{port}/docs" in out
