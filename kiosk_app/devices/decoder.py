"""Read QR and Code128 codes from camera frames: zxing-cpp first, pyzbar as a second opinion.

Measured (docs/kiosk.md, reference/printing-and-scanning.md): zxing-cpp reads blurred, noisy,
small and tilted codes that pyzbar misses, but fails on very low contrast, which a min-max
stretch fixes; pyzbar adds a few low-contrast reads. Decoding is restricted to the two formats
we use, so stray labels in the picture are not taken for codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ENGINES = ("zxing", "pyzbar")


@dataclass(frozen=True)
class Decoded:
    text: str
    format: str  # "QR" or "Code128"
    engine: str


def to_gray(frame: np.ndarray) -> np.ndarray:
    """A grayscale copy of a BGR or gray frame."""
    if frame.ndim == 2:
        return frame
    import cv2

    return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))


def stretch_contrast(gray: np.ndarray) -> np.ndarray:
    """Spread the 1st-99th percentile of brightness over 0-255 (zxing needs the contrast)."""
    low, high = np.percentile(gray, (1, 99))
    if high - low < 1:
        return gray
    scaled = (gray.astype(np.float32) - float(low)) * (255.0 / float(high - low))
    stretched: np.ndarray = np.clip(scaled, 0, 255).astype(np.uint8)
    return stretched


def crop(gray: np.ndarray, fraction: float) -> np.ndarray:
    """The centre `fraction` of the frame: the guide frame the visitor is asked to aim at."""
    if fraction >= 1:
        return gray
    h, w = gray.shape[:2]
    dh, dw = int(h * (1 - fraction) / 2), int(w * (1 - fraction) / 2)
    return gray[dh : h - dh, dw : w - dw]


class Decoder:
    """Decode one frame with the engines named, in order, stopping at the first that reads."""

    def __init__(self, engines: Sequence[str] = ENGINES, crop_fraction: float = 1.0) -> None:
        unknown = set(engines) - set(ENGINES)
        if unknown or not engines:
            raise ValueError(f"engines must be among {ENGINES}, got {list(engines)}")
        self.engines = tuple(engines)
        self.crop_fraction = crop_fraction

    def decode(self, frame: np.ndarray) -> list[Decoded]:
        """Every code found in the frame (usually one); an empty list when none."""
        gray = crop(to_gray(frame), self.crop_fraction)
        for engine in self.engines:
            found = _zxing(stretch_contrast(gray)) if engine == "zxing" else _pyzbar(gray)
            if found:
                return found
        return []


def _zxing(gray: np.ndarray) -> list[Decoded]:
    import zxingcpp

    formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)
    # A tuple is the current zxing-cpp form (`|` is deprecated); its stubs lag behind.
    results = zxingcpp.read_barcodes(np.ascontiguousarray(gray), formats=formats)  # type: ignore[arg-type]
    return [
        Decoded(r.text, "QR" if r.format == zxingcpp.BarcodeFormat.QRCode else "Code128", "zxing")
        for r in results
        if r.valid and r.text
    ]


def _pyzbar(gray: np.ndarray) -> list[Decoded]:
    from pyzbar import pyzbar

    symbols = [pyzbar.ZBarSymbol.QRCODE, pyzbar.ZBarSymbol.CODE128]
    found = []
    for r in pyzbar.decode(np.ascontiguousarray(gray), symbols=symbols):
        try:
            text = r.data.decode("utf-8")
        except UnicodeDecodeError:
            continue  # pyzbar garbles some payloads; a wrong read is worse than none
        if text:
            found.append(Decoded(text, "QR" if r.type == "QRCODE" else "Code128", "pyzbar"))
    return found
