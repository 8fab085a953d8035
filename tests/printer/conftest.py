"""Shared fixtures for printer tests: a running FakePrinter and a QR reader for images."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from printer.fake import FakePrinter
from printer.render import SlipFonts

QrReader = Callable[[Image.Image], list[str]]


@pytest.fixture(scope="session")
def fonts() -> SlipFonts:
    """The host's Japanese fonts (found once per run)."""
    return SlipFonts.find()


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakePrinter]:
    """A fake network printer on a free loopback port, saving PNGs under tmp_path/slips."""
    with FakePrinter(port=0, out_dir=tmp_path / "slips") as printer:
        yield printer


@pytest.fixture(scope="session")
def read_qr() -> QrReader:
    """Decode every QR code in an image: zxing-cpp first, pyzbar as the second opinion."""
    import zxingcpp

    def read(image: Image.Image) -> list[str]:
        gray = image.convert("L")
        qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
        found = [r.text for r in zxingcpp.read_barcodes(gray, formats=qr_only)]
        if found:
            return found
        from pyzbar import pyzbar

        return [r.data.decode("utf-8") for r in pyzbar.decode(gray)]

    return read
