"""DLE EOT replies mapped to printer status; silence is unknown, never ok."""

from __future__ import annotations

import pytest

from printer.errors import FailureReason
from printer.status import Cover, Health, Online, Paper, PrinterStatus

# (DLE EOT 1, DLE EOT 2, DLE EOT 4) as an Epson TM answers them
OK = (0x12, 0x12, 0x12)


class TestReplies:
    def test_all_clear(self) -> None:
        status = PrinterStatus.from_replies(*OK)
        assert (status.online, status.paper, status.cover) == (
            Online.ONLINE,
            Paper.OK,
            Cover.CLOSED,
        )
        assert status.health is Health.OK and status.blocking_reason() is None

    def test_near_end_still_prints_with_a_warning(self) -> None:
        status = PrinterStatus.from_replies(0x12, 0x12, 0x1E)
        assert status.paper is Paper.NEAR_END
        assert status.blocking_reason() is None
        assert status.health is Health.WARNING and status.warnings() == ("paper_near_end",)

    def test_paper_out(self) -> None:
        status = PrinterStatus.from_replies(0x1A, 0x32, 0x72)
        assert status.paper is Paper.OUT and status.online is Online.OFFLINE
        assert status.blocking_reason() is FailureReason.PAPER_OUT

    def test_cover_open(self) -> None:
        status = PrinterStatus.from_replies(0x1A, 0x16, 0x12)
        assert status.cover is Cover.OPEN
        assert status.blocking_reason() is FailureReason.COVER_OPEN

    def test_offline_for_another_reason(self) -> None:
        status = PrinterStatus.from_replies(0x1A, 0x52, 0x12)
        assert status.blocking_reason() is FailureReason.OFFLINE
        assert status.health is Health.PROBLEM

    def test_paper_end_stop_without_sensor_reply_means_out(self) -> None:
        assert PrinterStatus.from_replies(0x1A, 0x32, None).paper is Paper.OUT


class TestSilence:
    def test_no_reply_is_unknown_not_ok(self) -> None:
        status = PrinterStatus.from_replies(None, None, None)
        assert status == PrinterStatus.unknown()
        assert status.health is Health.UNKNOWN
        assert status.blocking_reason() is FailureReason.TIMEOUT

    @pytest.mark.parametrize("garbage", [0x00, 0xFF, 0x81])
    def test_byte_without_the_fixed_bits_is_not_a_status(self, garbage: int) -> None:
        assert PrinterStatus.from_replies(garbage, 0x12, 0x12).online is Online.UNKNOWN

    def test_partial_answer_blocks_printing(self) -> None:
        assert PrinterStatus.from_replies(0x12, None, None).blocking_reason() is (
            FailureReason.TIMEOUT
        )
