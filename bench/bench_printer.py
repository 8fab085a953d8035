"""Printer benchmark: slip build time and size per mode and width, and TCP delivery on loopback.

Run: .venv/bin/python bench/bench_printer.py [--builds 30] [--slips 50]
Prints Markdown tables; the figures are written down in docs/printer.md ("Benchmarks").
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date

from printer.fake import FakePrinter
from printer.layout import PrinterProfile, make_profile
from printer.render import SlipFonts, render_bytes
from printer.slip import sample_slip
from printer.transports import Printer, TcpLink, open_printer, query_status
from printer.urls import TcpAddress

WIDTHS = (384, 512, 576)
MODES = ("raster", "kanji")


def _times_ms(run: Callable[[], object], count: int) -> list[float]:
    run()  # warm-up: font loading and imports are not part of a slip
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def bench_build(builds: int, fonts: SlipFonts) -> None:
    """Median time to render one slip to ESC/POS bytes, and its size."""
    slip = sample_slip("en")
    print("| mode | width (dots) | median build (ms) | bytes per slip |")
    print("|---|---|---|---|")
    for mode in MODES:
        for width in WIDTHS:
            profile = make_profile(width, mode)
            size = len(render_bytes(slip, profile, fonts))
            count = builds if mode == "raster" else builds * 10

            def build(profile: PrinterProfile = profile) -> None:
                render_bytes(slip, profile, fonts)

            samples = _times_ms(build, count)
            print(f"| {mode} | {width} | {statistics.median(samples):.2f} | {size:,} |")


def bench_tcp(slips: int, fonts: SlipFonts) -> None:
    """Loopback delivery to the fake printer: bytes only, and the whole print_slip call."""
    slip = sample_slip("en")
    print()
    print(
        f"| over TCP loopback to FakePrinter ({slips} slips, width 576) | median (ms) | p95 (ms) |"
    )
    print("|---|---|---|")
    with FakePrinter(port=0) as fake:
        address = TcpAddress("127.0.0.1", fake.port)
        for mode in MODES:
            profile = make_profile(576, mode)
            data = render_bytes(slip, profile, fonts)

            def deliver(data: bytes = data) -> None:
                link = TcpLink(address)
                try:
                    assert query_status(link).blocking_reason() is None
                    link.write(data)
                    query_status(link)
                finally:
                    link.close()

            samples = _times_ms(deliver, slips)
            label = f"{mode}: deliver pre-rendered job (connect, status, send, status)"
            print(f"| {label} | {statistics.median(samples):.1f} | {_p95(samples):.1f} |")

            printer = open_printer(fake.url, profile, fonts=fonts)

            def print_one(printer: Printer = printer) -> None:
                result = printer.print_slip(slip)
                assert result.ok, result

            samples = _times_ms(print_one, slips)
            label = f"{mode}: print_slip end to end (render + deliver)"
            print(f"| {label} | {statistics.median(samples):.1f} | {_p95(samples):.1f} |")
        expected = 4 * (slips + 1)
        fake.wait_for_slips(expected, timeout=10)
        assert len(fake.slips) == expected, (len(fake.slips), expected)


def main() -> int:
    """Run both benchmarks and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--builds", type=int, default=30, help="raster builds per cell")
    parser.add_argument("--slips", type=int, default=50, help="slips per TCP measurement")
    args = parser.parse_args()
    fonts = SlipFonts.find()
    print(
        f"{date.today().isoformat()}, {os.cpu_count()} cores, python {platform.python_version()}, "
        f"{platform.machine()}; command: .venv/bin/python bench/bench_printer.py"
    )
    print()
    bench_build(args.builds, fonts)
    bench_tcp(args.slips, fonts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
