"""`madoguchi doctor` on a healthy set-up and with each fault injected: exit codes and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.server import RELAY_SECRET, free_port, relay_process

from printer.fake import FakePrinter


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MADOGUCHI_EVENT_BUS": "memory://", **(env or {})},
    )


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", "db", "upgrade", "--database-url", url],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return url


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[FakePrinter]:
    with FakePrinter(port=0, out_dir=tmp_path / "slips") as fake:
        yield fake


@pytest.mark.slow
def test_a_healthy_set_up_passes_every_check(
    database: str, printer: FakePrinter, tmp_path: Path
) -> None:
    with relay_process() as relay:
        env = {
            "MADOGUCHI_DATA_DIR": str(tmp_path),
            "MADOGUCHI_RELAY_PUSH_URL": relay,
            "MADOGUCHI_RELAY_PUSH_SECRET": RELAY_SECRET,
        }
        done = doctor(
            "--database-url", database, "--printer", printer.url, "--reader", "sim://", env=env
        )
    assert done.returncode == 0, done.stdout
    assert "[NG]" not in done.stdout
    for what in (
        "データベース",
        "時刻とタイムゾーン",
        "ディスクの空き",
        "プリンター",
        "カードリーダー",
        "公開用中継サーバー",
    ):
        assert f"[OK] {what}" in done.stdout
    assert done.stdout.strip().endswith("問題はありません")


@pytest.mark.slow
def test_each_fault_gets_its_code_and_what_to_do(
    database: str, printer: FakePrinter, tmp_path: Path
) -> None:
    printer.state = "out"
    dead = f"http://127.0.0.1:{free_port()}"
    env = {
        "MADOGUCHI_DATA_DIR": str(tmp_path),
        "MADOGUCHI_RELAY_PUSH_URL": dead,
        "MADOGUCHI_RELAY_PUSH_SECRET": RELAY_SECRET,
        # pcscd is not running here: its socket does not exist
        "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm"),
    }
    done = doctor(
        "--printer", printer.url, "--reader", "pcsc://", "--database-url", database, env=env
    )
    assert done.returncode == 1
    out = done.stdout
    assert "E-PRN-02 用紙切れです" in out and "対処:" in out
    assert "E-CARD-07" in out and "pcscd" in out
    assert "E-RLY-01 公開用中継サーバーに届きません" in out
    assert "問題が 3 件あります" in out

    down = doctor("--database-url", f"postgresql://postgres@127.0.0.1:{free_port()}/none", env=env)
    assert down.returncode == 1 and "E-DB-01" in down.stdout

    english = doctor("--lang", "en", "--printer", printer.url, "--database-url", database, env=env)
    assert "E-PRN-02 paper is out; replace the roll" in english.stdout
    assert "fix:" in english.stdout


@pytest.mark.slow
def test_a_relay_with_another_secret_is_named(database: str, tmp_path: Path) -> None:
    with relay_process(secrets="another-secret-0123456789abcdef0123456789") as relay:
        env = {
            "MADOGUCHI_DATA_DIR": str(tmp_path),
            "MADOGUCHI_RELAY_PUSH_URL": relay,
            "MADOGUCHI_RELAY_PUSH_SECRET": RELAY_SECRET,
        }
        done = doctor("--database-url", database, env=env)
    assert done.returncode == 1 and "E-RLY-02" in done.stdout
