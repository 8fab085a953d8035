"""End to end through a real PC/SC stack: pyscard -> libpcsclite -> pcscd (started here, private)
-> vsmartcard's virtual reader -> the card simulator on its socket."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk_app.devices.card.apdu import EF_INDIVIDUAL_NUMBER, JPKI_AID
from kiosk_app.devices.card.sim import SimulatedMyNumberCard
from kiosk_app.devices.card.vpcd import VpcdBridge

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
ROOT = Path(__file__).resolve().parents[2]

# The client runs in its own process: PCSCLITE_CSOCK_NAME is read once per process.
CLIENT = """
import json, sys
from kiosk_app.devices.card.readers import open_channel
from kiosk_app.devices.card.session import MyNumberSession, WrongPin, PinLocked
session = MyNumberSession(open_channel("pcsc://Virtual PCD 00 00"))
out = {"tries": session.tries_left()}
try:
    session.verify(sys.argv[1])
    out["items"] = session.read_basic_four().as_items()
except WrongPin as exc:
    out["wrong_pin_tries_left"] = exc.tries_left
session.close()
print(json.dumps(out, ensure_ascii=False))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pcscd_can_run() -> str | None:
    if os.geteuid() != 0:
        return "needs root to give pcscd a private /run/pcscd (unshare -m)"
    for tool in ("pcscd", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make test installs pcscd and vsmartcard-vpcd)"
    if not VPCD_DRIVER.exists():
        return "vsmartcard-vpcd is not installed"
    return None


@pytest.fixture
def pcscd(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A private pcscd with one virtual reader on a free port; yields its socket and port."""
    reason = _pcscd_can_run()
    if reason:
        pytest.skip(reason)
    path = str(tmp_path / "pcscd.comm")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    Path("/run/pcscd").mkdir(parents=True, exist_ok=True)

    def as_fd_3() -> None:  # socket activation, the way systemd hands pcscd its socket
        os.dup2(listener.fileno(), 3)

    # The free port can be taken by another process before vpcd binds it ("Address already in
    # use" in pcscd's log, and the reader never appears): then start again on another port.
    for attempt in range(5):
        port = _free_port()
        (tmp_path / "reader.conf").write_text(
            f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:{port}\n'
            f"LIBPATH {VPCD_DRIVER}\nCHANNELID {port}\n"
        )
        command = (
            "mount -t tmpfs tmpfs /run/pcscd && LISTEN_PID=$$ LISTEN_FDS=1 "
            f"exec pcscd --foreground --config {tmp_path / 'reader.conf'}"
        )
        log_path = tmp_path / f"pcscd-{attempt}.log"
        log = log_path.open("w")
        daemon = subprocess.Popen(
            ["unshare", "-m", "sh", "-c", command], preexec_fn=as_fd_3, close_fds=False,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        time.sleep(1.0)  # pcscd opens its readers at start
        if "Address already in use" not in log_path.read_text():
            break
        daemon.terminate()
        daemon.wait(10)
        log.close()
    try:
        yield path, port
    finally:
        daemon.terminate()
        daemon.wait(10)
        listener.close()
        log.close()


def _bridge(card: SimulatedMyNumberCard, port: int) -> VpcdBridge:
    deadline = time.monotonic() + 30  # pcscd is slow to start on a busy machine
    while True:
        try:
            return VpcdBridge(card, port=port).start()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _client(socket_path: str, *args: str, module: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": socket_path}
    command = [sys.executable, "-m", *args] if module else [sys.executable, "-c", CLIENT, *args]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)


def _read_when_ready(socket_path: str, pin: str) -> dict:
    # pcscd polls virtual readers every ~0.4 s: the card appears shortly after the bridge connects.
    deadline = time.monotonic() + 30  # pcscd is slow to start on a busy machine
    while True:
        result = _client(socket_path, pin)
        if result.returncode == 0:
            return dict(json.loads(result.stdout))
        if time.monotonic() > deadline:
            raise AssertionError(result.stderr[-2000:])
        time.sleep(0.3)


@pytest.mark.slow
def test_reading_the_card_through_real_pcscd(pcscd) -> None:
    socket_path, port = pcscd
    card = SimulatedMyNumberCard()
    bridge = _bridge(card, port)
    try:
        out = _read_when_ready(socket_path, "1234")
        assert out["tries"] == 3
        assert out["items"]["name"] == "試験　花子"
        assert out["items"]["birth"] == "19900401"
        wrong = _client(socket_path, "0000")
        assert json.loads(wrong.stdout) == {"tries": 3, "wrong_pin_tries_left": 2}
        diag = _client(
            socket_path, "madoguchi.cli", "card", "diag", "--reader", "pcsc://", module=True
        )
        assert "Virtual PCD 00 00" in diag.stdout and "2 tries left" in diag.stdout
        assert "花子" not in diag.stdout
    finally:
        bridge.stop()
    selects = [c.data for c in card.log if c.header[:2] == b"\x00\xa4"]
    assert EF_INDIVIDUAL_NUMBER not in selects and JPKI_AID not in selects
    assert sum(1 for c in card.log if c.header[:2] == b"\x00\x20" and c.has_data) == 2
