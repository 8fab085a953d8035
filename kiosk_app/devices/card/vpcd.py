"""Plug the simulator into a real PC/SC stack: a client for vsmartcard's virtual reader (vpcd).

vpcd (a pcscd driver) listens on TCP; each message is a 2-byte big-endian length and a payload.
One-byte payloads are control: 00 power off, 01 power on, 02 reset, 04 get ATR; longer payloads
are C-APDUs answered with R-APDUs. With this bridge running, pyscard sees "Virtual PCD 00 00"
with a MyNumber card in it.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from kiosk_app.devices.card.sim import SimulatedMyNumberCard


class VpcdBridge:
    def __init__(
        self, card: SimulatedMyNumberCard, host: str = "127.0.0.1", port: int = 35963
    ) -> None:
        self.card = card
        self._address = (host, port)
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, timeout: float = 5.0) -> VpcdBridge:
        self._socket = socket.create_connection(self._address, timeout=timeout)
        # vpcd writes length and payload separately; without QUICKACK every APDU waits ~40 ms.
        if hasattr(socket, "TCP_QUICKACK"):
            self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        self._socket.settimeout(None)
        self._thread = threading.Thread(target=self._serve, name="vpcd-bridge", daemon=True)
        self._thread.start()
        return self

    def _recv_exact(self, size: int) -> bytes:
        assert self._socket is not None
        data = b""
        while len(data) < size:
            chunk = self._socket.recv(size - len(data))
            if not chunk:
                raise ConnectionError("vpcd closed the connection")
            data += chunk
        return data

    def _serve(self) -> None:
        assert self._socket is not None
        try:
            while not self._stop.is_set():
                length = int.from_bytes(self._recv_exact(2), "big")
                payload = self._recv_exact(length)
                if hasattr(socket, "TCP_QUICKACK"):
                    self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                if length == 1:
                    if payload[0] in (0x00, 0x02):
                        self.card.power_off()
                    if payload[0] == 0x04:
                        self._send(self.card.atr)
                    continue
                try:
                    answer = self.card.transmit(payload)
                except ConnectionError:
                    answer = b"\x6f\x00"
                self._send(answer)
        except OSError:
            return

    def _send(self, data: bytes) -> None:
        assert self._socket is not None
        self._socket.sendall(len(data).to_bytes(2, "big") + data)

    def stop(self) -> None:
        self._stop.set()
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
            self._socket.close()
        if self._thread is not None:
            self._thread.join(2)

    def __enter__(self) -> VpcdBridge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
