"""Kiosk benchmark: tap on "issue" to slip bytes at the printer, and code decoding.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_kiosk.py [--taps 40] [--frames 40]
Prints Markdown tables; the figures are written down in docs/kiosk.md ("Benchmarks").

1. The real kiosk window (offscreen) against `madoguchi serve` on loopback (SQLite) and the fake
   TCP printer: time from the click on "issue" to the printer holding the whole job (its cut
   command received). That covers the HTTP issue, the slip render and the TCP delivery.
2. Decoding 1280x720 frames: per engine (zxing-cpp on the stretched frame, pyzbar on the raw
   frame, and the kiosk's combination: zxing first, pyzbar when zxing finds nothing), the
   median milliseconds per frame and the share of frames read, per degradation
   (kiosk_app/devices/samples.py) for a QR code and a Code128 barcode.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.server import prepare, roomy_office, server_process

from queue_server.service.ports import SystemClock

CUT = b"\x1dV"


def _p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile (never above the largest sample)."""
    ordered = sorted(samples)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def bench_taps(taps: int) -> list[float]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QPushButton

    from kiosk_app.client import KioskClient
    from kiosk_app.devices.printing import SlipPrinter
    from kiosk_app.flow import Flow, Screen
    from kiosk_app.ui.controller import KioskController
    from kiosk_app.ui.window import KioskWindow
    from printer.fake import FakePrinter

    app = QApplication.instance() or QApplication([])
    samples: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{Path(folder) / 'bench.db'}"
        engine, tokens = prepare(db_url, SystemClock(), raw=roomy_office())
        engine.dispose()
        with (
            server_process(db_url) as url,
            FakePrinter(port=0, out_dir=Path(folder) / "slips") as fake,
        ):
            controller = KioskController(
                Flow(), KioskClient(url, tokens.kiosk), SlipPrinter(fake.url, "", timeout_s=2)
            )
            window = KioskWindow(controller, dpi=96)
            window.resize(1280, 800)
            window.show()
            controller.start()

            def pump_until(condition, timeout_s: float = 10) -> None:
                deadline = time.monotonic() + timeout_s
                while not condition():
                    app.processEvents()
                    if time.monotonic() > deadline:
                        raise RuntimeError("kiosk did not get there in time")
                    time.sleep(0.0005)

            def click(name: str) -> None:
                button = window.findChild(QPushButton, name)
                QTest.mouseClick(button, Qt.MouseButton.LeftButton)

            pump_until(lambda: controller.flow.state.office_loaded)
            for i in range(taps + 2):  # the first two warm up fonts, connections, imports
                controller.start_over()
                click("lang-en")
                click("category-certificates")
                cuts = fake.received.count(CUT)
                started = time.perf_counter()
                click("issue")
                pump_until(lambda c=cuts: fake.received.count(CUT) > c)
                if i >= 2:
                    samples.append((time.perf_counter() - started) * 1000)
                pump_until(lambda: controller.flow.state.printing != "pending")
                assert controller.flow.state.screen is Screen.TICKET
            controller.stop()
    return samples


def bench_decode(frames: int) -> list[tuple[str, str, dict[str, tuple[float, float]]]]:
    import cv2
    import numpy as np
    import qrcode
    from barcode import Code128
    from barcode.writer import ImageWriter

    from kiosk_app.devices.decoder import Decoder
    from kiosk_app.devices.samples import CONDITIONS, degrade

    qr = np.asarray(
        qrcode.make("MDG1.eyJrIjoicmVzZXJ2YXRpb24ifQ.c2lnbmF0dXJlLW9mLXRoZS1jb2Rl", box_size=4)
        .get_image()
        .convert("L")
    )
    bar = np.asarray(
        Code128("R-2026-000123", writer=ImageWriter())
        .render(
            {"module_width": 0.4, "module_height": 18.0, "quiet_zone": 8.0, "write_text": False}
        )
        .convert("L")
    )
    engines = {"zxing-cpp": ["zxing"], "pyzbar": ["pyzbar"], "combination": ["zxing", "pyzbar"]}
    rows = []
    for code_name, image in (("QR", qr), ("Code128", bar)):
        for condition in CONDITIONS:
            rng = np.random.default_rng(2026)
            test_set = [degrade(image, condition, rng) for _ in range(frames)]
            cells = {}
            for label, names in engines.items():
                decoder = Decoder(names)
                times, hits = [], 0
                for frame in test_set:
                    started = time.perf_counter()
                    found = decoder.decode(frame)
                    times.append((time.perf_counter() - started) * 1000)
                    hits += bool(found)
                cells[label] = (statistics.median(times), 100 * hits / len(test_set))
            rows.append((code_name, condition, cells))
    del cv2
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=40)
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    print(
        f"{date.today()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.machine()}\n"
    )
    taps = bench_taps(args.taps)
    print(f"| tap on issue -> slip bytes at the fake printer ({len(taps)} tickets) | ms |")
    print("|---|---|")
    print(f"| p50 | {statistics.median(taps):.1f} |")
    print(f"| p95 | {_p95(taps):.1f} |")
    print(f"| max | {max(taps):.1f} |\n")
    rows = bench_decode(args.frames)
    print(f"Decoding 1280x720 frames ({args.frames} per condition): median ms per frame / read %\n")
    print("| code | condition | zxing-cpp | pyzbar | combination |")
    print("|---|---|---|---|---|")
    totals: dict[str, list[float]] = {}
    for code, condition, cells in rows:
        line = [f"{ms:.1f} ms / {rate:.0f}%" for ms, rate in cells.values()]
        print(f"| {code} | {condition} | " + " | ".join(line) + " |")
        if condition != "clean":
            for label, (_, rate) in cells.items():
                totals.setdefault(label, []).append(rate)
    degraded = [f"{statistics.mean(r):.0f}%" for r in totals.values()]
    print("| all | degraded (mean of the degraded rows) | " + " | ".join(degraded) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
