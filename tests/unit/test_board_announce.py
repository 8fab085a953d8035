"""What the board says for a call: written for the ear, and synthesised offline."""

from __future__ import annotations

import wave
from io import BytesIO
from pathlib import Path

import pytest

from display_board.announce import BadNumber, Call, announcement
from display_board.cli import board_url
from display_board.voice import CHIME, Announcer, chime_wav


class FakeVoice:
    def __init__(self) -> None:
        self.said: list[str] = []

    def wav(self, text: str) -> bytes | None:
        self.said.append(text)
        return chime_wav(8000)


class TestTextForTheEar:
    def test_letters_in_katakana_numbers_without_leading_zeros_and_kata(self) -> None:
        said = announcement(Call("A-012", 3))
        assert said.ja == "受付番号、エー12番のかた、3番窓口へお越しください。"
        assert said.en == "Number A 12, please come to counter 3."
        assert said.display_ja == "受付番号 A-012 番の方、3番窓口へお越しください"

    def test_recall_says_so(self) -> None:
        said = announcement(Call("F-100", 8, recall=True))
        assert said.ja.startswith("もう一度お呼びします。受付番号、エフ100番")
        assert said.en.startswith("Calling again. Number F 100")

    @pytest.mark.parametrize("number", ["", "A-", "12-A", "A-1-2"])
    def test_refuses_what_is_not_a_number(self, number: str) -> None:
        with pytest.raises(BadNumber):
            announcement(Call(number, 1))


class TestAnnouncer:
    def test_clips_are_chime_then_japanese_then_english_and_cached(self, tmp_path: Path) -> None:
        ja, en = FakeVoice(), FakeVoice()
        announcer = Announcer(tmp_path, {"ja": ja, "en": en})
        said = announcement(Call("B-7", 2))
        first = announcer.clips(said)
        again = announcer.clips(said)
        assert first == again and first[0] == CHIME and len(first) == 3
        assert ja.said == [said.ja] and en.said == [said.en]  # synthesised once
        for key in first:
            path = announcer.path(key)
            assert path is not None
            with wave.open(BytesIO(path.read_bytes())) as clip:
                assert clip.getnframes() > 0

    def test_without_voices_the_chime_still_plays(self, tmp_path: Path) -> None:
        announcer = Announcer(tmp_path, {})
        assert announcer.clips(announcement(Call("A-1", 1))) == [CHIME]

    def test_clip_paths_cannot_leave_the_cache(self, tmp_path: Path) -> None:
        announcer = Announcer(tmp_path / "voice", {})
        assert announcer.path("../secret") is None
        assert announcer.path("0" * 31 + "/") is None


def test_open_jtalk_reads_the_announcement_as_written() -> None:
    pyopenjtalk = pytest.importorskip("pyopenjtalk")
    reading = pyopenjtalk.g2p(announcement(Call("A-012", 3)).ja, kana=True)
    assert "エージューニバンノカタ" in reading
    assert "サンバンマドグチ" in reading


def test_board_url_keeps_the_token_in_the_fragment() -> None:
    url = board_url("http://10.0.0.5:8000/", "mdgb_a+b", "portrait")
    assert url == "http://10.0.0.5:8000/board?layout=portrait#token=mdgb_a%2Bb"
    with pytest.raises(ValueError):
        board_url("10.0.0.5", "x")
