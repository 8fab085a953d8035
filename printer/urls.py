"""Printer URLs (`tcp://`, `usb://`, `serial://`, `file://`, `virtual://`) parsed into addresses."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlsplit

from printer.errors import PrinterConfigError

DEFAULT_TCP_PORT = 9100
DEFAULT_TIMEOUT_S = 2.0
DEFAULT_BAUDRATE = 9600
SCHEMES = ("tcp", "usb", "serial", "file", "virtual")
_MAX_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class TcpAddress:
    """A network printer (raw port 9100, "JetDirect")."""

    host: str
    port: int = DEFAULT_TCP_PORT
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class UsbAddress:
    """A USB printer by vendor and product id (endpoints as python-escpos defaults)."""

    vendor_id: int
    product_id: int
    timeout_s: float = DEFAULT_TIMEOUT_S
    in_ep: int = 0x82
    out_ep: int = 0x01


@dataclass(frozen=True, slots=True)
class SerialAddress:
    """A serial printer (RS-232 or USB-serial adapter)."""

    device: str
    baudrate: int = DEFAULT_BAUDRATE
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class FileAddress:
    """A file or device node the job bytes are appended to (e.g. /dev/usb/lp0)."""

    path: str


@dataclass(frozen=True, slots=True)
class VirtualAddress:
    """A directory receiving one PNG and one .bin per slip (demos, previews)."""

    directory: str


PrinterAddress = TcpAddress | UsbAddress | SerialAddress | FileAddress | VirtualAddress


def _bad(url: str, why: str) -> PrinterConfigError:
    return PrinterConfigError(f"{url!r}: {why}")


def _options(url: str, query: str, allowed: set[str]) -> dict[str, str]:
    parsed = parse_qs(query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(parsed) - allowed)
    if unknown:
        raise _bad(url, f"unknown option(s) {unknown}; allowed: {sorted(allowed)}")
    return {key: values[-1] for key, values in parsed.items()}


def _timeout(url: str, options: dict[str, str]) -> float:
    raw = options.get("timeout")
    if raw is None:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        raise _bad(url, f"timeout {raw!r} is not a number of seconds") from None
    if not 0 < value <= _MAX_TIMEOUT_S:
        raise _bad(url, f"timeout must be between 0 and {_MAX_TIMEOUT_S:g} s")
    return value


def _int(url: str, name: str, raw: str, base: int = 10) -> int:
    try:
        return int(raw, base)
    except ValueError:
        raise _bad(url, f"{name} {raw!r} is not a number") from None


def parse_printer_url(url: str) -> PrinterAddress:
    """Parse a printer URL; raises PrinterConfigError (E-PRN-08) saying what is wrong."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or "://" not in url:
        raise _bad(url, f"scheme must be one of {', '.join(s + '://' for s in SCHEMES)}")
    target = parts.netloc + parts.path
    if scheme == "tcp":
        options = _options(url, parts.query, {"timeout"})
        try:
            port = parts.port
        except ValueError:
            raise _bad(url, "port must be a number between 1 and 65535") from None
        if not parts.hostname:
            raise _bad(url, "missing host, e.g. tcp://192.168.1.50:9100")
        if parts.path not in ("", "/"):
            raise _bad(url, "a tcp:// URL has no path")
        return TcpAddress(parts.hostname, port or DEFAULT_TCP_PORT, _timeout(url, options))
    if scheme == "usb":
        options = _options(url, parts.query, {"timeout", "in_ep", "out_ep"})
        ids = parts.netloc.split(":")
        if len(ids) != 2 or not all(ids) or parts.path not in ("", "/"):
            raise _bad(url, "expected usb://VID:PID in hex, e.g. usb://04b8:0e28")
        vendor, product = (_int(url, "USB id", i, 16) for i in ids)
        if not (0 <= vendor <= 0xFFFF and 0 <= product <= 0xFFFF):
            raise _bad(url, "USB ids are 4 hex digits")
        return UsbAddress(
            vendor,
            product,
            _timeout(url, options),
            _int(url, "in_ep", options["in_ep"], 0) if "in_ep" in options else 0x82,
            _int(url, "out_ep", options["out_ep"], 0) if "out_ep" in options else 0x01,
        )
    if scheme == "serial":
        options = _options(url, parts.query, {"timeout", "baudrate"})
        if not target:
            raise _bad(url, "missing device, e.g. serial:///dev/ttyUSB0?baudrate=9600")
        baudrate = _int(url, "baudrate", options.get("baudrate", str(DEFAULT_BAUDRATE)))
        if baudrate not in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
            raise _bad(url, f"unsupported baudrate {baudrate}")
        return SerialAddress(target, baudrate, _timeout(url, options))
    _options(url, parts.query, set())
    if not target:
        raise _bad(url, f"missing path, e.g. {scheme}:///var/lib/madoguchi/slips")
    if scheme == "file":
        return FileAddress(target)
    return VirtualAddress(target)


def with_timeout(address: PrinterAddress, timeout_s: float) -> PrinterAddress:
    """Return the address with another I/O timeout (no-op for file and virtual)."""
    if isinstance(address, TcpAddress | UsbAddress | SerialAddress):
        if not 0 < timeout_s <= _MAX_TIMEOUT_S:
            raise PrinterConfigError(f"timeout must be between 0 and {_MAX_TIMEOUT_S:g} s")
        return replace(address, timeout_s=timeout_s)
    return address
