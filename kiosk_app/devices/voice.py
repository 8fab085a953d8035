"""Voice guidance that reads the current screen aloud, offline, where an engine is installed.

- Japanese (`ja`, `ja-easy`): Open JTalk through the `pyopenjtalk` module when it is installed
  (a wheel that ships its dictionary; see reference/voice-announcements.md). espeak-ng's Japanese
  reads kanji as "Chinese letter", so it is not used for Japanese.
- Other languages: Debian `espeak-ng` (en, zh-Hans, ko, vi, pt).
Without an engine the kiosk stays silent and everything is still on screen. A new screen cuts
off the previous sentence, so guidance never lags behind the visitor.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import wave
from pathlib import Path
from typing import Protocol

from kiosk_app.i18n import ESPEAK_VOICES

log = logging.getLogger(__name__)
JAPANESE = ("ja", "ja-easy")


class Voice(Protocol):
    def available(self, language: str) -> bool: ...

    def speak(self, text: str, language: str) -> None: ...

    def stop(self) -> None: ...


class SilentVoice:
    """No engine installed: guidance is on screen only."""

    def available(self, language: str) -> bool:
        return False

    def speak(self, text: str, language: str) -> None:
        pass

    def stop(self) -> None:
        pass


class EspeakVoice:
    """espeak-ng in a child process per sentence; the child plays the audio itself."""

    def __init__(self, command: str = "espeak-ng", speed_wpm: int = 140) -> None:
        self.command = command
        self.speed_wpm = speed_wpm
        self._process: subprocess.Popen[bytes] | None = None

    def available(self, language: str) -> bool:
        return language in ESPEAK_VOICES and shutil.which(self.command) is not None

    def _args(self, text: str, language: str) -> list[str]:
        return [self.command, "-v", ESPEAK_VOICES[language], "-s", str(self.speed_wpm), "--", text]

    def speak(self, text: str, language: str) -> None:
        self.stop()
        if not self.available(language):
            return
        self._process = subprocess.Popen(
            self._args(text, language), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def synthesize(self, text: str, language: str, path: Path) -> Path:
        """Write the sentence to a WAV file (checks and previews)."""
        args = self._args(text, language)
        subprocess.run([*args[:-2], "-w", str(path), "--", text], check=True, timeout=30)
        return path

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
        self._process = None


class OpenJTalkVoice:
    """Japanese through pyopenjtalk, played with `aplay` in a worker thread."""

    def __init__(self, player: str = "aplay") -> None:
        self.player = player
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def available(self, language: str) -> bool:
        if language not in JAPANESE or shutil.which(self.player) is None:
            return False
        try:
            import pyopenjtalk  # noqa: F401
        except ImportError:
            return False
        return True

    def synthesize(self, text: str, path: Path) -> Path:
        import numpy as np
        import pyopenjtalk

        samples, rate = pyopenjtalk.tts(text)
        # Open JTalk can overshoot 16 bits: clip instead of wrapping into loud clicks.
        pcm = np.clip(samples, -32768, 32767).astype("<i2")
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(int(rate))
            out.writeframes(pcm.tobytes())
        return path

    def speak(self, text: str, language: str) -> None:
        self.stop()
        if self.available(language):
            threading.Thread(target=self._play, args=(text,), daemon=True).start()

    def _play(self, text: str) -> None:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            path = self.synthesize(text, Path(folder) / "guide.wav")
            with self._lock:
                self._process = subprocess.Popen([self.player, "-q", str(path)])
            self._process.wait()

    def stop(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()
            self._process = None


class GuideVoice:
    """Japanese to Open JTalk, other languages to espeak-ng; silent where neither exists."""

    def __init__(self, japanese: Voice | None = None, others: Voice | None = None) -> None:
        self.japanese: Voice = japanese or OpenJTalkVoice()
        self.others: Voice = others or EspeakVoice()

    def _engine(self, language: str) -> Voice:
        return self.japanese if language in JAPANESE else self.others

    def available(self, language: str) -> bool:
        return self._engine(language).available(language)

    def speak(self, text: str, language: str) -> None:
        self.stop()
        try:
            self._engine(language).speak(text, language)
        except OSError as exc:  # no audio device: guidance stays on screen
            log.info("voice guide unavailable: %s", exc)

    def stop(self) -> None:
        self.japanese.stop()
        self.others.stop()
