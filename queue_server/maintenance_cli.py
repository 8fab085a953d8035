"""Maintenance commands: `rotate` (device tokens, the visit-code key, the relay push secret)
and `upgrade` (backup, schema migration, check; rollback steps). See docs/operations.md."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from queue_server.accounts_cli import devices_rotate
from queue_server.cli_common import audit, database_option, engine_for, fail, settings_for

_NEXT = ".next"
_PREVIOUS = ".previous"


def _office_zone(args: argparse.Namespace) -> Any:
    """The loaded office's time zone ("today" for a retired key), else Asia/Tokyo."""
    from zoneinfo import ZoneInfo

    from queue_server.adapters.office_edit import current_office
    from queue_server.adapters.offices import office_ids

    engine = engine_for(args)
    ids = office_ids(engine)
    return current_office(engine, ids[0]).zone if ids else ZoneInfo("Asia/Tokyo")


def _rotate_code_key(args: argparse.Namespace) -> int:
    from queue_server.adapters.code_keys import rotate_code_key

    settings = settings_for(args)
    if settings.secret_key:
        return fail(
            "the key is set in MADOGUCHI_SECRET_KEY: change it there (codes signed with the "
            "old key stop working at the restart); this command rotates the data directory's key"
        )
    now = datetime.now(UTC)
    zone = _office_zone(args)
    last_day = now.astimezone(zone).date() + timedelta(days=args.keep_days)
    until = datetime.combine(last_day + timedelta(days=1), time(), zone)
    settings.code_secret()  # the key to retire exists even on a server that never signed one
    rotate_code_key(settings.private_data_dir(), until, now)
    audit(args, "secret.code_key_rotated", detail=f"old key verifies until {until.isoformat()}")
    print(f"new visit-code key in {settings.data_dir / 'secret.key'}")
    print(f"codes signed with the old key are accepted until {until:%Y-%m-%d %H:%M %Z}")
    print("restart the server now: systemctl restart madoguchi-server")
    return 0


def _write_secret(path: Path, lines: list[str]) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write("".join(f"{line}\n" for line in lines))


def _secret_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="ascii").splitlines() if line.strip()]


def _relay_accepts(url: str, secret: str) -> str | None:
    """None when the relay at `url` accepts pushes signed with `secret`, else the problem."""
    from madoguchi.doctor import check_relay

    problems = [f for f in check_relay(url, secret.encode()) if f.code is not None]
    return "; ".join(" ".join(f.lines("en")) for f in problems) or None


