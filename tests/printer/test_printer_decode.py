"""The ESC/POS decoder used as the tests' oracle and by the fake printer."""

from __future__ import annotations

import pytest

from printer.escpos_decode import Cut, EscposDecodeError, EscposParser, StatusQuery, decode
from printer.kanji import native_qr
from printer.layout import GS, INIT, make_profile
from printer.render import render_bytes
from printer.slip import sample_slip


def _raster(width_bytes: int, rows: bytes) -> bytes:
    height = len(rows) // width_bytes
    return GS + b"v0\x00" + bytes([width_bytes, 0, height, 0]) + rows


class TestRaster:
    def test_bits_become_black_dots(self) -> None:
        job = decode(_raster(1, b"\x80\x01") + GS + b"V\x00").jobs[0]
        image = job.image
        assert image is not None and image.size == (8, 2)
        assert image.getpixel((0, 0)) == 0 and image.getpixel((1, 0)) == 255
        assert image.getpixel((7, 1)) == 0

    def test_blocks_stack_vertically(self) -> None:
        image = decode(_raster(1, b"\xff") + _raster(1, b"\x00\x00") + GS + b"V\x00").jobs[0].image
        assert image is not None and image.size == (8, 3)

    def test_status_query_bytes_inside_image_data_are_not_queries(self) -> None:
        stream = decode(_raster(2, b"\x10\x04\x10\x04") + GS + b"V\x00")
        assert stream.status_queries == []


class TestStream:
    def test_cuts_split_jobs_and_queries_are_collected(self) -> None:
        data = INIT + b"one\n" + GS + b"V\x00" + b"\x10\x04\x04" + b"two\n" + GS + b"VA\x03"
        stream = decode(data)
        assert [j.text for j in stream.jobs] == ["one", "two"]
        assert stream.cuts == 2 and stream.status_queries == [4]

    def test_uncut_tail_is_a_job_without_cut(self) -> None:
        stream = decode(b"tail\n")
        assert stream.cuts == 0 and stream.jobs[0].text == "tail"

    def test_native_qr_payload(self) -> None:
        job = decode(native_qr("https://e.example/t/abc", 5) + GS + b"V\x00").jobs[0]
        assert job.qr_payloads == ["https://e.example/t/abc"] and job.qr_module_dots == 5

    def test_unknown_command_is_an_error_not_a_guess(self) -> None:
        with pytest.raises(EscposDecodeError, match="unsupported GS"):
            decode(GS + b"Z\x00")

    def test_stream_cut_off_mid_command_is_an_error(self) -> None:
        with pytest.raises(EscposDecodeError, match="inside a command"):
            decode(_raster(2, b"\x00\x00")[:-1])

    def test_feeding_byte_by_byte_gives_the_same_result(self) -> None:
        data = b"\x10\x04\x01" + render_bytes(sample_slip(), make_profile(384, "kanji"))
        parser = EscposParser()
        events = [e for i in range(len(data)) for e in parser.feed(data[i : i + 1])]
        assert isinstance(events[0], StatusQuery) and events[0].n == 1
        assert isinstance(events[1], Cut)
        assert events[1].job.text == decode(data).jobs[0].text
