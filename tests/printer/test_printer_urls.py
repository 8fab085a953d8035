"""Printer URLs: every supported form parses, every mistake says what is wrong."""

from __future__ import annotations

import pytest

from printer.errors import PrinterConfigError
from printer.urls import (
    FileAddress,
    SerialAddress,
    TcpAddress,
    UsbAddress,
    VirtualAddress,
    parse_printer_url,
)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("tcp://192.168.10.20", TcpAddress("192.168.10.20", 9100, 2.0)),
        ("tcp://printer-1f.local:9101?timeout=3", TcpAddress("printer-1f.local", 9101, 3.0)),
        ("tcp://[::1]:9100", TcpAddress("::1", 9100, 2.0)),
        ("usb://04b8:0e28", UsbAddress(0x04B8, 0x0E28)),
        ("usb://04B8:0202?in_ep=0x81&out_ep=0x02", UsbAddress(0x04B8, 0x0202, 2.0, 0x81, 0x02)),
        ("serial:///dev/ttyUSB0?baudrate=38400", SerialAddress("/dev/ttyUSB0", 38400, 2.0)),
        ("serial:///dev/ttyS0", SerialAddress("/dev/ttyS0", 9600, 2.0)),
        ("file:///dev/usb/lp0", FileAddress("/dev/usb/lp0")),
        ("file://slips.bin", FileAddress("slips.bin")),
        ("virtual:///var/lib/madoguchi/slips", VirtualAddress("/var/lib/madoguchi/slips")),
        ("virtual://demo-slips", VirtualAddress("demo-slips")),
    ],
)
def test_supported_urls_parse(url: str, address: object) -> None:
    assert parse_printer_url(url) == address


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("192.168.10.20:9100", "scheme must be one of"),
        ("http://printer", "scheme must be one of"),
        ("tcp://", "missing host"),
        ("tcp://printer:99999", "port must be a number"),
        ("tcp://printer:9100/queue", "no path"),
        ("tcp://printer?timout=2", "unknown option"),
        ("tcp://printer?timeout=0", "timeout must be between"),
        ("tcp://printer?timeout=soon", "not a number of seconds"),
        ("usb://04b8", "expected usb://VID:PID"),
        ("usb://epson:tm88", "not a number"),
        ("usb://104b8:0e28", "4 hex digits"),
        ("serial://", "missing device"),
        ("serial:///dev/ttyUSB0?baudrate=1234", "unsupported baudrate"),
        ("file://", "missing path"),
        ("virtual://?x=1", "unknown option"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(PrinterConfigError, match=message) as info:
        parse_printer_url(url)
    assert info.value.code == "E-PRN-08"
