"""Decode an ESC/POS byte stream back into what a printer would put on paper.

Used by the fake printer and by tests as a hardware-free oracle: raster `GS v 0` blocks are
rebuilt into an image (so a QR decoder can read the printed code back), kanji-mode text is
decoded from cp932, native QR (`GS ( k`) payloads are extracted, and `GS V` cuts split jobs.

The parser is incremental because a printer must answer `DLE EOT` as soon as it arrives, and it
follows command lengths, so `10 04` bytes inside raster data are not mistaken for a status query.
Commands the project never sends raise `EscposDecodeError` instead of being guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

DLE, ESC, FS, GS = 0x10, 0x1B, 0x1C, 0x1D
LF, CR, HT, FF = 0x0A, 0x0D, 0x09, 0x0C

# ESC/FS/GS commands with a fixed number of argument bytes that change nothing we decode.
_ESC_FIXED = {
    ord("2"): 0, ord("3"): 1, ord("-"): 1, ord("!"): 1, ord("G"): 1, ord("M"): 1, ord("R"): 1,
    ord("t"): 1, ord("J"): 1, ord("V"): 1, ord("{"): 1, ord("r"): 1, ord("e"): 1, ord("c"): 2,
    ord("p"): 3, ord("$"): 2, ord("\\"): 2, ord(" "): 1, ord("U"): 1, ord("L"): 0, ord("S"): 0,
}  # fmt: skip
_FS_FIXED = {ord("!"): 1, ord("-"): 1, ord("W"): 1, ord("S"): 2, ord("p"): 2}
_GS_FIXED = {
    ord("B"): 1, ord("b"): 1, ord("H"): 1, ord("f"): 1, ord("h"): 1, ord("w"): 1, ord("a"): 1,
    ord("L"): 2, ord("W"): 2, ord("P"): 2, ord("$"): 2, ord("\\"): 2, ord("r"): 1, ord("I"): 1,
}  # fmt: skip
_SJIS_LEAD = set(range(0x81, 0xA0)) | set(range(0xE0, 0xFD))


class EscposDecodeError(ValueError):
    """The stream holds a command this decoder does not know, or is cut off mid-command."""


class _Incomplete(Exception):
    pass


@dataclass(frozen=True, slots=True)
class TextSegment:
    """A run of printer-font text with the style it was printed in."""

    text: str
    width: int = 1
    height: int = 1
    bold: bool = False
    align: int = 0
    newline: bool = True


@dataclass(frozen=True, slots=True)
class QrCode:
    """A printer-drawn QR code (`GS ( k`)."""

    payload: str
    module_dots: int


@dataclass(slots=True)
class DecodedJob:
    """What one slip (the bytes up to a cut) prints."""

    raster_blocks: list[Image.Image] = field(default_factory=list)
    segments: list[TextSegment] = field(default_factory=list)
    qr_payloads: list[str] = field(default_factory=list)
    qr_module_dots: int = 3
    cut: bool = False
    kanji_shift_jis: bool = False
    # text and native QR codes in print order, for drawing a preview of a text-mode job
    items: list[TextSegment | QrCode] = field(default_factory=list)

    @property
    def image(self) -> Image.Image | None:
        """The raster blocks stacked as printed, or None for a text-only job."""
        if not self.raster_blocks:
            return None
        width = max(b.width for b in self.raster_blocks)
        height = sum(b.height for b in self.raster_blocks)
        out = Image.new("1", (width, height), 1)
        y = 0
        for block in self.raster_blocks:
            out.paste(block, (0, y))
            y += block.height
        return out

    @property
    def lines(self) -> list[str]:
        """Printed text lines (segments joined until each line feed)."""
        lines: list[str] = []
        current = ""
        for seg in self.segments:
            current += seg.text
            if seg.newline:
                lines.append(current)
                current = ""
        if current:
            lines.append(current)
        return lines

    @property
    def text(self) -> str:
        """All printed text, one line per line feed."""
        return "\n".join(self.lines)

    def is_empty(self) -> bool:
        """True when the job would put nothing on paper."""
        return not (self.raster_blocks or self.qr_payloads or any(s.text for s in self.segments))


@dataclass(frozen=True, slots=True)
class StatusQuery:
    """A `DLE EOT n` real-time status request."""

    n: int


@dataclass(frozen=True, slots=True)
class Cut:
    """A `GS V` cut, carrying the job it ends."""

    job: DecodedJob


Event = StatusQuery | Cut


@dataclass(slots=True)
class DecodedStream:
    """Every job and status query in a byte stream."""

    jobs: list[DecodedJob]
    status_queries: list[int]

    @property
    def cuts(self) -> int:
        """Number of cuts."""
        return sum(1 for j in self.jobs if j.cut)


class EscposParser:
    """Incremental ESC/POS parser: feed bytes as they arrive, get status queries and cut jobs."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._job = DecodedJob()
        self._reset_style()
        self._shift_jis = False
        self._pending_text = bytearray()
        self._qr_store: bytes | None = None

    def _reset_style(self) -> None:
        self._width = 1
        self._height = 1
        self._bold = False
        self._align = 0

    def feed(self, data: bytes) -> list[Event]:
        """Parse as much of the buffered stream as is complete; return the events it held."""
        self._buf += data
        events: list[Event] = []
        pos = 0
        while pos < len(self._buf):
            try:
                pos, event = self._step(pos)
            except _Incomplete:
                break
            if event is not None:
                events.append(event)
        del self._buf[:pos]
        return events

    @property
    def pending(self) -> int:
        """Bytes held back because the command they start is not complete yet."""
        return len(self._buf)

    def finish(self) -> DecodedJob | None:
        """Return the uncut job at the end of the stream, if it prints anything."""
        if self._buf:
            raise EscposDecodeError(f"stream ends inside a command ({len(self._buf)} bytes)")
        self._flush_text(newline=False)
        job, self._job = self._job, DecodedJob()
        return None if job.is_empty() else job

    # -- parsing --------------------------------------------------------------------------

    def _need(self, pos: int, count: int) -> bytes:
        if pos + count > len(self._buf):
            raise _Incomplete
        return bytes(self._buf[pos : pos + count])

    def _step(self, pos: int) -> tuple[int, Event | None]:
        b = self._buf[pos]
        if b == DLE:
            return self._dle(pos)
        if b == ESC:
            return self._esc(pos)
        if b == FS:
            return self._fs(pos)
        if b == GS:
            return self._gs(pos)
        if b == LF:
            self._flush_text(newline=True)
            return pos + 1, None
        if b in (CR, FF):
            return pos + 1, None
        if b == HT:
            self._pending_text += b" "
            return pos + 1, None
        if b < 0x20:
            raise EscposDecodeError(f"unknown control byte 0x{b:02x} at {pos}")
        if self._shift_jis and b in _SJIS_LEAD:
            self._pending_text += self._need(pos, 2)
            return pos + 2, None
        self._pending_text.append(b)
        return pos + 1, None

    def _dle(self, pos: int) -> tuple[int, Event | None]:
        cmd, n = self._need(pos + 1, 2)
        if cmd == 0x04:
            return pos + 3, StatusQuery(n)
        if cmd == 0x05:
            return pos + 3, None
        raise EscposDecodeError(f"unsupported DLE command 0x{cmd:02x} at {pos}")

    def _esc(self, pos: int) -> tuple[int, Event | None]:
        cmd = self._need(pos + 1, 1)[0]
        if cmd == ord("@"):
            self._flush_text(newline=False)
            self._reset_style()
            self._shift_jis = False
            return pos + 2, None
        if cmd in (ord("a"), ord("E"), ord("d")):
            arg = self._need(pos + 2, 1)[0]
            self._flush_text(newline=False)
            if cmd == ord("a"):
                self._align = arg % 48 if arg >= 48 else arg
            elif cmd == ord("E"):
                self._bold = bool(arg & 1)
            return pos + 3, None
        if cmd in (ord("i"), ord("m")):
            return pos + 2, self._cut()
        if cmd in _ESC_FIXED:
            return pos + 2 + len(self._need(pos + 2, _ESC_FIXED[cmd])), None
        raise EscposDecodeError(f"unsupported ESC {chr(cmd)!r} at {pos}")

    def _fs(self, pos: int) -> tuple[int, Event | None]:
        cmd = self._need(pos + 1, 1)[0]
        if cmd == ord("C"):
            arg = self._need(pos + 2, 1)[0]
            self._flush_text(newline=False)
            self._shift_jis = arg in (1, 49)
            return pos + 3, None
        if cmd in (ord("&"), ord(".")):
            return pos + 2, None
        if cmd in _FS_FIXED:
            return pos + 2 + len(self._need(pos + 2, _FS_FIXED[cmd])), None
        raise EscposDecodeError(f"unsupported FS {chr(cmd)!r} at {pos}")

    def _gs(self, pos: int) -> tuple[int, Event | None]:
        cmd = self._need(pos + 1, 1)[0]
        if cmd == ord("!"):
            arg = self._need(pos + 2, 1)[0]
            self._flush_text(newline=False)
            self._width, self._height = (arg >> 4) + 1, (arg & 0x0F) + 1
            return pos + 3, None
        if cmd == ord("v"):
            return self._raster(pos)
        if cmd == ord("("):
            return self._gs_paren(pos)
        if cmd == ord("V"):
            mode = self._need(pos + 2, 1)[0]
            if mode in (0, 1, 48, 49):
                return pos + 3, self._cut()
            if mode in (65, 66, 97, 98, 103, 104):
                self._need(pos + 3, 1)
                return pos + 4, self._cut()
            raise EscposDecodeError(f"unknown cut mode {mode} at {pos}")
        if cmd in _GS_FIXED:
            return pos + 2 + len(self._need(pos + 2, _GS_FIXED[cmd])), None
        raise EscposDecodeError(f"unsupported GS {chr(cmd)!r} at {pos}")

    def _raster(self, pos: int) -> tuple[int, Event | None]:
        head = self._need(pos + 2, 6)
        if head[0] != ord("0"):
            raise EscposDecodeError(f"unsupported GS v {chr(head[0])!r} at {pos}")
        density = head[1] % 48 if head[1] >= 48 else head[1]
        width_bytes = head[2] | head[3] << 8
        height = head[4] | head[5] << 8
        data = self._need(pos + 8, width_bytes * height)
        # ESC/POS sets a bit for a black dot; Pillow's "1" mode uses 1 for white.
        block = Image.frombytes("1", (width_bytes * 8, height), data.translate(_INVERT))
        if density & 1:
            block = block.resize((block.width * 2, block.height))
        if density & 2:
            block = block.resize((block.width, block.height * 2))
        self._flush_text(newline=False)
        self._job.raster_blocks.append(block)
        return pos + 8 + len(data), None

    def _gs_paren(self, pos: int) -> tuple[int, Event | None]:
        fn_class, p_l, p_h = self._need(pos + 2, 3)
        size = p_l | p_h << 8
        body = self._need(pos + 5, size)
        if fn_class == ord("k") and size >= 2 and body[0] == 0x31:
            self._qr(body[1], body[2:])
        return pos + 5 + size, None

    def _qr(self, fn: int, args: bytes) -> None:
        if fn == 0x43 and args:
            self._job.qr_module_dots = args[0]
        elif fn == 0x50:
            # args[0] is the fixed m = 0x30 before the data
            self._qr_store = args[1:]
        elif fn == 0x51:
            if self._qr_store is None:
                raise EscposDecodeError("QR print without stored data")
            self._flush_text(newline=False)
            payload = self._qr_store.decode("utf-8", errors="replace")
            self._job.qr_payloads.append(payload)
            self._job.items.append(QrCode(payload, self._job.qr_module_dots))

    def _cut(self) -> Cut:
        self._flush_text(newline=False)
        self._job.cut = True
        job, self._job = self._job, DecodedJob()
        return Cut(job)

    def _flush_text(self, *, newline: bool) -> None:
        if not self._pending_text and not newline:
            return
        raw = bytes(self._pending_text)
        self._pending_text.clear()
        text = raw.decode("cp932" if self._shift_jis else "cp437", errors="replace")
        if self._shift_jis:
            self._job.kanji_shift_jis = True
        segment = TextSegment(text, self._width, self._height, self._bold, self._align, newline)
        self._job.segments.append(segment)
        self._job.items.append(segment)


_INVERT = bytes(255 - i for i in range(256))


def decode(data: bytes) -> DecodedStream:
    """Decode a complete byte stream; raises EscposDecodeError on unknown or cut-off commands."""
    parser = EscposParser()
    jobs: list[DecodedJob] = []
    queries: list[int] = []
    for event in parser.feed(data):
        if isinstance(event, Cut):
            jobs.append(event.job)
        else:
            queries.append(event.n)
    tail = parser.finish()
    if tail is not None:
        jobs.append(tail)
    return DecodedStream(jobs, queries)
