"""Code scanner sources, chosen by URL, all delivering decoded text to one callback.

| URL | source |
|---|---|
| `camera://0` | OpenCV capture of camera 0 (1280x720), decoded in a worker thread, with preview |
| `hid://` | USB keyboard-wedge scanner: characters then Enter (the UI forwards key presses) |
| `serial:///dev/ttyACM0?baudrate=9600` | serial scanner sending one code per line |
| `images://DIR` | decodes every image file that appears in DIR (demos, tests) |

Every source drops repeats of the same code for a few seconds: a camera sees a held code in
every frame, and a visitor often scans twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import numpy as np

from kiosk_app.devices.decoder import Decoder

log = logging.getLogger(__name__)

OnCode = Callable[[str], None]
OnFrame = Callable[[np.ndarray], None]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class ScannerConfigError(ValueError):
    """A scanner URL the kiosk cannot use (E-SCN-01)."""

    code = "E-SCN-01"


class Deduplicator:
    """Pass a code once per `window_s`; the same code again inside the window is a repeat."""

    def __init__(self, window_s: float = 3.0) -> None:
        self.window_s = window_s
        self._seen: dict[str, float] = {}

    def fresh(self, text: str, now: float) -> bool:
        last = self._seen.get(text)
        self._seen = {t: at for t, at in self._seen.items() if now - at < self.window_s}
        self._seen[text] = now
        return last is None or now - last >= self.window_s


class ScanSource(Protocol):
    """Anything that reads codes: started with a callback, stopped when the kiosk closes."""

    def start(self, on_code: OnCode) -> None: ...

    def stop(self) -> None: ...


class FrameSource(Protocol):
    """Frames for the decoder: a camera, or files appearing in a folder."""

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


class CameraFrames:
    """OpenCV capture; `device` is a camera index or a video file (tests)."""

    def __init__(self, device: int | str, width: int = 1280, height: int = 720) -> None:
        import cv2

        self._capture = cv2.VideoCapture(device)
        if isinstance(device, int):
            self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if not self._capture.isOpened():
            raise ScannerConfigError(f"E-SCN-01 camera {device!r} cannot be opened")

    def read(self) -> np.ndarray | None:
        ok, frame = self._capture.read()
        return frame if ok else None

    def close(self) -> None:
        self._capture.release()


class FolderFrames:
    """Each image file that appears in (or is replaced in) a folder, once, as a frame."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        # A file counts as new when its modification time or its size changes: timestamps are
        # coarse (a few ms), so a file caught half-written can keep its mtime when it is finished.
        self._seen: dict[Path, tuple[int, int]] = {}

    def read(self) -> np.ndarray | None:
        import cv2

        for path in sorted(self.folder.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                info = path.stat()
            except FileNotFoundError:
                continue
            version = (info.st_mtime_ns, info.st_size)
            if self._seen.get(path) == version:
                continue
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is None:
                continue  # still being written; the next poll retries it
            self._seen[path] = version
            return frame
        return None

    def close(self) -> None:
        pass


class FrameScanner:
    """Reads frames in a worker thread, decodes them there, reports codes and a preview.

    The decode and the capture never touch the GUI thread: a 1280x720 decode takes ~10-40 ms,
    which would stutter the touch screen. `worker_thread_id` lets tests prove it.
    """

    def __init__(
        self,
        frames: Callable[[], FrameSource],
        decoder: Decoder | None = None,
        on_frame: OnFrame | None = None,
        dedupe_s: float = 3.0,
        idle_pause_s: float = 0.1,
    ) -> None:
        self._open_frames = frames
        self.decoder = decoder or Decoder()
        self.on_frame = on_frame
        self._dedupe = Deduplicator(dedupe_s)
        self._idle_pause_s = idle_pause_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.worker_thread_id: int | None = None
        self.frames_decoded = 0

    def start(self, on_code: OnCode) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(on_code,), name="kiosk-scanner", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)

    def _run(self, on_code: OnCode) -> None:
        self.worker_thread_id = threading.get_ident()
        try:
            source = self._open_frames()
        except Exception as exc:
            log.warning("scanner cannot start: %s", exc)
            return
        try:
            while not self._stop.is_set():
                frame = source.read()
                if frame is None:
                    self._stop.wait(self._idle_pause_s)
                    continue
                if self.on_frame is not None:
                    self.on_frame(frame)
                try:
                    found = self.decoder.decode(frame)
                except Exception:
                    # One bad frame (or decoder hiccup) must not end scanning for the day.
                    log.exception("frame not decoded")
                    continue
                self.frames_decoded += 1
                for code in found:
                    if self._dedupe.fresh(code.text, time.monotonic()):
                        on_code(code.text)
        finally:
            source.close()


