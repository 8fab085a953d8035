"""Staff accounts and devices on the command line: `users add|disable|enable`,
`devices add|revoke|rotate`. Each change is in the audit log as `cli:<user>`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from queue_server.cli_common import audit, database_option, engine_for, fail


def _users_add(args: argparse.Namespace) -> int:
    from queue_server.adapters.accounts import Accounts
    from queue_server.domain.errors import DomainError
    from queue_server.service.ports import SystemClock

    if not args.password_stdin:
        return fail("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = Accounts(engine_for(args), SystemClock()).add_user(args.name, args.role, password)
    except DomainError as exc:
        return fail(exc.message)
    audit(args, "staff.added", detail=f"staff={user.name} role={user.role}")
    print(f"added {user.role} {user.name}")
    return 0


def _devices_add(args: argparse.Namespace) -> int:
    from queue_server.adapters.accounts import Accounts
    from queue_server.domain.errors import DomainError
    from queue_server.service.ports import SystemClock

    try:
        device, token = Accounts(engine_for(args), SystemClock()).add_device(args.name, args.kind)
    except DomainError as exc:
        return fail(exc.message)
    audit(args, "device.added", device=device.name, detail=f"kind={device.kind}")
    if args.server:
        print(f"on the {device.kind} PC, write its service files and put the token below in")
        print(f"/etc/madoguchi/{device.kind}.env (MADOGUCHI_{device.kind.upper()}_TOKEN=...):")
        print(f"  madoguchi install-{device.kind} --server {args.server} --write ./{device.name}")
    print(f"added {device.kind} {device.name}; its token (shown once):")
    print(token)
    return 0


def _accounts(args: argparse.Namespace) -> Any:
    from queue_server.adapters.accounts import Accounts
    from queue_server.service.ports import SystemClock

    return Accounts(engine_for(args), SystemClock())


def _devices_revoke(args: argparse.Namespace) -> int:
    from queue_server.domain.errors import DomainError

    try:
        device = _accounts(args).revoke_device(args.name)
    except DomainError as exc:
        return fail(exc.message)
    audit(args, "device.revoked", device=device.name)
    print(f"revoked {device.kind} {device.name}: its token stops working within a second")
    return 0


def devices_rotate(args: argparse.Namespace) -> int:
    from queue_server.domain.errors import DomainError

    try:
        token = _accounts(args).rotate_device_token(args.name)
    except DomainError as exc:
        return fail(exc.message)
    audit(args, "device.rotated", device=args.name)
    print(f"new token for {args.name} (shown once; the old one stops working):")
    print(token)
    return 0


def _users_active(args: argparse.Namespace) -> int:
    from queue_server.domain.errors import DomainError

    active = args.users_command == "enable"
    try:
        user = _accounts(args).set_user_active(args.name, active)
    except DomainError as exc:
        return fail(exc.message)
    audit(args, "staff.enabled" if active else "staff.disabled", detail=f"staff={user.name}")
    if active:
        print(f"enabled {user.role} {user.name}")
    else:
        print(f"disabled {user.role} {user.name}: every session ends within a second")
    return 0


def register(sub: Any) -> None:
    """Add `users` and `devices` to the `madoguchi` parser."""
    db_parent = database_option()
    users = sub.add_parser("users", help="staff accounts").add_subparsers(
        dest="users_command", required=True
    )
    add_user = users.add_parser("add", parents=[db_parent], help="add a clerk or admin")
    add_user.add_argument("name")
    add_user.add_argument("--role", choices=["clerk", "admin"], required=True)
    add_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    add_user.set_defaults(handler=_users_add)
    for verb, text in (
        ("disable", "disable a staff account (its sessions end, open connections close)"),
        ("enable", "enable a disabled staff account again"),
    ):
        toggle = users.add_parser(verb, parents=[db_parent], help=text)
        toggle.add_argument("name")
        toggle.set_defaults(handler=_users_active)

    devices = sub.add_parser("devices", help="kiosks and boards").add_subparsers(
        dest="devices_command", required=True
    )
    add_device = devices.add_parser(
        "add", parents=[db_parent], help="register a device; prints its token"
    )
    add_device.add_argument("name")
    add_device.add_argument("--kind", choices=["kiosk", "board"], required=True)
    add_device.add_argument(
        "--server", help="the server URL the device uses: also print its install command"
    )
    add_device.set_defaults(handler=_devices_add)
    revoke = devices.add_parser(
        "revoke", parents=[db_parent], help="revoke a device's token (open connections close)"
    )
    revoke.add_argument("name")
    revoke.set_defaults(handler=_devices_revoke)
    rotate = devices.add_parser(
        "rotate", parents=[db_parent], help="give a device a new token; prints it"
    )
    rotate.add_argument("name")
    rotate.set_defaults(handler=devices_rotate)
