"""Server-side subcommands: serve, demo, db, office, codes (accounts: `accounts_cli`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from queue_server.cli_common import database_option, engine_for, fail, settings_for

DEMO_PASSWORDS = {"clerk": "madoguchi-clerk", "admin": "madoguchi-admin"}


def _db_upgrade(args: argparse.Namespace) -> int:
    engine_for(args)
    print("database schema is up to date")
    return 0


def _load_demo_if_empty(engine: Any) -> None:
    from datetime import UTC, datetime

    from queue_server.adapters.office_file import DEMO_OFFICE, read_office_file
    from queue_server.adapters.offices import load_office, office_ids

    if not office_ids(engine):
        office = load_office(engine, read_office_file(DEMO_OFFICE), datetime.now(UTC))
        print(f"loaded the demo office {office.id} ({office.names['ja']})")


def _log_config(settings: Any, args: argparse.Namespace) -> Any:
    from uvicorn.config import LOGGING_CONFIG

    from queue_server.log_format import log_config

    return log_config(settings.log_format, args.log_level) or LOGGING_CONFIG


def _run(args: argparse.Namespace, engine: Any, banner: list[str]) -> int:
    import uvicorn

    from queue_server.api.app import create_app
    from queue_server.domain.errors import DomainError

    base = f"http://{args.host}:{args.port}"
    settings = settings_for(args)
    if "MADOGUCHI_PUBLIC_BASE_URL" not in os.environ:
        settings = settings.model_copy(update={"public_base_url": base})
    try:
        app = create_app(settings, engine=engine)
    except DomainError as exc:
        return fail(exc.message)
    print(f"Madoguchi queue server on {base}")
    print(f"  API docs (OpenAPI):  {base}/docs")
    print(f"  public status:       {base}/api/v1/status")
    for line in banner:
        print(line)
    sys.stdout.flush()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        log_config=_log_config(settings, args),
    )
    return 0


def _run_workers(args: argparse.Namespace, engine: Any) -> int:
    """Several worker processes on one port (uvicorn's supervisor): each builds its own app from
    the environment, computes its own queue state and hears the others' events on the bus."""
    import uvicorn

    settings = settings_for(args)
    if settings.event_bus.split(":", 1)[0] == "memory":
        return fail(
            "several workers need a shared event bus: set MADOGUCHI_EVENT_BUS=postgresql "
            "(with a PostgreSQL database) or redis://HOST:6379/0"
        )
    engine.dispose()  # each worker opens its own pool
    base = f"http://{args.host}:{args.port}"
    os.environ["MADOGUCHI_DATABASE_URL"] = settings.resolved_database_url()
    os.environ.setdefault("MADOGUCHI_PUBLIC_BASE_URL", base)
    print(f"Madoguchi queue server on {base} ({args.workers} worker processes)")
    sys.stdout.flush()
    uvicorn.run(
        "queue_server.api.app:app_from_environment",
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        log_config=_log_config(settings, args),
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    _load_demo_if_empty(engine)
    if args.workers > 1:
        return _run_workers(args, engine)
    return _run(args, engine, [])


def _demo(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from queue_server.adapters.accounts import Accounts
    from queue_server.adapters.office_file import DEMO_OFFICE, around_the_clock, read_office_file
    from queue_server.adapters.offices import load_office
    from queue_server.service.ports import SystemClock

    engine = engine_for(args)
    office = load_office(engine, around_the_clock(read_office_file(DEMO_OFFICE)), datetime.now(UTC))
    accounts = Accounts(engine, SystemClock())
    for role, password in DEMO_PASSWORDS.items():
        name = f"demo-{role}"
        if accounts.user_exists(name):
            accounts.set_password(name, password)
        else:
            accounts.add_user(name, role, password)
    tokens = {}
    for kind in ("kiosk", "board"):
        name = f"demo-{kind}"
        try:
            tokens[kind] = accounts.rotate_device_token(name)
        except Exception:
            tokens[kind] = accounts.add_device(name, kind)[1]
    banner = [
        f"Demo office: {office.names['ja']} — open around the clock in demo mode.",
        "Demo credentials (change them for real use):",
        f"  clerk:  demo-clerk / {DEMO_PASSWORDS['clerk']}",
        f"  admin:  demo-admin / {DEMO_PASSWORDS['admin']}",
        f"  kiosk device token:  {tokens['kiosk']}",
        f"  board device token:  {tokens['board']}",
        "Try: POST /api/v1/auth/token (form username/password) in /docs, then Authorize.",
    ]
    return _run(args, engine, banner)


def _office_load(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from queue_server.adapters.office_file import read_office_file
    from queue_server.adapters.offices import load_office
    from queue_server.domain.errors import DomainError

    try:
        raw = read_office_file(Path(args.file))
        source = Path(args.file).read_text(encoding="utf-8")
        office = load_office(engine_for(args), raw, datetime.now(UTC), source)
    except DomainError as exc:
        return fail(exc.message)
    print(
        f"loaded office {office.id} ({office.names['ja']}): "
        f"{len(office.categories)} categories, {len(office.counters)} counters"
    )
    return 0


def _minutes(text: str) -> int:
    """A code's validity in minutes: a whole number up to the longest a code may have."""
    from queue_server.domain.codes import MAX_VALIDITY

    longest = int(MAX_VALIDITY.total_seconds() // 60)
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of minutes") from None
    if not 1 <= value <= longest:
        raise argparse.ArgumentTypeError(f"give 1 to {longest} minutes")
    return value


def _codes_make(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from queue_server.domain.codes import VisitCode, make_code

    settings = settings_for(args)
    expires = datetime.now(UTC) + timedelta(minutes=args.minutes)
    text = make_code(
        settings.code_secret(), VisitCode(args.kind, args.category, args.reference, expires)
    )
    if args.png:
        import qrcode

        qrcode.make(text, border=4).save(args.png)
        print(f"QR code written to {args.png}")
    print(text)
    return 0


def register(sub: Any) -> None:
    """Add the server's subcommands to the `madoguchi` parser."""
    db_parent = database_option()
    net_parent = argparse.ArgumentParser(add_help=False)
    net_parent.add_argument("--host", default="127.0.0.1")
    net_parent.add_argument("--port", type=int, default=8000)
    net_parent.add_argument("--log-level", default="info")

    serve = sub.add_parser("serve", parents=[db_parent, net_parent], help="run the queue server")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes on the port (more than 1 needs the postgresql or redis event bus)",
    )
    serve.set_defaults(handler=_serve)
    demo = sub.add_parser(
        "demo",
        parents=[db_parent, net_parent],
        help="run the server with the demo office, demo staff and device tokens",
    )
    demo.set_defaults(handler=_demo)

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", parents=[db_parent], help="migrate to the newest schema").set_defaults(
        handler=_db_upgrade
    )

    office = sub.add_parser("office", help="office configuration").add_subparsers(
        dest="office_command", required=True
    )
    load = office.add_parser(
        "load", parents=[db_parent], help="load or replace an office file (TOML)"
    )
    load.add_argument("file")
    load.set_defaults(handler=_office_load)

    codes = sub.add_parser("codes", help="signed visit codes (reservations, pre-applications)")
    make = codes.add_subparsers(dest="codes_command", required=True).add_parser(
        "make", help="print a code the kiosk accepts (for demos, tests and integrations)"
    )
    make.add_argument("--kind", choices=["reservation", "preapplication"], required=True)
    make.add_argument("--category", required=True, help="category id, e.g. mynumber")
    make.add_argument("--minutes", type=_minutes, default=120, help="validity (default 120)")
    make.add_argument("--reference", default="demo", help="the record the code points to")
    make.add_argument("--png", help="also write the code as a QR image")
    make.set_defaults(handler=_codes_make)
