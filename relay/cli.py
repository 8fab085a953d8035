"""`madoguchi relay`: run the internet-facing relay for one office."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

SECRETS_ENV = "MADOGUCHI_RELAY_SECRETS"


def read_secrets(path: str | None) -> tuple[bytes, ...]:
    """Push secrets from a file (one per line) or from MADOGUCHI_RELAY_SECRETS (comma-separated).
    Two secrets are valid at once while one is being rotated."""
    if path:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    else:
        lines = os.environ.get(SECRETS_ENV, "").split(",")
    secrets = tuple(s.strip().encode() for s in lines if s.strip())
    short = [s for s in secrets if len(s) < 32]
    if short:
        raise ValueError("a push secret must be at least 32 characters (see docs/relay.md)")
    return secrets


def _relay(args: argparse.Namespace) -> int:
    from aiohttp import web

    from relay.app import RelaySettings, create_relay_app
    from relay.requests import RequestLimits

    try:
        secrets = read_secrets(args.secret_file)
    except (OSError, ValueError) as exc:
        print(f"madoguchi relay: {exc}", file=sys.stderr)
        return 2
    if not secrets:
        print(
            f"madoguchi relay: no push secret: set {SECRETS_ENV} or --secret-file",
            file=sys.stderr,
        )
        return 2
    host, _, port = args.listen.rpartition(":")
    settings = RelaySettings(
        office_id=args.office,
        secrets=secrets,
        redis_url=args.redis,
        heartbeat_seconds=args.heartbeat,
        offline_after_seconds=args.offline_after,
        requests=RequestLimits(
            capacity=args.max_requests,
            lease_seconds=args.lease_seconds,
            expire_seconds=args.request_expiry,
        ),
        answer_wait_seconds=args.answer_wait,
        pull_stale_seconds=args.pull_stale,
        bookings_per_minute=args.bookings_per_minute,
        trust_forwarded=args.trust_forwarded,
    )
    print(f"Madoguchi relay for {args.office} on http://{args.listen}", flush=True)
    web.run_app(create_relay_app(settings), host=host or "0.0.0.0", port=int(port), print=None)
    return 0


def register(sub: Any) -> None:
    relay = sub.add_parser(
        "relay", help="the internet-facing relay: residents' pages and live figures, no database"
    )
    relay.add_argument("--listen", default="127.0.0.1:8090", help="HOST:PORT (default %(default)s)")
    relay.add_argument("--office", required=True, help="the office id the queue server pushes")
    relay.add_argument("--redis", help="redis://HOST:6379/0 to share pushes with other relays")
    relay.add_argument(
        "--secret-file", help=f"push secrets, one per line (default: env {SECRETS_ENV})"
    )
    relay.add_argument(
        "--heartbeat", type=float, default=15.0, help="seconds between stream heartbeats"
    )
    relay.add_argument(
        "--offline-after",
        type=float,
        default=90.0,
        help="seconds without a push before pages show that updates have stopped",
    )
    # Residents' bookings and notice subscriptions, pulled by the queue server (docs/relay.md).
    relay.add_argument(
        "--max-requests", type=int, default=1000, help="requests waiting at most (then 503)"
    )
    relay.add_argument(
        "--answer-wait", type=float, default=3.0, help="seconds to wait for an answer (then 202)"
    )
    relay.add_argument(
        "--lease-seconds", type=float, default=15.0, help="re-offer a pulled, unanswered request"
    )
    relay.add_argument(
        "--request-expiry", type=float, default=60.0, help="an unanswered request expires"
    )
    relay.add_argument(
        "--pull-stale",
        type=float,
        default=45.0,
        help="seconds without a pull before bookings are shown as unavailable",
    )
    relay.add_argument(
        "--bookings-per-minute", type=int, default=20, help="booking POSTs per client address"
    )
    relay.add_argument(
        "--trust-forwarded",
        action="store_true",
        help="behind our own proxy: take the client address from X-Forwarded-For",
    )
    relay.set_defaults(handler=_relay)
