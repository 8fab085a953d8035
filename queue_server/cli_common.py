"""What the server's command-line modules share: the database option, settings, engine, the
one-line failure and the audit record of a change made on the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def database_option() -> argparse.ArgumentParser:
    """A parent parser with `--database-url`."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: env MADOGUCHI_DATABASE_URL, else SQLite in the data dir)",
    )
    return parent


def settings_for(args: argparse.Namespace) -> Any:
    """The server settings, with `--database-url` when given."""
    from queue_server.settings import ServerSettings

    settings = ServerSettings()
    if getattr(args, "database_url", None):
        settings = settings.model_copy(update={"database_url": args.database_url})
    return settings


def engine_for(args: argparse.Namespace) -> Any:
    """The database engine, its schema migrated to the newest."""
    from queue_server.adapters.database import create_database_engine, upgrade

    engine = create_database_engine(settings_for(args).resolved_database_url())
    upgrade(engine)
    return engine


def fail(message: str) -> int:
    """One line on stderr and exit status 2."""
    print(f"madoguchi: {message}", file=sys.stderr)
    return 2


def audit(args: argparse.Namespace, action: str, **where: Any) -> None:
    """A change made on the server's command line, in the audit log, with the operating-system
    user who ran it as the actor."""
    import getpass

    from queue_server.adapters.audit import AuditLog
    from queue_server.service.ports import SystemClock

    AuditLog(engine_for(args), SystemClock()).record(f"cli:{getpass.getuser()}", action, **where)
