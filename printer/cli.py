"""`madoguchi print ...`: test page, status check for field staff, and the fake printer.

Pillow and python-escpos are imported inside the handlers so `madoguchi serve` on a host without
them still starts.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from printer.texts import Language

if TYPE_CHECKING:
    from printer.fake import FakeSlip
    from printer.status import PrinterStatus, PrintResult

WIDTH_CHOICES = (384, 512, 576)
EXIT_OK, EXIT_PROBLEM, EXIT_UNKNOWN, EXIT_USAGE = 0, 1, 2, 64
_FAKE_STATES = ("ok", "near_end", "out", "cover_open", "offline", "silent")


def register(sub: Any) -> None:
    """Add the `print` command group to the top-level subparsers."""
    group = sub.add_parser("print", help="ticket printer: test page, status, fake printer")
    actions = group.add_subparsers(dest="print_command", required=True, metavar="ACTION")

    test = actions.add_parser("test-page", help="print a full sample slip with QR code")
    _printer_arguments(test)
    test.add_argument("--width", type=int, choices=WIDTH_CHOICES, help="paper width in dots")
    test.add_argument("--mode", choices=("raster", "kanji"), help="raster image or kanji font")
    test.add_argument("--profile", help="printer profile name (default generic-80mm)")
    test.add_argument(
        "--language",
        choices=[lang.value for lang in Language],
        default=Language.EN.value,
        help="visitor language of the sample slip (default en)",
    )
    test.set_defaults(handler=test_page)

    status = actions.add_parser(
        "status", help="show printer status (exit 0 ok, 1 problem, 2 unknown)"
    )
    _printer_arguments(status)
    status.set_defaults(handler=show_status)

    fake = actions.add_parser("fake", help="run a fake network printer until Ctrl-C")
    fake.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    fake.add_argument("--port", type=int, default=9100, help="printer port (default 9100)")
    fake.add_argument("--out", type=Path, default=Path("fake-slips"), help="PNG directory")
    fake.add_argument("--state", choices=_FAKE_STATES, default="ok", help="initial condition")
    fake.add_argument("--width", type=int, choices=WIDTH_CHOICES, default=576)
    fake.add_argument(
        "--control-port", type=int, help="also accept 'state NAME' lines on this port"
    )
    fake.add_argument(
        "--seconds", type=float, help="stop after this many seconds (default: until Ctrl-C)"
    )
    fake.set_defaults(handler=run_fake)


def _printer_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--printer",
        required=True,
        metavar="URL",
        help="tcp://HOST:9100, usb://VID:PID, serial:///dev/ttyUSB0?baudrate=N, "
        "file:///PATH or virtual://DIR",
    )
    parser.add_argument("--timeout", type=float, help="I/O timeout in seconds (default 2)")


def test_page(args: argparse.Namespace) -> int:
    """Print the sample slip and report the outcome."""
    from printer.errors import PrinterError
    from printer.layout import make_profile
    from printer.slip import sample_slip
    from printer.transports import open_printer

    try:
        profile = make_profile(args.width, args.mode, args.profile)
        printer = open_printer(args.printer, profile, timeout_s=args.timeout)
    except PrinterError as exc:
        print(exc)
        return EXIT_USAGE
    print(f"printer: {args.printer} ({profile.name}, {profile.width_dots} dots, {profile.mode})")
    result = printer.print_slip(sample_slip(args.language))
    _print_result(result)
    return EXIT_OK if result.ok else EXIT_PROBLEM


def _print_result(result: PrintResult) -> None:
    if result.ok:
        print(
            f"印刷しました / printed: {result.bytes_sent} bytes "
            f"in {result.duration_s * 1000:.0f} ms"
        )
        if result.output_path:
            print(f"出力先 / output: {result.output_path}")
        for warning in result.warnings:
            print(f"注意 / warning: {_WARNINGS.get(warning, warning)}")
    else:
        print(f"印刷できませんでした / not printed: {result.code} {result.reason}")
        print(f"  {result.message_ja} / {result.message_en}")
    print(f"状態 / status: {_one_line(result.status_after or result.status_before)}")


_WARNINGS = {
    "paper_near_end": "用紙残りわずか、交換を準備してください / paper near end, prepare a new roll",
    "status_unknown_after_print": "印刷後の状態が不明です / no status reply after printing",
}
_LABELS_JA = {
    "online": "オンライン",
    "offline": "オフライン",
    "ok": "正常",
    "near_end": "残りわずか",
    "out": "なし",
    "closed": "閉",
    "open": "開",
    "unknown": "不明",
    "warning": "要注意",
    "problem": "異常",
}


def _one_line(status: PrinterStatus) -> str:
    return (
        f"{status.health.value}, online={status.online.value}, "
        f"paper={status.paper.value}, cover={status.cover.value}"
    )


def show_status(args: argparse.Namespace) -> int:
    """Print a status report for field staff; exit 0 ok, 1 problem, 2 unknown."""
    from printer.errors import REASON_CODES, PrinterError, message_en, message_ja
    from printer.status import Health
    from printer.transports import open_printer

    try:
        printer = open_printer(args.printer, timeout_s=args.timeout)
    except PrinterError as exc:
        print(exc)
        return EXIT_USAGE
    status = printer.status()
    rows = (
        ("総合 / overall", status.health.value),
        ("オンライン / online", status.online.value),
        ("用紙 / paper", status.paper.value),
        ("カバー / cover", status.cover.value),
    )
    print(f"プリンター / printer: {args.printer}")
    for label, value in rows:
        print(f"  {label}: {_LABELS_JA[value]} ({value})")
    reason = status.blocking_reason()
    if reason is not None:
        code = REASON_CODES[reason]
        print(f"  {code} {message_ja(code)} / {message_en(code)}")
    elif status.health is Health.WARNING:
        print(f"  {_WARNINGS['paper_near_end']}")
    if status.health is Health.UNKNOWN:
        return EXIT_UNKNOWN
    return EXIT_PROBLEM if status.health is Health.PROBLEM else EXIT_OK


def run_fake(args: argparse.Namespace) -> int:
    """Run the fake printer until Ctrl-C (or --seconds), printing where each slip PNG goes."""
    from printer.fake import FakePrinter, FakeState

    def announce(slip: FakeSlip) -> None:
        where = slip.png if slip.png else f"not printed (state {fake.state.value})"
        payloads = ", ".join(slip.job.qr_payloads) or "-"
        print(f"slip {slip.index}: {where}  native QR: {payloads}", flush=True)

    try:
        fake = FakePrinter(
            args.host,
            args.port,
            out_dir=args.out,
            state=FakeState(args.state),
            width_dots=args.width,
            control_port=args.control_port,
            on_slip=announce,
        )
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
        return EXIT_PROBLEM
    with fake:
        print(f"fake printer: {fake.url} (state {fake.state.value})", flush=True)
        print(f"PNGs -> {args.out.resolve()}", flush=True)
        if fake.control_port is not None:
            print(f"control: 'state out' lines to {args.host}:{fake.control_port}", flush=True)
        deadline = time.monotonic() + args.seconds if args.seconds else None
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.1)
        except KeyboardInterrupt:
            print("stopped")
    return EXIT_OK
