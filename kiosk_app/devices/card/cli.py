"""`madoguchi card diag --reader URL`: reader and card state for field staff, no personal data."""

from __future__ import annotations

import argparse
from typing import Any


def _diag(args: argparse.Namespace) -> int:
    from kiosk_app.devices.card.readers import open_channel, pcsc_readers
    from kiosk_app.devices.card.session import CardError, MyNumberSession

    if args.reader.startswith("pcsc"):
        try:
            names = pcsc_readers()
        except Exception as exc:  # pcscd not running, no PC/SC library
            print(f"PC/SC: not available ({type(exc).__name__}); is pcscd running?")
            return 2
        print("readers: " + (", ".join(names) if names else "none"))
    try:
        session = MyNumberSession(open_channel(args.reader))
    except CardError as exc:
        print(f"card: none ({exc.code}: {exc})")
        return 1
    except ValueError as exc:
        print(f"reader: {exc}")
        return 2
    try:
        tries = session.tries_left()
    except CardError as exc:
        print(f"card: present, not usable ({exc.code}: {exc})")
        return 1
    finally:
        session.close()
    print("card: MyNumber card with the input-support application")
    if tries == 0:
        print("PIN: locked (reset at the MyNumber counter)")
        return 1
    print(f"PIN: {tries} tries left" + (" (warn the visitor: last try)" if tries == 1 else ""))
    return 0


def register(sub: Any) -> None:
    card = sub.add_parser("card", help="MyNumber card reader")
    commands = card.add_subparsers(dest="card_command", required=True)
    diag = commands.add_parser("diag", help="reader and card state (no personal data)")
    diag.add_argument("--reader", default="pcsc://", help="pcsc://[reader name] or sim://")
    diag.set_defaults(handler=_diag)
