"""Card readers chosen by URL: `sim://` (in-process simulator) and `pcsc://[reader name]` (pyscard
through pcscd). Both end in pyscard's `CardConnection.transmit`, so the simulator exercises the
same code path as a real reader. No APDU observers are attached: they would see the PIN."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from kiosk_app.devices.card.session import CardProtocolError, CardRemoved, NoCard, NotMyNumberCard
from kiosk_app.devices.card.sim import SimulatedMyNumberCard

try:  # pyscard is optional on hosts without a card reader
    from smartcard.CardConnection import CardConnection as _PyscardConnection
except ImportError:  # pragma: no cover - exercised only where pyscard is missing
    _PyscardConnection = object


class SimCardConnection(_PyscardConnection):  # type: ignore[misc]
    """A pyscard connection whose card is the simulator (pyscard's `transmit` -> `doTransmit`)."""

    def __init__(self, card: SimulatedMyNumberCard) -> None:
        super().__init__("Madoguchi simulated reader")
        self.card = card

    def connect(self, protocol: Any = None, mode: Any = None, disposition: Any = None) -> None:
        if not self.card.present:
            raise NoCard("no card in the simulated reader")
        if not self.card.has_contacts:
            # As pcscd with a card that does not answer the reset (SCARD_W_UNRESPONSIVE_CARD).
            from smartcard.Exceptions import CardConnectionException

            raise CardConnectionException("the card is unresponsive")

    def disconnect(self) -> None:
        self.card.power_off()

    def getATR(self) -> list[int]:  # noqa: N802  (pyscard's name)
        if not self.card.present:
            # As a real reader: a removed card has no status (SCardStatus fails).
            from smartcard.Exceptions import CardConnectionException

            raise CardConnectionException("the card was removed")
        return list(self.card.atr)

    def doTransmit(self, command: list[int], protocol: Any = None) -> tuple[list[int], int, int]:  # noqa: N802
        try:
            answer = self.card.transmit(bytes(command))
        except ConnectionError:
            raise CardRemoved("the card was removed") from None
        if len(answer) < 2:  # as pyscard's own PC/SC connection
            from smartcard.Exceptions import CardConnectionException

            raise CardConnectionException("Card returned no valid response")
        return list(answer[:-2]), answer[-2], answer[-1]


class PyscardChannel:
    """A `CardChannel` over any pyscard connection (real reader or simulator)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def transmit(self, command: bytes) -> bytes:
        from smartcard.Exceptions import CardConnectionException

        try:
            data, sw1, sw2 = self._connection.transmit(list(command))
        except CardConnectionException:
            if self.present():  # still there: it answered something that is no R-APDU
                raise CardProtocolError("the card's answer is not a valid response") from None
            raise CardRemoved("the card was removed") from None
        return bytes(data) + bytes([sw1, sw2])

    def present(self) -> bool:
        """Is the connected card still there? (the reader's status; no APDU is sent)"""
        try:
            self._connection.getATR()
        except Exception:  # CardConnectionException, or a reader that went away
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the card or reader may already be gone
            self._connection.disconnect()


def simulator_from_url(url: str) -> SimulatedMyNumberCard:
    """`sim://?pin=1234&tries=3&state=/path/file.json&card=other`: `card=other` is a card
    without the MyNumber applications (6A82), `card=sw:6D00` one that answers the SELECT with
    that status word, `card=short` / `card=empty` with a broken reply, `card=nochip` one with no
    contact chip."""
    from pathlib import Path

    options = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    kind = options.get("card", "mynumber")
    replies = {"short": b"\x90", "empty": b""}
    select_reply = replies.get(kind)
    if kind.startswith("sw:"):
        select_reply = bytes.fromhex(kind[3:])
    return SimulatedMyNumberCard(
        pin=options.get("pin", "1234"),
        tries=int(options.get("tries", "3")),
        state_file=Path(options["state"]) if "state" in options else None,
        is_mynumber_card=kind == "mynumber",
        select_reply=select_reply,
        has_contacts=kind != "nochip",
    )


def pcsc_readers() -> list[str]:
    from smartcard.System import readers

    return [str(r) for r in readers()]


def open_channel(url: str, simulator: SimulatedMyNumberCard | None = None) -> PyscardChannel:
    """Connect to the card in the reader named by `url`; `NoCard` when the slot is empty."""
    parts = urlsplit(url)
    if parts.scheme == "sim":
        from smartcard.Exceptions import CardConnectionException

        connection = SimCardConnection(simulator or simulator_from_url(url))
        try:
            connection.connect()
        except CardConnectionException:
            raise NotMyNumberCard("the card does not answer: it has no contact chip") from None
        return PyscardChannel(connection)
    if parts.scheme == "pcsc":
        from smartcard.Exceptions import CardConnectionException, NoCardException
        from smartcard.System import readers

        wanted = unquote(parts.netloc + parts.path).strip("/")
        available = readers()
        chosen = [r for r in available if not wanted or str(r) == wanted]
        if not chosen:
            raise NoCard(f"no reader {wanted!r}" if wanted else "no card reader connected")
        mute = False
        for reader in chosen:
            connection = reader.createConnection()
            try:
                connection.connect()
            except NoCardException:
                continue
            except CardConnectionException:  # a card is there but does not answer the reset
                mute = True
                continue
            return PyscardChannel(connection)
        if mute:
            raise NotMyNumberCard("the card does not answer: it has no contact chip")
        raise NoCard("no card in the reader")
    raise ValueError(f"unknown card reader URL {url!r}: use sim:// or pcsc://")
