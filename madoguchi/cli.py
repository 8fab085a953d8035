"""The `madoguchi` command: each part registers its own subcommands.

Parts import their heavy dependencies (FastAPI, Qt, python-escpos) inside the handlers, so a
server host without Qt can still run `madoguchi serve`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every part's subcommands registered."""
    from display_board import cli as board_cli
    from kiosk_app import cli as kiosk_cli
    from kiosk_app.devices.card import cli as card_cli
    from madoguchi import doctor, install
    from printer import cli as printer_cli
    from queue_server import accounts_cli, maintenance_cli, office_cli, ops_cli, replay_cli
    from queue_server import cli as server_cli
    from relay import cli as relay_cli

    parser = argparse.ArgumentParser(
        prog="madoguchi", description="Counter (窓口) kiosk and queue system for city halls."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    server_cli.register(sub)
    accounts_cli.register(sub)
    office_cli.register(sub)
    maintenance_cli.register(sub)
    printer_cli.register(sub)
    kiosk_cli.register(sub)
    card_cli.register(sub)
    replay_cli.register(sub)
    ops_cli.register(sub)
    board_cli.register(sub)
    relay_cli.register(sub)
    doctor.register(sub)
    install.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
