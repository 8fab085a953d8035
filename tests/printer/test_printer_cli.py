"""`madoguchi print ...` run in-process against the fake printer."""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path

import pytest

from printer import cli
from printer.fake import FakePrinter, FakeState


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="madoguchi")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.register(sub)
    args = parser.parse_args(["print", *argv])
    code: int = args.handler(args)
    return code


class TestTestPage:
    def test_prints_the_sample_slip_and_reports_it(
        self, fake: FakePrinter, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert run(["test-page", "--printer", fake.url, "--width", "512"]) == 0
        out = capsys.readouterr().out
        assert "印刷しました / printed" in out and "512 dots" in out
        assert fake.wait_for_slips(1)
        assert fake.printed[0].png is not None

    def test_kanji_mode(self, fake: FakePrinter) -> None:
        assert run(["test-page", "--printer", fake.url, "--mode", "kanji", "--language", "ko"]) == 0
        assert fake.wait_for_slips(1)
        assert fake.slips[0].job.qr_payloads

    def test_failure_is_reported_with_its_code(
        self, fake: FakePrinter, capsys: pytest.CaptureFixture[str]
    ) -> None:
        fake.state = FakeState.COVER_OPEN
        assert run(["test-page", "--printer", fake.url]) == 1
        assert "E-PRN-03" in capsys.readouterr().out

    def test_virtual_printer_names_the_png(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert run(["test-page", "--printer", f"virtual://{tmp_path}"]) == 0
        assert str(tmp_path) in capsys.readouterr().out
        assert len(list(tmp_path.glob("*.png"))) == 1

    def test_bad_url_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(["test-page", "--printer", "lp0"]) == cli.EXIT_USAGE
        assert "E-PRN-08" in capsys.readouterr().out


class TestStatus:
    @pytest.mark.parametrize(
        ("state", "code", "shown"),
        [
            (FakeState.OK, 0, "正常 (ok)"),
            (FakeState.NEAR_END, 0, "残りわずか (near_end)"),
            (FakeState.OUT, 1, "E-PRN-02 用紙切れです"),
            (FakeState.COVER_OPEN, 1, "開 (open)"),
            (FakeState.SILENT, 2, "不明 (unknown)"),
        ],
    )
    def test_exit_code_and_text_for_staff(
        self,
        fake: FakePrinter,
        capsys: pytest.CaptureFixture[str],
        state: FakeState,
        code: int,
        shown: str,
    ) -> None:
        fake.state = state
        assert run(["status", "--printer", fake.url, "--timeout", "0.3"]) == code
        assert shown in capsys.readouterr().out

    def test_unreachable_printer_is_a_problem_to_fix(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        assert run(["status", "--printer", f"tcp://127.0.0.1:{port}"]) == 1
        assert "E-PRN-01" in capsys.readouterr().out


class TestFakeCommand:
    def test_runs_and_saves_what_it_receives(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        argv = ["fake", "--port", str(port), "--out", str(tmp_path), "--seconds", "1.5"]
        codes: list[int] = []
        thread = threading.Thread(target=lambda: codes.append(run(argv)))
        thread.start()
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        url = f"tcp://127.0.0.1:{port}"
        assert run(["test-page", "--printer", url, "--mode", "kanji"]) == 0
        thread.join(timeout=5)
        assert codes == [0]
        out = capsys.readouterr().out
        assert f"fake printer: {url}" in out
        assert "slip 1:" in out
        assert (tmp_path / "slip-0001.png").is_file()
