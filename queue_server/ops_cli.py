"""Operations subcommands: backup and restore (docs/operations.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from queue_server.cli_common import database_option


def _settings(args: argparse.Namespace) -> Any:
    from queue_server.settings import ServerSettings

    settings = ServerSettings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    return settings


def _backup(args: argparse.Namespace) -> int:
    from queue_server.adapters.backup import BackupError, backup

    settings = _settings(args)
    try:
        done = backup(
            settings.resolved_database_url(),
            Path(args.directory),
            data_dir=settings.data_dir,
            with_secrets=args.with_secrets,
        )
    except (BackupError, OSError) as exc:
        print(f"madoguchi backup: {exc}", file=sys.stderr)
        return 2
    counts = done.manifest["counts"]
    print(f"backup written: {done.path}")
    print(
        f"  {done.manifest['database']}, schema {done.manifest['schema_revision']}, "
        f"{counts['tickets']} tickets, offices: {', '.join(done.manifest['offices'])}"
    )
    if not done.manifest["with_secrets"]:
        print("  secrets not included (--with-secrets adds the visit-code key)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from queue_server.adapters.backup import BackupError, restore

    settings = _settings(args)
    try:
        manifest = restore(
            Path(args.backup),
            settings.resolved_database_url(),
            replace=args.replace,
            data_dir=settings.data_dir,
        )
    except (BackupError, OSError) as exc:
        print(f"madoguchi restore: {exc}", file=sys.stderr)
        return 2
    print(
        f"restored {manifest['counts']['tickets']} tickets from {args.backup} "
        f"(taken {manifest['created_at']}); the schema is up to date"
    )
    return 0


def register(sub: Any) -> None:
    db_parent = database_option()
    backup = sub.add_parser(
        "backup", parents=[db_parent], help="an online backup of the database and office files"
    )
    backup.add_argument("directory", help="where to create the backup directory")
    backup.add_argument(
        "--with-secrets", action="store_true", help="also copy the key that signs visit codes"
    )
    backup.set_defaults(handler=_backup)
    restore = sub.add_parser(
        "restore", parents=[db_parent], help="restore a backup (stop the server first)"
    )
    restore.add_argument("backup", help="a madoguchi-backup-* directory")
    restore.add_argument(
        "--replace", action="store_true", help="replace a database that already holds tickets"
    )
    restore.set_defaults(handler=_restore)