class WedgeBuffer:
    """Assemble a keyboard-wedge scanner's keystrokes into codes (Enter ends one).

    Scanners type a whole code within milliseconds; a pause longer than `gap_s` starts afresh,
    so stray key presses never join a later code.
    """

    def __init__(self, gap_s: float = 0.3, min_length: int = 4) -> None:
        self.gap_s = gap_s
        self.min_length = min_length
        self._chars: list[str] = []
        self._last = 0.0

    def feed(self, text: str, now: float) -> str | None:
        """Add typed text; returns the completed code on Enter, else None."""
        if now - self._last > self.gap_s:
            self._chars = []
        self._last = now
        for char in text:
            if char in "\r\n":
                code = "".join(self._chars).strip()
                self._chars = []
                if len(code) >= self.min_length:
                    return code
            elif char.isprintable():
                self._chars.append(char)
        return None


class HidScanner:
    """A keyboard-wedge scanner: the UI passes key presses to `feed`."""

    def __init__(self, dedupe_s: float = 3.0) -> None:
        self._buffer = WedgeBuffer()
        self._dedupe = Deduplicator(dedupe_s)
        self._on_code: OnCode | None = None

    def start(self, on_code: OnCode) -> None:
        self._on_code = on_code

    def stop(self) -> None:
        self._on_code = None

    def feed(self, text: str, now: float) -> None:
        code = self._buffer.feed(text, now)
        if code and self._on_code is not None and self._dedupe.fresh(code, now):
            self._on_code(code)


class SerialScanner:
    """A serial (or USB CDC-ACM) scanner sending one code per line, read in a worker thread."""

    def __init__(self, port: str, baudrate: int = 9600, dedupe_s: float = 3.0) -> None:
        self.port = port
        self.baudrate = baudrate
        self._dedupe = Deduplicator(dedupe_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.serial: object | None = None

    def start(self, on_code: OnCode) -> None:
        import serial

        self.serial = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.2)
        self._thread = threading.Thread(
            target=self._run, args=(self.serial, on_code), name="kiosk-serial", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)

    def _run(self, port: object, on_code: OnCode) -> None:
        pending = b""
        try:
            while not self._stop.is_set():
                pending += port.read(256)  # type: ignore[attr-defined]
                *lines, pending = pending.replace(b"\r", b"\n").split(b"\n")
                for line in lines:
                    code = line.decode("utf-8", "replace").strip()
                    if code and self._dedupe.fresh(code, time.monotonic()):
                        on_code(code)
        finally:
            port.close()  # type: ignore[attr-defined]


def open_scanner(url: str, on_frame: OnFrame | None = None) -> ScanSource:
    """The scanner source a URL names (see the module docstring)."""
    parts = urlsplit(url)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    location = parts.netloc + parts.path
    if parts.scheme == "camera":
        device: int | str = int(location) if location.isdigit() else location
        if device == "":
            device = 0
        return FrameScanner(lambda: CameraFrames(device), Decoder(crop_fraction=0.8), on_frame)
    if parts.scheme == "images":
        if not location:
            raise ScannerConfigError(f"E-SCN-01 {url!r}: images:// needs a folder")
        folder = Path(location)
        return FrameScanner(lambda: FolderFrames(folder), Decoder(), on_frame, idle_pause_s=0.2)
    if parts.scheme == "hid":
        return HidScanner()
    if parts.scheme == "serial":
        if not location:
            raise ScannerConfigError(f"E-SCN-01 {url!r}: serial:// needs a device")
        try:
            baudrate = int(options.get("baudrate", "9600"))
        except ValueError:
            raise ScannerConfigError(f"E-SCN-01 {url!r}: bad baudrate") from None
        return SerialScanner(location, baudrate)
    raise ScannerConfigError(
        f"E-SCN-01 {url!r}: unknown scanner; use camera://N, hid://, serial://DEV or images://DIR"
    )
