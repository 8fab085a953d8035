"""Where slips go: one `Printer` port, real adapters chosen by URL.

Every job opens its own connection, asks for status, sends, asks again and closes. Network
printers accept one client at a time on port 9100, and a printer power-cycled between two
visitors must not leave a dead socket behind. A job that cannot print fails at once; nothing is
kept for later, so a refilled printer never spits out a burst of stale numbers.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from printer.errors import (
    FailureReason,
    PrinterDriverMissingError,
    PrinterError,
    PrinterSendError,
    PrinterTimeoutError,
    PrinterUnreachableError,
)
from printer.layout import PrinterProfile
from printer.local import FilePrinter, VirtualPrinter
from printer.render import SlipFonts, render_bytes
from printer.slip import Slip
from printer.status import STATUS_QUERIES, Outcome, PrinterStatus, PrintResult
from printer.urls import (
    FileAddress,
    PrinterAddress,
    SerialAddress,
    TcpAddress,
    UsbAddress,
    VirtualAddress,
    parse_printer_url,
    with_timeout,
)

DLE_EOT = b"\x10\x04"


class Printer(Protocol):
    """The port the kiosk and server use; every adapter and the fake printer fit it."""

    @property
    def url(self) -> str:
        """The URL the printer was opened with."""
        ...

    @property
    def profile(self) -> PrinterProfile:
        """Width and mode used to render slips for this printer."""
        ...

    def print_slip(self, slip: Slip) -> PrintResult:
        """Print one slip now, or fail; never raises for printer conditions."""
        ...

    def status(self) -> PrinterStatus:
        """Ask the printer for its status; unknown when it does not answer."""
        ...


class Link(Protocol):
    """A byte pipe to a printer that is open for one job."""

    def write(self, data: bytes) -> None:
        """Send bytes; raises PrinterSendError or PrinterTimeoutError."""
        ...

    def read_byte(self) -> int | None:
        """One reply byte, or None when the printer stays silent until the timeout."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class TcpLink:
    """A raw TCP connection with the same short timeout for connect, send and read."""

    def __init__(self, address: TcpAddress) -> None:
        try:
            self._sock = socket.create_connection(
                (address.host, address.port), timeout=address.timeout_s
            )
        except TimeoutError:
            raise PrinterUnreachableError(
                f"connect timed out after {address.timeout_s:g} s"
            ) from None
        except OSError as exc:
            raise PrinterUnreachableError(exc.strerror or type(exc).__name__) from None
        # Status queries are 3-byte writes answered by 1 byte; Nagle's algorithm together with
        # delayed ACKs would add ~40 ms to each.
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except TimeoutError:
            raise PrinterTimeoutError("send timed out") from None
        except OSError as exc:
            raise PrinterSendError(exc.strerror or type(exc).__name__) from None

    def read_byte(self) -> int | None:
        try:
            data = self._sock.recv(1)
        except TimeoutError:
            return None
        except OSError as exc:
            raise PrinterSendError(exc.strerror or type(exc).__name__) from None
        if not data:
            raise PrinterSendError("the printer closed the connection")
        return data[0]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


class EscposDeviceLink:
    """A python-escpos Usb or Serial device (untyped, hence this narrow wrapper)."""

    def __init__(self, device: Any) -> None:
        self._device = device
        try:
            device.open()
        except Exception as exc:
            # python-escpos raises its own DeviceNotFoundError, pyusb USBError or pyserial
            # SerialException here; none share a base more specific than Exception.
            raise PrinterUnreachableError(type(exc).__name__) from None

    def write(self, data: bytes) -> None:
        try:
            self._device._raw(data)
        except Exception as exc:
            raise PrinterSendError(type(exc).__name__) from None

    def read_byte(self) -> int | None:
        try:
            data = self._device._read()
        except Exception:
            # pyusb raises USBTimeoutError on silence; pyserial returns b"" instead.
            return None
        return int(data[0]) if data else None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._device.close()


def _usb_link(address: UsbAddress) -> Link:
    from escpos.printer import Usb

    if not Usb.is_usable():
        raise PrinterDriverMissingError("usb:// needs pyusb: pip install 'python-escpos[usb]'")
    device = Usb(
        address.vendor_id,
        address.product_id,
        timeout=int(address.timeout_s * 1000),  # pyusb counts milliseconds
        in_ep=address.in_ep,
        out_ep=address.out_ep,
    )
    return EscposDeviceLink(device)


def _serial_link(address: SerialAddress) -> Link:
    from escpos.printer import Serial

    if not Serial.is_usable():
        raise PrinterDriverMissingError(
            "serial:// needs pyserial: pip install 'python-escpos[serial]'"
        )
    device = Serial(address.device, baudrate=address.baudrate, timeout=address.timeout_s)
    return EscposDeviceLink(device)


