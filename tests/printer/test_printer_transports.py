"""Printing through real transports: TCP to the fake printer, virtual://, file://, usb://."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from printer.errors import FailureReason
from printer.escpos_decode import decode
from printer.fake import FakePrinter, FakeSlip, FakeState
from printer.layout import PrinterProfile, make_profile
from printer.render import SlipFonts
from printer.slip import SAMPLE_WAITING_AREA, sample_slip, slip_from_ticket
from printer.status import Health, Outcome, Paper
from printer.transports import open_printer

QrReader = Callable[[Image.Image], list[str]]  # the read_qr fixture

SHORT = 0.3  # seconds; every silent-printer case must stay fast


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class TestTcpToFakePrinter:
    def test_raster_slip_arrives_as_a_png_whose_qr_is_the_status_url(
        self, fake: FakePrinter, fonts: SlipFonts, read_qr: QrReader
    ) -> None:
        slip = sample_slip("zh-Hans")
        printer = open_printer(fake.url, PrinterProfile(width_dots=576), fonts=fonts)
        result = printer.print_slip(slip)
        assert result.outcome is Outcome.PRINTED, result
        assert result.reason is None and result.code is None
        assert fake.wait_for_slips(1)
        [printed] = fake.printed
        assert printed.png is not None and printed.png.is_file()
        with Image.open(printed.png) as png:
            assert png.width == 576
            assert read_qr(png) == [slip.status_url]
        assert result.bytes_sent == len(fake.received) - 18  # 2 rounds of 3 three-byte queries
        assert fake.status_queries == [1, 2, 4, 1, 2, 4]

    def test_kanji_slip_arrives_with_text_and_native_qr(
        self, fake: FakePrinter, read_qr: QrReader
    ) -> None:
        slip = sample_slip("ja")
        result = open_printer(fake.url, make_profile(512, "kanji")).print_slip(slip)
        assert result.ok
        assert fake.wait_for_slips(1)
        [printed] = fake.printed
        assert printed.job.qr_payloads == [slip.status_url]
        assert "受付番号" in printed.job.text
        assert printed.png is not None
        with Image.open(printed.png) as png:
            assert read_qr(png) == [slip.status_url]

    @pytest.mark.parametrize(
        ("language", "place"),
        [
            ("en", "Please wait at: 1F, lobby in front of the Citizens Division"),
            ("ja-easy", "まつ ところ：1かい しみんかの まえの ロビー"),
        ],
    )
    def test_kanji_slip_names_the_waiting_area_in_the_visitors_language(
        self, fake: FakePrinter, language: str, place: str
    ) -> None:
        ticket = {
            "number": "C-012",
            "issued_at": "2026-11-27T09:31:00+09:00",
            "status_url": "https://e.example/t/abc",
            "ahead": 2,
        }
        names = {"ja": "転入・転出", "en": "Moving in / moving out", "ja-easy": "ひっこし"}
        slip = slip_from_ticket(ticket, "白川市役所", names, language, SAMPLE_WAITING_AREA)
        assert open_printer(fake.url, make_profile(576, "kanji")).print_slip(slip).ok
        assert fake.wait_for_slips(1)
        # The bytes as received, decoded from cp932 back to text; wrapped lines joined again.
        lines = fake.printed[0].job.text.splitlines()
        joined = " ".join(line.strip() for line in lines)
        assert place in joined
        assert "お待ちの場所：1階 市民課前ロビー" in lines  # the Japanese line stays for staff

    def test_status_of_a_healthy_printer(self, fake: FakePrinter) -> None:
        status = open_printer(fake.url).status()
        assert status.health is Health.OK

    def test_near_end_prints_and_warns(self, fake: FakePrinter, fonts: SlipFonts) -> None:
        fake.state = FakeState.NEAR_END
        result = open_printer(fake.url, fonts=fonts).print_slip(sample_slip())
        assert result.ok
        assert result.warnings == ("paper_near_end",)
        assert result.status_before.paper is Paper.NEAR_END
        assert fake.wait_for_slips(1)

    @pytest.mark.parametrize(
        ("state", "reason", "code"),
        [
            (FakeState.OUT, FailureReason.PAPER_OUT, "E-PRN-02"),
            (FakeState.COVER_OPEN, FailureReason.COVER_OPEN, "E-PRN-03"),
            (FakeState.OFFLINE, FailureReason.OFFLINE, "E-PRN-04"),
        ],
    )
    def test_printer_that_cannot_print_gets_no_job(
        self,
        fake: FakePrinter,
        fonts: SlipFonts,
        state: FakeState,
        reason: FailureReason,
        code: str,
    ) -> None:
        fake.state = state
        result = open_printer(fake.url, fonts=fonts).print_slip(sample_slip())
        assert result.outcome is Outcome.FAILED
        assert (result.reason, result.code) == (reason, code)
        assert result.bytes_sent == 0
        assert decode(fake.received).jobs == []  # only the three status queries arrived
        assert fake.received == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"

    def test_failed_job_is_not_printed_after_the_paper_is_refilled(
        self, fake: FakePrinter, fonts: SlipFonts
    ) -> None:
        printer = open_printer(fake.url, fonts=fonts)
        fake.state = FakeState.OUT
        assert not printer.print_slip(sample_slip()).ok
        fake.state = FakeState.OK
        assert printer.print_slip(sample_slip("ja")).ok
        assert fake.wait_for_slips(1)
        time.sleep(0.1)
        assert len(fake.slips) == 1

    def test_paper_running_out_during_the_job_fails_it(self, tmp_path: Path) -> None:
        def run_out(_slip: FakeSlip) -> None:
            fake.state = FakeState.OUT

        with FakePrinter(port=0, on_slip=run_out) as fake:
            result = open_printer(fake.url, make_profile(576, "kanji")).print_slip(sample_slip())
        assert result.reason is FailureReason.PAPER_OUT
        assert result.bytes_sent > 0
        assert result.status_after is not None and result.status_after.paper is Paper.OUT

    def test_silent_printer_is_unknown_and_fails_fast(
        self, fake: FakePrinter, fonts: SlipFonts
    ) -> None:
        fake.state = FakeState.SILENT
        printer = open_printer(fake.url, timeout_s=SHORT, fonts=fonts)
        started = time.perf_counter()
        status = printer.status()
        result = printer.print_slip(sample_slip())
        elapsed = time.perf_counter() - started
        assert status.health is Health.UNKNOWN
        assert (result.reason, result.code) == (FailureReason.TIMEOUT, "E-PRN-05")
        assert result.bytes_sent == 0
        assert elapsed < 4 * SHORT  # one silent query each, not one per DLE EOT n
        assert fake.slips == []

    def test_closed_port_is_unreachable_at_once(self, fonts: SlipFonts) -> None:
        printer = open_printer(f"tcp://127.0.0.1:{_free_port()}", timeout_s=SHORT, fonts=fonts)
        started = time.perf_counter()
        result = printer.print_slip(sample_slip())
        assert (result.reason, result.code) == (FailureReason.UNREACHABLE, "E-PRN-01")
        assert time.perf_counter() - started < 1.0
        status = printer.status()
        assert status.unreachable and status.health is Health.PROBLEM

    def test_result_report_is_json_safe(self, fake: FakePrinter) -> None:
        report = (
            open_printer(fake.url, make_profile(384, "kanji")).print_slip(sample_slip()).as_dict()
        )
        assert report["outcome"] == "printed" and report["code"] is None
        assert report["status_before"] == {
            "online": "online",
            "paper": "ok",
            "cover": "closed",
            "health": "ok",
            "reachable": True,
        }


class TestFakePrinterControl:
    def test_state_switches_over_the_control_port(self) -> None:
        with FakePrinter(port=0, control_port=0) as fake:
            assert fake.control_port is not None
            with socket.create_connection(("127.0.0.1", fake.control_port), timeout=2) as conn:
                conn.sendall(b"state out\nstate\nslips\nstate jammed\n")
                replies = b""
                while replies.count(b"\n") < 4:
                    replies += conn.recv(1024)
            assert fake.state is FakeState.OUT
            lines = replies.decode().splitlines()
            assert lines[:3] == ["ok out", "ok out", "ok 0"]
            assert lines[3].startswith("error unknown state")


class TestLocalTransports:
    def test_virtual_writes_a_png_and_the_raw_job(
        self, tmp_path: Path, fonts: SlipFonts, read_qr: QrReader
    ) -> None:
        slip = sample_slip("pt")
        printer = open_printer(
            f"virtual://{tmp_path}/out", PrinterProfile(width_dots=384), fonts=fonts
        )
        result = printer.print_slip(slip)
        assert result.ok and result.output_path is not None
        png = Path(result.output_path)
        assert png.parent == tmp_path / "out" and png.name.endswith("-A-012.png")
        with Image.open(png) as image:
            assert image.width == 384 and read_qr(image) == [slip.status_url]
        raw = png.with_suffix(".bin").read_bytes()
        assert len(raw) == result.bytes_sent and decode(raw).cuts == 1
        assert printer.status().health is Health.OK

    def test_virtual_kanji_profile_keeps_kanji_bytes(
        self, tmp_path: Path, fonts: SlipFonts
    ) -> None:
        result = open_printer(
            f"virtual://{tmp_path}", make_profile(576, "kanji"), fonts=fonts
        ).print_slip(sample_slip())
        assert result.output_path is not None
        raw = Path(result.output_path).with_suffix(".bin").read_bytes()
        assert decode(raw).jobs[0].qr_payloads == [sample_slip().status_url]

    def test_file_appends_each_job(self, tmp_path: Path) -> None:
        target = tmp_path / "jobs.bin"
        printer = open_printer(f"file://{target}", make_profile(576, "kanji"))
        assert printer.print_slip(sample_slip()).ok
        assert printer.print_slip(sample_slip("ja")).ok
        assert decode(target.read_bytes()).cuts == 2

    def test_file_in_a_missing_directory_fails_as_unreachable(self, tmp_path: Path) -> None:
        printer = open_printer(
            f"file://{tmp_path}/no/such/dir/jobs.bin", make_profile(576, "kanji")
        )
        assert printer.print_slip(sample_slip()).reason is FailureReason.UNREACHABLE

    @pytest.mark.parametrize(
        "url", ["usb://04b8:0e28?timeout=0.2", "serial:///dev/nonexistent-tty"]
    )
    def test_absent_usb_or_serial_printer_fails_as_unreachable(
        self, url: str, fonts: SlipFonts
    ) -> None:
        # Without pyusb/pyserial this is E-PRN-09's reason; with them, "device not found".
        result = open_printer(url, make_profile(576, "kanji"), fonts=fonts).print_slip(
            sample_slip()
        )
        assert (result.outcome, result.reason) == (Outcome.FAILED, FailureReason.UNREACHABLE)
