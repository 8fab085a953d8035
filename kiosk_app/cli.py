"""`madoguchi kiosk`: the visitor kiosk. Qt is imported inside the handler, so hosts without
Qt can still run the other commands."""

from __future__ import annotations

import argparse
from typing import Any


def _kiosk(args: argparse.Namespace) -> int:
    from kiosk_app.settings import KioskSettings

    overrides: dict[str, Any] = {
        key: value
        for key, value in {
            "server_url": args.server,
            "token": args.token,
            "printer_url": args.printer,
            "scanner_url": args.scanner,
            "reader_url": args.reader,
            "demo": args.demo or None,
            "fullscreen": args.fullscreen or None,
            "idle_seconds": args.idle_seconds,
            "general_category": args.general_category,
        }.items()
        if value is not None
    }
    settings = KioskSettings(**overrides)
    if not settings.token:
        print("madoguchi kiosk: a kiosk device token is needed (--token or MADOGUCHI_KIOSK_TOKEN)")
        return 2
    from kiosk_app.ui.app import run

    return run(settings)


def register(sub: Any) -> None:
    """Add the `kiosk` command to the top-level subparsers."""
    kiosk = sub.add_parser("kiosk", help="run the visitor kiosk (touch screen, printer, scanner)")
    kiosk.add_argument("--server", help="queue server URL (default http://127.0.0.1:8000)")
    kiosk.add_argument("--token", help="kiosk device token (madoguchi devices add / demo)")
    kiosk.add_argument("--printer", help="printer URL (default virtual:// in the data dir)")
    kiosk.add_argument(
        "--scanner", help="camera://0, hid://, serial:///dev/ttyACM0 or images://DIR (default)"
    )
    kiosk.add_argument(
        "--reader",
        help="MyNumber card reader: pcsc://[reader name] or sim://?pin=1234 (default: none)",
    )
    kiosk.add_argument(
        "--demo", action="store_true", help="demo mode: a simulated MyNumber card (PIN 1234)"
    )
    kiosk.add_argument("--fullscreen", action="store_true", help="fill the screen (kiosk mode)")
    kiosk.add_argument("--idle-seconds", type=float, help="reset after this long untouched")
    kiosk.add_argument(
        "--general-category",
        help="procedure id 「わからない・その他」 issues tickets for (default: ask the reception)",
    )
    kiosk.set_defaults(handler=_kiosk)