def _rotate_relay(args: argparse.Namespace) -> int:
    """Three steps, each safe to repeat, so no push is refused while the secret changes."""
    mine = Path(args.secret_file)
    upcoming = mine.with_name(mine.name + _NEXT)
    relay_file = Path(args.relay_secrets) if args.relay_secrets else None
    if args.step == "begin":
        if not upcoming.exists():
            _write_secret(upcoming, [secrets.token_hex(32)])
        new = _secret_lines(upcoming)[0]
        if relay_file is not None:
            kept = [line for line in _secret_lines(relay_file) if line != new]
            _write_secret(relay_file, [*kept, new])
            print(f"added the new secret as a second line of {relay_file}")
        else:
            print(f"copy the line of {upcoming} as a second line into every relay's secret file")
        print("restart the relays one by one (both secrets are accepted), then run:")
        print(f"  madoguchi rotate relay-secret switch --secret-file {mine} --relay URL")
        audit(args, "secret.relay_rotation_begun")
        return 0
    if args.step == "switch":
        if not upcoming.exists():
            return fail(f"no {upcoming}: run `madoguchi rotate relay-secret begin` first")
        new = _secret_lines(upcoming)[0]
        for url in args.relay or ():
            problem = _relay_accepts(url, new)
            if problem is not None:
                return fail(f"the relay {url} does not accept the new secret yet: {problem}")
        if mine.exists():
            _write_secret(mine.with_name(mine.name + _PREVIOUS), _secret_lines(mine))
        _write_secret(mine, [new])
        upcoming.unlink()
        print(
            f"{mine} holds the new secret; restart the server: systemctl restart madoguchi-server"
        )
        print(f"then: madoguchi rotate relay-secret finish --secret-file {mine}")
        audit(args, "secret.relay_switched")
        return 0
    current = _secret_lines(mine)[0]
    for url in args.relay or ():
        problem = _relay_accepts(url, current)
        if problem is not None:
            return fail(f"the relay {url} does not accept the current secret: {problem}")
    if relay_file is not None:
        _write_secret(relay_file, [current])
        print(f"{relay_file} now holds only the current secret: restart the relays")
    else:
        print("remove the old line from every relay's secret file, then restart the relays")
    mine.with_name(mine.name + _PREVIOUS).unlink(missing_ok=True)
    audit(args, "secret.relay_rotation_finished")
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    """Backup, migrate to the newest schema, check; say how to roll back."""
    from madoguchi.doctor import check_database
    from queue_server.adapters.backup import BackupError, backup
    from queue_server.adapters.database import create_database_engine, upgrade

    settings = settings_for(args)
    url = settings.resolved_database_url()
    before = check_database(url)[0]
    if before.code == "E-DB-01":
        return fail("cannot connect to the database: " + " ".join(before.lines("en")))
    try:
        done = backup(url, Path(args.backup_dir), data_dir=settings.data_dir)
    except (BackupError, OSError) as exc:
        return fail(f"the backup failed, nothing was changed: {exc}")
    print(f"1. backup written: {done.path} (schema {done.manifest['schema_revision']})")
    rollback = [
        "to roll back: stop the server, install the previous version of madoguchi again, then",
        f"  madoguchi restore {done.path} --replace",
        "(restore with the previous version: this one would migrate the copy forward again)",
    ]
    engine = create_database_engine(url)
    try:
        upgrade(engine)
    except Exception as exc:
        print(f"madoguchi: the migration failed ({type(exc).__name__}: {exc})", file=sys.stderr)
        print("\n".join(rollback), file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    after = check_database(url)
    print("2. schema migrated")
    print("3. check:")
    for finding in after:
        print("   " + "\n   ".join(finding.lines("en")))
    print("\n".join(rollback))
    audit(args, "database.upgraded", detail=f"from {done.manifest['schema_revision']}")
    return 1 if any(f.code for f in after) else 0


def register(sub: Any) -> None:
    """Add `rotate` and `upgrade` to the `madoguchi` parser."""
    db = database_option()
    rotate = sub.add_parser(
        "rotate", help="new device tokens, visit-code key or relay push secret"
    ).add_subparsers(dest="rotate_command", required=True)
    device = rotate.add_parser(
        "device", parents=[db], help="a new token for a kiosk or board (prints it once)"
    )
    device.add_argument("name")
    device.set_defaults(handler=devices_rotate)
    key = rotate.add_parser(
        "code-key", parents=[db], help="a new key for visit codes; the old one verifies a while"
    )
    key.add_argument(
        "--keep-days",
        type=int,
        default=0,
        choices=range(0, 401),
        metavar="N",
        help="the old key verifies through today plus N days (default 0: through today)",
    )
    key.set_defaults(handler=_rotate_code_key)
    relay = rotate.add_parser(
        "relay-secret", parents=[db], help="change the relay push secret in three steps"
    )
    relay.add_argument("step", choices=("begin", "switch", "finish"))
    relay.add_argument(
        "--secret-file", required=True, help="the server's MADOGUCHI_RELAY_PUSH_SECRET_FILE"
    )
    relay.add_argument("--relay-secrets", help="a relay's secret file on this host, edited for you")
    relay.add_argument(
        "--relay", action="append", metavar="URL", help="check this relay accepts the secret"
    )
    relay.set_defaults(handler=_rotate_relay)
    upgrade = sub.add_parser(
        "upgrade", parents=[db], help="back up, migrate the database, check (stop the server)"
    )
    upgrade.add_argument("--backup-dir", required=True, help="where the backup goes first")
    upgrade.set_defaults(handler=_upgrade)
