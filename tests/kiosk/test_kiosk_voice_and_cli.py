"""Voice guidance through the offline engine, and the `madoguchi kiosk` command."""

from __future__ import annotations

import shutil
import wave

import pytest

from kiosk_app.devices.voice import EspeakVoice, GuideVoice, SilentVoice
from kiosk_app.flow import Flow, Printing, Screen
from kiosk_app.speech import speech_for
from madoguchi.cli import main


class TestVoice:
    def test_espeak_reads_english_offline(self, tmp_path) -> None:
        assert shutil.which("espeak-ng"), "packaging/apt-packages.txt installs espeak-ng"
        voice = EspeakVoice()
        assert voice.available("en") and not voice.available("ja")  # no kanji via espeak
        path = voice.synthesize(
            "Your number: A 12. Please take your ticket", "en", tmp_path / "a.wav"
        )
        with wave.open(str(path)) as audio:
            assert audio.getnframes() / audio.getframerate() > 1.0

    def test_without_an_engine_the_guide_is_silent(self) -> None:
        guide = GuideVoice(japanese=SilentVoice(), others=EspeakVoice(command="no-such-tts"))
        assert not guide.available("en")
        guide.speak("hello", "en")  # no error, no sound

    def test_the_ticket_is_read_for_the_ear(self) -> None:
        flow = Flow()
        flow.office_loaded({"categories": [{"id": "c", "names": {"ja": "住民票"}}]})
        flow.choose_language("ja", 0)
        flow.choose_category("c", 0)
        flow.confirm(0)
        flow.ticket_issued({"id": 1, "number": "A-012", "category_id": "c"}, 0)
        flow.print_finished(False, 0)
        assert flow.state.screen is Screen.TICKET and flow.state.printing is Printing.FAILED
        assert "エー12ばん" in speech_for(flow.state)
        assert "プリンター" in speech_for(flow.state)


class TestCommand:
    def test_help_lists_the_devices(self, capsys) -> None:
        with pytest.raises(SystemExit) as exited:
            main(["kiosk", "--help"])
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert "--printer" in out and "--scanner" in out and "--fullscreen" in out
        assert "--general-category" in out

    def test_a_token_is_required(self, capsys, monkeypatch) -> None:
        monkeypatch.delenv("MADOGUCHI_KIOSK_TOKEN", raising=False)
        assert main(["kiosk", "--server", "http://127.0.0.1:9"]) == 2
        assert "token" in capsys.readouterr().out
