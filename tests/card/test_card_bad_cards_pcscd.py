"""Foreign cards through a real PC/SC stack (pyscard -> pcscd -> vsmartcard's virtual reader ->
the simulator): each is "not a MyNumber card", as through the simulator alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from test_card_pcscd import ROOT, _bridge, pcscd  # noqa: F401  (pcscd is a fixture)

from kiosk_app.devices.card.sim import SimulatedMyNumberCard

# What the kiosk's worker does first with a card: open the reader, ask for the tries left.
CLIENT = """
from kiosk_app.devices.card.readers import open_channel
from kiosk_app.devices.card.session import CardError, MyNumberSession, NoCard
try:
    print(MyNumberSession(open_channel("pcsc://Virtual PCD 00 00")).tries_left())
except CardError as exc:
    print(type(exc).__name__)
"""

FOREIGN = {
    "6A82": SimulatedMyNumberCard(is_mynumber_card=False),
    "6D00": SimulatedMyNumberCard(select_reply=bytes.fromhex("6d00")),
    "6E00": SimulatedMyNumberCard(select_reply=bytes.fromhex("6e00")),
    "6F00": SimulatedMyNumberCard(select_reply=bytes.fromhex("6f00")),
    "short": SimulatedMyNumberCard(select_reply=b"\x90"),
}
# Not here: an empty reply (vpcd's framing has no empty answer; the reader then never answers)
# and a card with no contact chip (vpcd reports an empty ATR as no card at all, where a real
# reader reports a mute card). Both are tested through pyscard's connection in
# test_card_bad_cards.py.


def _ask(socket_path: str) -> str:
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": socket_path}
    done = subprocess.run(
        [sys.executable, "-c", CLIENT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_a_foreign_card_is_not_a_mynumber_card(pcscd, kind: str) -> None:  # noqa: F811
    socket_path, port = pcscd
    bridge = _bridge(FOREIGN[kind], port)
    try:
        # pcscd polls virtual readers every ~0.4 s: the card appears shortly after the bridge.
        deadline = time.monotonic() + 30
        while (answer := _ask(socket_path)) == "NoCard" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert answer == "NotMyNumberCard"
    finally:
        bridge.stop()
