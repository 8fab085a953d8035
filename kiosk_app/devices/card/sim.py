"""A faithful simulator of a MyNumber card's input-support AP, for tests and demos.

It behaves like the real card where it matters to the kiosk: the AID check, a current EF per
application, security state cleared on reselect and power-off, `69 82` before VERIFY, `63 Cx`
tries left, `63 C0` on the last wrong try then `69 84`, a try counter that persists across
sessions (and, with a state file, across processes), `Le 00` = 256, `6B 00` past the end, padded
files and long BER lengths. Every command header is logged so tests can prove what was never sent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from kiosk_app.devices.card.apdu import (
    CARD_FACE_AID,
    EF_BASIC_FOUR,
    EF_INDIVIDUAL_NUMBER,
    EF_PIN,
    INPUT_SUPPORT_AID,
    JPKI_AID,
    build_basic_four,
)

OK = b"\x90\x00"
SAMPLE = ("試験　花子", "東京都千代田区霞が関１－２－３", "19900401", "2")


@dataclass
class LoggedCommand:
    """A command as the simulator saw it; VERIFY data (the PIN) is not kept."""

    header: bytes
    data: bytes
    has_data: bool  # a VERIFY with data is a real PIN try, without it a tries query


@dataclass
class SimulatedMyNumberCard:
    pin: str = "1234"
    items: tuple[str, str, str, str] = SAMPLE
    tries: int = 3
    state_file: Path | None = None  # persists the try counter like the card's own memory
    log: list[LoggedCommand] = field(default_factory=list)
    present: bool = True
    is_mynumber_card: bool = True
    # A foreign card: its answer to any application SELECT (e.g. 6D00, or a broken b"\x90"),
    # and whether it has a contact chip at all (without one the reset gets no answer).
    select_reply: bytes | None = None
    has_contacts: bool = True
    _selected_app: bytes | None = None
    _selected_ef: bytes | None = None
    _verified: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._file = build_basic_four(*self.items) + b"\xff" * 32
        if self.state_file is not None and self.state_file.exists():
            self.tries = int(json.loads(self.state_file.read_text())["tries"])

    # power and presence
    def power_off(self) -> None:
        with self._lock:
            self._selected_app = self._selected_ef = None
            self._verified = False

    def remove(self) -> None:
        self.present = False
        self.power_off()

    def insert(self) -> None:
        self.present = True

    @property
    def atr(self) -> bytes:
        if not self.has_contacts:
            return b""
        return bytes.fromhex("3B E0 00 FF 81 31 FE 45 14".replace(" ", ""))

    def _save(self) -> None:
        if self.state_file is not None:
            self.state_file.write_text(json.dumps({"tries": self.tries}))

    # the card's answer to one command
    def transmit(self, command: bytes) -> bytes:
        if not self.present:
            raise ConnectionError("card removed")
        with self._lock:
            data = b"" if command[:2] == b"\x00\x20" else command[5:]
            self.log.append(LoggedCommand(command[:4], data, len(command) > 5))
            return self._answer(command)

    def _answer(self, command: bytes) -> bytes:
        if len(command) < 4:
            return b"\x67\x00"
        cla, ins, p1, p2 = command[:4]
        if self.select_reply is not None and ins == 0xA4 and p1 == 0x04:
            return self.select_reply
        if cla != 0x00:
            return b"\x6e\x00"
        if ins == 0xA4:
            return self._select(p1, command[5 : 5 + command[4]] if len(command) > 5 else b"")
        if ins == 0x20:
            return self._verify(command[5:9] if len(command) > 5 else None)
        if ins == 0xB0:
            return self._read((p1 << 8) | p2, command[4] if len(command) > 4 else 0)
        return b"\x6d\x00"

    def _select(self, p1: int, target: bytes) -> bytes:
        if p1 == 0x04:
            self._selected_ef = None
            self._verified = False  # security state does not survive a reselect
            known = (INPUT_SUPPORT_AID, CARD_FACE_AID, JPKI_AID) if self.is_mynumber_card else ()
            if target not in known:
                self._selected_app = None
                return b"\x6a\x82"
            self._selected_app = target
            return OK
        if (
            p1 == 0x02
            and self._selected_app == INPUT_SUPPORT_AID
            and target
            in (
                EF_PIN,
                EF_BASIC_FOUR,
                EF_INDIVIDUAL_NUMBER,
            )
        ):
            self._selected_ef = target
            return OK
        return b"\x6a\x82"

    def _verify(self, pin: bytes | None) -> bytes:
        if self._selected_app != INPUT_SUPPORT_AID or self._selected_ef != EF_PIN:
            return b"\x69\x86"
        if self.tries == 0:
            return b"\x69\x84"
        if pin is None:
            return bytes([0x63, 0xC0 | self.tries])
        if pin == self.pin.encode("ascii"):
            self.tries = 3
            self._verified = True
            self._save()
            return OK
        self.tries -= 1
        self._save()
        return bytes([0x63, 0xC0 | self.tries])

    def _read(self, offset: int, le: int) -> bytes:
        if self._selected_ef != EF_BASIC_FOUR:
            return b"\x69\x86"
        if not self._verified:
            return b"\x69\x82"
        length = 256 if le == 0 else le
        if offset >= len(self._file):
            return b"\x6b\x00"
        return self._file[offset : offset + length] + OK
