"""The kiosk's card reader for one visitor at a time, called from one worker thread only.

It keeps the session between the tries query and the PIN so the card is not powered off in
between, re-queries the counter right before the single VERIFY (never a second VERIFY), and
closes the session as soon as the items are read: the card data leaves here as a plain dict
that the caller hands to the flow and drops.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from kiosk_app.devices.card.readers import PyscardChannel, open_channel, simulator_from_url
from kiosk_app.devices.card.session import MyNumberSession, NoCard, NotMyNumberCard, PinLocked
from kiosk_app.devices.card.sim import SimulatedMyNumberCard

logger = logging.getLogger(__name__)


class CardStation:
    """`sim://…` or `pcsc://[reader]`; `present`, `tries_left`, `verify_and_read`, `release`."""

    def __init__(self, url: str, simulator: SimulatedMyNumberCard | None = None) -> None:
        self.url = url
        # One simulated card for the kiosk's life, so its try counter persists like a real one.
        if simulator is None and urlsplit(url).scheme == "sim":
            simulator = simulator_from_url(url)
        self.simulator = simulator
        self._channel: PyscardChannel | None = None
        self._session: MyNumberSession | None = None

    def present(self) -> bool:
        """Is a card in the reader? Sends no APDU (the reader's status only)."""
        if self._channel is not None:
            if self._channel.present():
                return True
            self.release()
        try:
            self._open()
        except NoCard:
            return False
        except NotMyNumberCard:  # a card is there (one with no chip): the next step says so
            return True
        return True

    def _open(self) -> MyNumberSession:
        if self._session is None:
            self._channel = open_channel(self.url, self.simulator)
            self._session = MyNumberSession(self._channel)
        return self._session

    def tries_left(self) -> int:
        """Tries left on the input-support PIN (0: locked); costs no try."""
        return self._open().tries_left()

    def verify_and_read(self, pin: str) -> dict[str, str]:
        """One VERIFY, then the four items; the session is closed whatever happens."""
        try:
            session = self._open()
            # Re-select and re-query first: a card swapped or reset since the tries screen
            # must not get a PIN meant for another state, and a locked card gets none.
            if session.tries_left() == 0:
                raise PinLocked("the PIN is locked: reset at the MyNumber counter")
            session.verify(pin)
            del pin
            return session.read_basic_four().as_items()
        finally:
            self.release()

    def release(self) -> None:
        """Close the session (power the card down); safe to call at any time."""
        channel, self._channel, self._session = self._channel, None, None
        if channel is not None:
            channel.close()
