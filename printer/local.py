"""Printers on this machine: a file or device node, and the demo's directory of previews.

Neither can report paper or cover state, so their status is always "assumed ok".
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

from printer.errors import FailureReason, PrinterError
from printer.layout import Mode, PrinterProfile
from printer.render import SlipFonts, raster_job, render_bytes, render_image
from printer.slip import Slip
from printer.status import Outcome, PrinterStatus, PrintResult

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def _printed(data: bytes, started: float, output: Path) -> PrintResult:
    status = PrinterStatus.assumed_ok()
    return PrintResult(
        Outcome.PRINTED,
        bytes_sent=len(data),
        duration_s=time.perf_counter() - started,
        status_before=status,
        status_after=status,
        output_path=str(output),
    )


class _LocalPrinter:
    """What the local printers share: the URL, the profile and a status that cannot be read."""

    def __init__(
        self, url: str, profile: PrinterProfile, path: Path, fonts: SlipFonts | None
    ) -> None:
        self._url = url
        self._profile = profile
        self._path = path
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
        """Always ok: a file or a directory has no paper or cover."""
        return PrinterStatus.assumed_ok()


class FilePrinter(_LocalPrinter):
    """Appends each job's bytes to a file or device node; it cannot report status."""

    def print_slip(self, slip: Slip) -> PrintResult:
        """Append the job to the file."""
        started = time.perf_counter()
        reason = FailureReason.RENDER_FAILED
        try:
            data = render_bytes(slip, self._profile, self._fonts)
            reason = FailureReason.UNREACHABLE
            with self._path.open("ab") as out:
                out.write(data)
        except (PrinterError, OSError):
            return PrintResult(Outcome.FAILED, reason, duration_s=time.perf_counter() - started)
        return _printed(data, started, self._path)


class VirtualPrinter(_LocalPrinter):
    """Writes a PNG preview and the raw job (.bin) per slip into a directory (demo default)."""

    def print_slip(self, slip: Slip) -> PrintResult:
        """Write `<time>-<number>.png` and `.bin`; the PNG is what a raster printer would print."""
        started = time.perf_counter()
        try:
            fonts = self._fonts or SlipFonts.find()
            image = render_image(slip, self._profile, fonts)
            if self._profile.mode is Mode.RASTER:
                data = raster_job(image, self._profile)
            else:
                data = render_bytes(slip, self._profile, fonts)
        except PrinterError as exc:
            return PrintResult(
                Outcome.FAILED,
                exc.reason or FailureReason.RENDER_FAILED,
                duration_s=time.perf_counter() - started,
            )
        stem = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{_UNSAFE_NAME.sub('_', slip.number)}"
        png = self._path / f"{stem}.png"
        try:
            self._path.mkdir(parents=True, exist_ok=True)
            image.save(png)
            (self._path / f"{stem}.bin").write_bytes(data)
        except OSError:
            return PrintResult(
                Outcome.FAILED,
                FailureReason.UNREACHABLE,
                duration_s=time.perf_counter() - started,
            )
        return _printed(data, started, png)
