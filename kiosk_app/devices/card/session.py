"""Reading the basic four items under the kiosk's PIN rules.

1. Ask the card for the tries left before asking for a PIN (failures elsewhere persist).
2. Exactly one VERIFY per explicit call; never an automatic retry, never after a transport error.
3. Read the file header, compute its length (long BER forms), read the rest in ≤256-byte chunks.
Logs carry step names and status words only.
"""

from __future__ import annotations

import logging
from typing import Protocol

from kiosk_app.devices.card import apdu

logger = logging.getLogger(__name__)


class CardError(Exception):
    """Base of card problems; `code` is shown to staff, messages hold no card data."""

    code = "E-CARD-00"


class NoCard(CardError):
    code = "E-CARD-01"


class CardRemoved(CardError):
    code = "E-CARD-02"


class NotMyNumberCard(CardError):
    code = "E-CARD-03"


class PinLocked(CardError):
    code = "E-CARD-04"


class WrongPin(CardError):
    code = "E-CARD-05"

    def __init__(self, tries_left: int) -> None:
        super().__init__(f"wrong PIN, {tries_left} tries left")
        self.tries_left = tries_left


class CardProtocolError(CardError):
    code = "E-CARD-06"


class CardChannel(Protocol):
    """One connection to a card in a reader; `transmit` raises `CardRemoved` when it is gone."""

    def transmit(self, command: bytes) -> bytes: ...
    def close(self) -> None: ...


class MyNumberSession:
    def __init__(self, channel: CardChannel) -> None:
        self._channel = channel
        self._ap_selected = False

    def _send(self, command: bytes) -> tuple[bytes, int]:
        step = apdu.describe(command)
        try:
            data, sw = apdu.split(self._channel.transmit(command))
        except CardRemoved:
            logger.info("card: %s -> removed", step)
            raise
        except apdu.ApduError as exc:
            raise CardProtocolError(str(exc)) from None
        if sw >> 8 == 0x61:  # more data waiting: GET RESPONSE
            more, sw = apdu.split(
                self._channel.transmit(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
            )
            data += more
        logger.info("card: %s -> %04X", step, sw)
        return data, sw

    def _select_ap(self) -> None:
        # A MyNumber card answers 90 00. Anything else - 6A 82 (no such application), 6D 00 /
        # 6E 00 (a card that knows no ISO SELECT or class), 6F 00, or no valid reply at all - is
        # another card: the visitor is told so, not that the reader failed.
        try:
            _, sw = self._send(apdu.SELECT_AP)
        except CardProtocolError:
            raise NotMyNumberCard("the card's answer to the select is not valid") from None
        if sw != 0x9000:
            raise NotMyNumberCard(f"this card has no input-support application ({sw:04X})")
        self._ap_selected = True

    def tries_left(self) -> int:
        """Tries left on the PIN (0 when locked); costs no try."""
        self._select_ap()
        _, sw = self._send(apdu.SELECT_PIN_EF)
        if sw != 0x9000:
            raise CardProtocolError(f"select PIN file answered {sw:04X}")
        _, sw = self._send(apdu.TRIES_LEFT)
        if sw in (0x6984, 0x6983):
            return 0
        if sw & 0xFFF0 == 0x63C0:
            return sw & 0x0F
        if sw == 0x9000:  # some cards answer OK when no verification is needed yet
            return 3
        raise CardProtocolError(f"tries query answered {sw:04X}")

    def verify(self, pin: str) -> None:
        """One VERIFY; raises `WrongPin(tries_left)` or `PinLocked`. The PIN is not kept."""
        command = apdu.verify(pin)
        _, sw = self._send(command)
        del command
        if sw == 0x9000:
            return
        if sw in (0x6984, 0x6983) or sw == 0x63C0:
            raise PinLocked("the PIN is locked: reset at the MyNumber counter")
        if sw & 0xFFF0 == 0x63C0:
            raise WrongPin(sw & 0x0F)
        raise CardProtocolError(f"verify answered {sw:04X}")

    def read_basic_four(self) -> apdu.BasicFour:
        """The four items (after a successful `verify`)."""
        _, sw = self._send(apdu.SELECT_BASIC_FOUR)
        if sw != 0x9000:
            raise CardProtocolError(f"select basic-four file answered {sw:04X}")
        header, sw = self._send(apdu.read_binary(0, 8))
        if sw == 0x6982:
            raise CardProtocolError("the card wants the PIN first")
        if sw != 0x9000:
            raise CardProtocolError(f"read answered {sw:04X}")
        try:
            total = apdu.outer_length(header)
        except apdu.ApduError as exc:
            raise CardProtocolError(str(exc)) from None
        content = bytearray(header[: min(len(header), total)])
        while len(content) < total:
            chunk, sw = self._send(apdu.read_binary(len(content), min(256, total - len(content))))
            if sw != 0x9000 or not chunk:
                raise CardProtocolError(f"read answered {sw:04X}")
            content += chunk
        try:
            return apdu.parse_basic_four(bytes(content))
        except apdu.ApduError as exc:
            raise CardProtocolError(str(exc)) from None

    def close(self) -> None:
        self._channel.close()
