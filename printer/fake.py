"""FakePrinter: a TCP ESC/POS printer for tests, demos and field-staff training.

It listens like a network printer (raw port 9100), records every byte, answers `DLE EOT`
status queries according to a switchable state, and on each cut decodes the job and saves
what the paper would show as a PNG. Raster jobs are rebuilt from `GS v 0`; kanji-mode jobs are
redrawn from their decoded text and QR payloads with a Japanese font.

State can be switched from Python (`fake.state = FakeState.OUT`) or, when a control port is
given, with one line per command over TCP:
    state            -> "ok <state>"
    state out        -> "ok out"       (ok, near_end, out, cover_open, offline, silent)
    slips            -> "ok <number of slips saved>"
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from PIL import Image, ImageDraw

from printer.escpos_decode import (
    Cut,
    DecodedJob,
    EscposDecodeError,
    EscposParser,
    QrCode,
    StatusQuery,
    TextSegment,
)


class FakeState(StrEnum):
    """Conditions the fake printer can simulate."""

    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    SILENT = "silent"


# Replies to DLE EOT 1 (printer), 2 (offline cause), 4 (paper sensor), as an Epson TM sends them.
REPLIES: dict[FakeState, dict[int, int]] = {
    FakeState.OK: {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    FakeState.NEAR_END: {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    FakeState.OUT: {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72},
    FakeState.COVER_OPEN: {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
    FakeState.OFFLINE: {1: 0x1A, 2: 0x52, 3: 0x12, 4: 0x12},
}
PRINTING_STATES = frozenset({FakeState.OK, FakeState.NEAR_END})


@dataclass(frozen=True, slots=True)
class FakeSlip:
    """One job the fake printer received, up to its cut."""

    index: int
    job: DecodedJob
    printed: bool
    png: Path | None


class FakePrinter:
    """Threaded fake network printer; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        out_dir: Path | None = None,
        state: FakeState = FakeState.OK,
        width_dots: int = 576,
        control_port: int | None = None,
        on_slip: Callable[[FakeSlip], None] | None = None,
    ) -> None:
        self._lock = threading.Condition()
        self._state = FakeState(state)
        self._out_dir = out_dir
        self._width = width_dots
        self._on_slip = on_slip
        self._received = bytearray()
        self._slips: list[FakeSlip] = []
        self._queries: list[int] = []
        self._errors: list[str] = []
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server = self._listen(host, port)
        self._control = self._listen(host, control_port) if control_port is not None else None

    @staticmethod
    def _listen(host: str, port: int) -> socket.socket:
        server = socket.create_server((host, port), reuse_port=False)
        server.settimeout(0.1)
        return server

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakePrinter:
        """Start accepting connections in background threads."""
        self._spawn(self._accept_loop, self._server, self._serve_printer)
        if self._control is not None:
            self._spawn(self._accept_loop, self._control, self._serve_control)
        return self

    def stop(self) -> None:
        """Stop accepting, close every socket and wait for the threads."""
        self._stopping.set()
        for thread in list(self._threads):
            thread.join(timeout=2)
        self._server.close()
        if self._control is not None:
            self._control.close()

    def __enter__(self) -> FakePrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    # -- observable state ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound printer port (useful with port 0)."""
        port: int = self._server.getsockname()[1]
        return port

    @property
    def control_port(self) -> int | None:
        """The bound control port, if any."""
        if self._control is None:
            return None
        port: int = self._control.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """A tcp:// URL for open_printer()."""
        host = self._server.getsockname()[0]
        return f"tcp://{host}:{self.port}"

    @property
    def state(self) -> FakeState:
        """The simulated condition."""
        with self._lock:
            return self._state

    @state.setter
    def state(self, value: FakeState | str) -> None:
        with self._lock:
            self._state = FakeState(value)

    @property
    def received(self) -> bytes:
        """Every byte received, status queries included."""
        with self._lock:
            return bytes(self._received)

    @property
    def slips(self) -> list[FakeSlip]:
        """Every job received up to a cut, printed or not."""
        with self._lock:
            return list(self._slips)

    @property
    def printed(self) -> list[FakeSlip]:
        """Jobs that reached paper (state ok or near_end at the cut)."""
        return [s for s in self.slips if s.printed]

    @property
    def status_queries(self) -> list[int]:
        """The n of every DLE EOT n received."""
        with self._lock:
            return list(self._queries)

    @property
    def errors(self) -> list[str]:
        """Decode errors (the connection is dropped after one)."""
        with self._lock:
            return list(self._errors)

    def wait_for_slips(self, count: int, timeout: float = 5.0) -> bool:
        """Block until `count` slips were received; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self._slips) >= count, timeout)

    # -- serving -------------------------------------------------------------------------------

    def _accept_loop(self, server: socket.socket, handler: Callable[[socket.socket], None]) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.1)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(self._serve_then_close, conn, handler)

    def _serve_then_close(
        self, conn: socket.socket, handler: Callable[[socket.socket], None]
    ) -> None:
        try:
            handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def _serve_printer(self, conn: socket.socket) -> None:
        parser = EscposParser()
        while not self._stopping.is_set():
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return
            with self._lock:
                self._received += data
            try:
                events = parser.feed(data)
            except EscposDecodeError as exc:
                with self._lock:
                    self._errors.append(str(exc))
                return
            for event in events:
                if isinstance(event, StatusQuery):
                    reply = self._reply(event.n)
                    if reply is not None:
                        conn.sendall(bytes([reply]))
                elif isinstance(event, Cut):
                    self._record(event.job)

    def _reply(self, n: int) -> int | None:
        with self._lock:
            self._queries.append(n)
            state = self._state
        if state is FakeState.SILENT:
            return None
        return REPLIES[state].get(n)

    def _record(self, job: DecodedJob) -> None:
        with self._lock:
            index = len(self._slips) + 1
            printed = self._state in PRINTING_STATES
        png = None
        if printed and self._out_dir is not None:
            self._out_dir.mkdir(parents=True, exist_ok=True)
            png = self._out_dir / f"slip-{index:04d}.png"
            job_image(job, self._width).save(png)
        slip = FakeSlip(index, job, printed, png)
        with self._lock:
            self._slips.append(slip)
            self._lock.notify_all()
        if self._on_slip is not None:
            self._on_slip(slip)

    def _serve_control(self, conn: socket.socket) -> None:
        buffer = b""
        while not self._stopping.is_set():
            try:
                data = conn.recv(1024)
            except TimeoutError:
                continue
            if not data:
                return
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                conn.sendall(self._control_command(line.decode("ascii", "replace").split()))

    def _control_command(self, words: list[str]) -> bytes:
        if words == ["state"]:
            return f"ok {self.state.value}\n".encode()
        if len(words) == 2 and words[0] == "state":
            try:
                self.state = FakeState(words[1])
            except ValueError:
                choices = " ".join(s.value for s in FakeState)
                return f"error unknown state; choose one of: {choices}\n".encode()
            return f"ok {self.state.value}\n".encode()
        if words == ["slips"]:
            return f"ok {len(self.slips)}\n".encode()
        return b"error commands: state [NAME] | slips\n"


def job_image(job: DecodedJob, width_dots: int = 576) -> Image.Image:
    """What the paper shows: the raster image, or a redrawing of a text-mode job."""
    raster = job.image
    if raster is not None:
        return raster
    from printer.fonts import find_japanese_font, load_font
    from printer.render import qr_image

    face = find_japanese_font()
    pictures: list[tuple[Image.Image, int]] = []
    line: list[TextSegment] = []

    def flush_line() -> None:
        if not line:
            return
        scale = max(max(s.height, s.width) for s in line)
        font = load_font(face, 24 * scale)
        text = "".join(s.text for s in line)
        picture = Image.new("1", (width_dots, int(24 * scale * 1.25)), 1)
        length = font.getlength(text)
        x = (width_dots - length) / 2 if line[0].align == 1 else 0
        ImageDraw.Draw(picture).text((x, 0), text, font=font, fill=0)
        pictures.append((picture, 0))
        line.clear()

    for item in job.items:
        if isinstance(item, QrCode):
            flush_line()
            code = qr_image(item.payload, width_dots, item.module_dots).convert("1")
            pictures.append((code, (width_dots - code.width) // 2))
        else:
            line.append(item)
            if item.newline:
                flush_line()
    flush_line()
    out = Image.new("1", (width_dots, max(1, sum(p.height for p, _ in pictures))), 1)
    y = 0
    for picture, x in pictures:
        out.paste(picture, (x, y))
        y += picture.height
    return out
