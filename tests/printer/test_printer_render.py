"""Rendering: the bytes a printer receives decode back to the right slip (hardware-free oracle)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image

from printer.errors import PrinterConfigError
from printer.escpos_decode import decode
from printer.kanji import cp932_printable
from printer.layout import PROFILES, Mode, PrinterProfile, make_profile, wrap
from printer.render import SlipFonts, render_bytes, render_png
from printer.slip import sample_slip
from printer.texts import Language

QrReader = Callable[[Image.Image], list[str]]  # the read_qr fixture

WIDTHS = (384, 512, 576)


def _normalize(text: str) -> str:
    # cp932 decodes 0x8160 as FULLWIDTH TILDE; the slip text uses WAVE DASH for the same glyph.
    return text.replace("～", "〜")


class TestRasterMode:
    @pytest.mark.parametrize("width", WIDTHS)
    @pytest.mark.parametrize("language", [Language.JA, Language.VI])
    def test_printed_qr_reads_back_as_the_status_url(
        self, width: int, language: Language, fonts: SlipFonts, read_qr: QrReader
    ) -> None:
        slip = sample_slip(language)
        data = render_bytes(slip, PrinterProfile(width_dots=width), fonts)
        stream = decode(data)
        assert len(stream.jobs) == 1 and stream.jobs[0].cut
        image = stream.jobs[0].image
        assert image is not None
        assert image.width == width
        assert read_qr(image) == [slip.status_url]

    def test_job_is_one_slip_with_raster_blocks_only(self, fonts: SlipFonts) -> None:
        job = decode(render_bytes(sample_slip(), PrinterProfile(), fonts)).jobs[0]
        assert job.raster_blocks and not job.segments and not job.qr_payloads

    def test_preview_png_is_the_printed_image(self, fonts: SlipFonts) -> None:
        profile = PrinterProfile(width_dots=512)
        printed = decode(render_bytes(sample_slip(), profile, fonts)).jobs[0].image
        preview = render_png(sample_slip(), profile, fonts)
        assert printed is not None
        assert printed.tobytes() == preview.convert("1").tobytes()

    def test_number_is_drawn_large(self, fonts: SlipFonts) -> None:
        # The number band is the tallest run of rows that contain ink without a blank row.
        image = render_png(sample_slip(), PrinterProfile(width_dots=576), fonts).convert("L")
        pixels = image.tobytes()
        rows = [0 in pixels[y * image.width : (y + 1) * image.width] for y in range(image.height)]
        longest = run = 0
        for inked in rows:
            run = run + 1 if inked else 0
            longest = max(longest, run)
        assert longest >= 100  # dots, about 12 mm at 203 dpi


class TestKanjiMode:
    @pytest.mark.parametrize("width", WIDTHS)
    def test_decodes_to_the_japanese_text_number_and_native_qr(self, width: int) -> None:
        slip = sample_slip(Language.JA)
        job = decode(render_bytes(slip, make_profile(width, "kanji"))).jobs[0]
        assert job.kanji_shift_jis and job.cut
        assert job.qr_payloads == [slip.status_url]
        text = _normalize(job.text)
        for expected in (
            "サンプル市役所 市民課",
            "受付番号",
            "住民票の写しの交付",
            "前にお待ちの方：3人",
            "番号が呼ばれるまでお待ちください",
            "2026年11月27日 09:31 発行",
        ):
            assert expected in text
        assert "約15分（10〜25分）" in text.replace("\n", "")
        big = [s for s in job.segments if s.width >= 4 and s.height >= 4]
        assert [s.text for s in big] == ["A-012"]
        assert big[0].width * 12 * len("A-012") <= width

    def test_kanji_job_is_small(self) -> None:
        assert len(render_bytes(sample_slip(), make_profile(576, "kanji"))) < 1000

    def test_portuguese_prints_without_accents(self) -> None:
        job = decode(render_bytes(sample_slip(Language.PT), make_profile(576, "kanji"))).jobs[0]
        assert "Aguarde ate que sua senha seja chamada." in job.text

    def test_korean_falls_back_to_english_lines(self) -> None:
        job = decode(render_bytes(sample_slip(Language.KO), make_profile(576, "kanji"))).jobs[0]
        assert "Please wait until your number is called." in job.text
        assert "?" not in job.text

    def test_ja_easy_prints_its_own_lines(self) -> None:
        slip = sample_slip(Language.JA_EASY)
        job = decode(render_bytes(slip, make_profile(384, "kanji"))).jobs[0]
        lines = job.lines
        # phrases wrap at their spaces, so compare without them
        assert "ばんごうがよばれるまでまってください" in "".join(lines).replace(" ", "")
        assert "あなたの まえに 3にん います" in lines


class TestProfiles:
    def test_known_profiles(self) -> None:
        assert PROFILES["tm-t88-j"] == PrinterProfile("tm-t88-j", 512, Mode.KANJI)
        assert make_profile(384, "raster").width_dots == 384

    @pytest.mark.parametrize(
        ("width", "mode", "name"), [(500, None, None), (576, "svg", None), (None, None, "tm-x")]
    )
    def test_invalid_profile_is_a_config_error(
        self, width: int | None, mode: str | None, name: str | None
    ) -> None:
        with pytest.raises(PrinterConfigError, match="E-PRN-08"):
            make_profile(width, mode, name)


class TestLineBreaking:
    def test_japanese_breaks_between_characters_but_not_before_punctuation(self) -> None:
        lines = wrap("QRコードを読み取ると、順番を確認できます", lambda s: len(s) <= 9)
        assert all(not line.startswith(("、", "。")) for line in lines)
        assert "".join(lines) == "QRコードを読み取ると、順番を確認できます"

    def test_latin_breaks_between_words(self) -> None:
        assert wrap("Please wait until called", lambda s: len(s) <= 12) == [
            "Please wait",
            "until called",
        ]

    def test_overlong_word_is_cut(self) -> None:
        assert wrap("abcdefghij", lambda s: len(s) <= 4) == ["abcd", "efgh", "ij"]

    def test_cp932_fallbacks(self) -> None:
        assert cp932_printable("Số thứ tự") == "So thu tu"
        assert cp932_printable("접수 번호") is None
        assert cp932_printable("受付番号") == "受付番号"