def query_status(link: Link) -> PrinterStatus:
    """Send DLE EOT 1, 2 and 4 and interpret the replies."""
    replies: list[int | None] = []
    for n in STATUS_QUERIES:
        link.write(DLE_EOT + bytes([n]))
        reply = link.read_byte()
        if reply is None:
            # Stop at the first silence: waiting out every query would triple the delay, and a
            # late byte would be read as the answer to the next question.
            break
        replies.append(reply)
    replies += [None] * (len(STATUS_QUERIES) - len(replies))
    return PrinterStatus.from_replies(replies[0], replies[1], replies[2])


class EscposPrinter:
    """A real ESC/POS printer behind a tcp://, usb:// or serial:// link."""

    def __init__(
        self,
        url: str,
        profile: PrinterProfile,
        connect: Callable[[], Link],
        fonts: SlipFonts | None = None,
    ) -> None:
        self._url = url
        self._profile = profile
        self._connect = connect
        self._fonts = fonts

    @property
    def url(self) -> str:
        """The URL the printer was opened with."""
        return self._url

    @property
    def profile(self) -> PrinterProfile:
        """Width and mode used to render slips for this printer."""
        return self._profile

    def status(self) -> PrinterStatus:
        """Ask the printer; unknown when it cannot be reached or does not answer."""
        try:
            link = self._connect()
        except PrinterError:
            return PrinterStatus.not_reachable()
        try:
            return query_status(link)
        except PrinterError:
            return PrinterStatus.unknown()
        finally:
            link.close()

    def print_slip(self, slip: Slip) -> PrintResult:
        """Check status, send the slip, check again; a failed job is reported, never retried."""
        started = time.perf_counter()

        def failed(
            reason: FailureReason,
            before: PrinterStatus | None = None,
            sent: int = 0,
            after: PrinterStatus | None = None,
        ) -> PrintResult:
            return PrintResult(
                Outcome.FAILED,
                reason,
                bytes_sent=sent,
                duration_s=time.perf_counter() - started,
                status_before=before or PrinterStatus.unknown(),
                status_after=after,
            )

        try:
            data = render_bytes(slip, self._profile, self._fonts)
        except PrinterError as exc:
            return failed(exc.reason or FailureReason.RENDER_FAILED)
        try:
            link = self._connect()
        except PrinterError as exc:
            return failed(exc.reason or FailureReason.UNREACHABLE, PrinterStatus.not_reachable())
        before: PrinterStatus | None = None
        sent = 0
        try:
            before = query_status(link)
            blocked = before.blocking_reason()
            if blocked is not None:
                return failed(blocked, before)
            link.write(data)
            sent = len(data)
            after = query_status(link)
        except PrinterError as exc:
            return failed(exc.reason or FailureReason.SEND_FAILED, before, sent)
        finally:
            link.close()
        # Paper ran out or the cover opened during the job: the slip is likely cut short and the
        # rest would print after a refill, so the job counts as failed.
        after_blocked = after.blocking_reason()
        if after_blocked is not None and after_blocked is not FailureReason.TIMEOUT:
            return failed(after_blocked, before, sent, after)
        warnings = tuple(dict.fromkeys(before.warnings() + after.warnings()))
        if after_blocked is FailureReason.TIMEOUT:
            warnings += ("status_unknown_after_print",)
        return PrintResult(
            Outcome.PRINTED,
            bytes_sent=sent,
            duration_s=time.perf_counter() - started,
            status_before=before,
            status_after=after,
            warnings=warnings,
        )


def connector_for(address: PrinterAddress) -> Callable[[], Link]:
    """Return a function opening a fresh link per job for tcp, usb or serial addresses."""
    if isinstance(address, TcpAddress):
        return lambda: TcpLink(address)
    if isinstance(address, UsbAddress):
        return lambda: _usb_link(address)
    if isinstance(address, SerialAddress):
        return lambda: _serial_link(address)
    raise TypeError(f"{type(address).__name__} has no byte link")


def open_printer(
    url: str,
    profile: PrinterProfile | None = None,
    *,
    timeout_s: float | None = None,
    fonts: SlipFonts | None = None,
) -> Printer:
    """Return the printer for a URL; raises PrinterConfigError (E-PRN-08) for a bad URL.

    Nothing is opened here: each `print_slip` and `status` call connects on its own.
    """
    address = parse_printer_url(url)
    if timeout_s is not None:
        address = with_timeout(address, timeout_s)
    profile = profile or PrinterProfile()
    if isinstance(address, FileAddress):
        return FilePrinter(url, profile, Path(address.path), fonts)
    if isinstance(address, VirtualAddress):
        return VirtualPrinter(url, profile, Path(address.directory), fonts)
    return EscposPrinter(url, profile, connector_for(address), fonts)
