"""The composition root of the server: `create_app(settings)` wires every part."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from queue_server.adapters.accounts import Accounts
from queue_server.adapters.audit import AuditLog
from queue_server.adapters.database import create_database_engine
from queue_server.adapters.event_bus import EventBus, create_bus
from queue_server.adapters.line_push import LineNotifier
from queue_server.adapters.office_file import parse_office
from queue_server.adapters.offices import office_ids
from queue_server.adapters.request_pdf import ReportlabRequestRenderer
from queue_server.adapters.slip_printer import EscposSlipPrinter
from queue_server.adapters.smtp_mail import SmtpMailer
from queue_server.adapters.sql_writer import SqlStoreFactory
from queue_server.adapters.throttle import LoginThrottle
from queue_server.adapters.web_push import WebPushNotifier, application_server_key, vapid_key
from queue_server.api import (
    admin,
    admin_reservations,
    apply,
    console,
    device_routes,
    docs,
    errors,
    metrics,
    notify,
    opendata,
    pages,
    request_routes,
    reserve,
    routes,
    ws,
)
from queue_server.api.deps import Container
from queue_server.api.guard import SocketGuard
from queue_server.api.headers import SecurityHeaders
from queue_server.api.limits import BodyLimit, ClientRateLimit
from queue_server.api.realtime import Hub
from queue_server.api.relay_pull import RelayPuller
from queue_server.api.relay_push import RelayPusher
from queue_server.domain.errors import InvalidConfiguration
from queue_server.domain.estimate import WaitEstimator, forward_estimate
from queue_server.domain.forecast import monte_carlo_estimate
from queue_server.service.ports import Clock, Mailer, SystemClock
from queue_server.service.queue import QueueService
from queue_server.settings import ServerSettings

logger = logging.getLogger(__name__)
#: `forecast`: Monte-Carlo forward simulation (default, the accurate one); `replay`: the
#: deterministic replay of the dispatch, for very small machines or CPU-bound stress tests.
ESTIMATORS: dict[str, WaitEstimator] = {
    "forecast": monte_carlo_estimate,
    "replay": forward_estimate,
}


def _office_id(settings: ServerSettings, engine: Engine) -> str:
    known = office_ids(engine)
    if settings.office_id:
        if settings.office_id not in known:
            raise InvalidConfiguration(f"office {settings.office_id!r} is not loaded")
        return settings.office_id
    if not known:
        raise InvalidConfiguration("no office is loaded: run `madoguchi office load FILE` first")
    if len(known) > 1:
        raise InvalidConfiguration(
            f"several offices are loaded ({', '.join(known)}): set MADOGUCHI_OFFICE_ID"
        )
    return known[0]


async def _housekeeping(
    service: QueueService,
    accounts: Accounts,
    every: float,
    senders: Mapping[str, Mailer] | None = None,
    reminder_hour: int = 12,
) -> None:
    """Close the day when due; write when devices were last seen; send reservation reminders."""
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(service.close_day_if_due)
            await asyncio.to_thread(accounts.flush_seen)
            if senders:
                await asyncio.to_thread(service.send_reminders, senders, reminder_hour)
        except Exception as exc:  # keep the loop alive; the next use also closes the day
            logger.warning("housekeeping failed (%s)", type(exc).__name__)


async def _deliver_notices(
    service: QueueService, senders: Mapping[str, Mailer], every: float
) -> None:
    """Send the ticket notices due, a few seconds apart."""
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(service.deliver_notices, senders)
        except Exception as exc:  # keep the loop alive; the next pass tries again
            logger.warning("notice delivery failed (%s)", type(exc).__name__)


def notice_senders(settings: ServerSettings) -> dict[str, Mailer]:
    """The channels configured in the settings, by name."""
    senders: dict[str, Mailer] = {}
    if settings.smtp_url:
        senders["email"] = SmtpMailer(settings.smtp_url, settings.mail_from)
    if settings.line_channel_token:
        senders["line"] = LineNotifier(settings.line_channel_token, settings.line_api_url)
    if settings.web_push:
        key = vapid_key(settings.data_dir / "vapid-private.pem")
        senders["webpush"] = WebPushNotifier(key, settings.vapid_subject)
    return senders


def app_from_environment() -> FastAPI:
    """The app of one worker of `madoguchi serve --workers N`, configured by MADOGUCHI_* only."""
    return create_app(ServerSettings())


def create_app(
    settings: ServerSettings,
    clock: Clock | None = None,
    engine: Engine | None = None,
    bus: EventBus | None = None,
) -> FastAPI:
    """Build the application for one office; the database must be migrated and the office loaded."""
    clock = clock or SystemClock()
    if settings.congestion_lamp_minutes is not None:
        raise InvalidConfiguration(
            "MADOGUCHI_CONGESTION_LAMP_MINUTES is no longer read: set the lamp in the office file"
            " ([congestion] minutes = [20, 45], people = [5, 15]) and unset the variable"
        )
    settings.private_data_dir()  # 0700: the database, the code secret, printed slips
    database_url = settings.resolved_database_url()
    engine = engine or create_database_engine(database_url)
    bus = bus or create_bus(settings.event_bus, database_url)
    office_id = _office_id(settings, engine)
    stores = SqlStoreFactory(engine, office_id, bus)
    service = QueueService(
        stores,
        clock,
        parse_office,
        settings.public_base_url,
        slip_printer=EscposSlipPrinter(settings.data_dir),
        code_secret=settings.code_secret(),
        retired_code_keys=settings.retired_code_keys(),
        renderer=ReportlabRequestRenderer(),
        preapplication_days=settings.preapplication_days,
        estimator=ESTIMATORS[settings.estimator],
        tick_seconds=settings.state_tick_seconds,
    )
    hub = Hub(
        office_id,
        bus,
        stores.events_after,
        stores.current_seq,
        service.refresh_state,
        check_seconds=settings.catch_up_seconds,
        status_interval=settings.status_interval_seconds,
        tick_seconds=settings.state_tick_seconds,
    )
    accounts = Accounts(engine, clock, settings.staff_token_hours)
    container = Container(
        settings=settings,
        service=service,
        accounts=accounts,
        stores=stores,
        hub=hub,
        guard=SocketGuard(accounts.valid_tokens),
        audit=AuditLog(engine, clock),
        throttle=LoginThrottle(engine, clock),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        container.guard.start()
        # Everything built so far lives as long as the server: keep it out of the collector's
        # full passes, whose pauses are the issue path's p99 (docs/queue-state.md).
        gc.collect()
        gc.freeze()
        senders = notice_senders(settings)
        closer = asyncio.create_task(
            _housekeeping(
                service, accounts, settings.day_close_check_seconds, senders, settings.reminder_hour
            )
        )
        app.state.notice_channels = tuple(senders)
        if settings.web_push:
            key = vapid_key(settings.data_dir / "vapid-private.pem")
            app.state.vapid_public_key = application_server_key(key)
        notifier = (
            asyncio.create_task(_deliver_notices(service, senders, settings.notice_seconds))
            if senders
            else None
        )
        pusher = puller = None
        if settings.relay_push_url:
            secret = settings.relay_secret()
            if not secret:
                raise RuntimeError("MADOGUCHI_RELAY_PUSH_URL is set without a push secret")
            relay = RelayPusher(
                container, hub, settings.relay_push_url, secret, settings.relay_snapshot_seconds
            )
            app.state.metrics.relay = relay  # its counters in /metrics
            pusher = asyncio.create_task(relay.run())
            if settings.relay_pull:
                pulling = RelayPuller(
                    container,
                    app,
                    settings.relay_push_url,
                    secret,
                    settings.relay_pull_wait_seconds,
                )
                app.state.metrics.relay_pull = pulling  # its counters in /metrics
                puller = asyncio.create_task(pulling.run())
        try:
            yield
        finally:
            if notifier is not None:
                notifier.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await notifier
            for task in (pusher, puller):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            closer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closer
            await container.guard.stop()
            await hub.stop()
            await asyncio.to_thread(accounts.flush_seen)
            await asyncio.to_thread(stores.close)

    app = FastAPI(
        title="Madoguchi queue server",
        version="1",
        description="Numbered tickets, counters and real-time status for a city-hall office.",
        lifespan=lifespan,
        docs_url=None,  # served from local files by `docs.install`, never from a CDN
        redoc_url=None,
    )
    app.state.container = container
    app.add_middleware(BodyLimit, default=settings.max_body_bytes, small=settings.max_report_bytes)
    app.add_middleware(
        ClientRateLimit,
        preapplications_per_hour=settings.preapplications_per_hour,
        public_reads_per_minute=settings.public_reads_per_minute,
        reservations_per_hour=settings.reservations_per_hour,
        reservation_lookups_per_hour=settings.reservation_lookups_per_hour,
        notices_per_hour=settings.notices_per_hour,
    )
    app.add_middleware(SecurityHeaders)  # outermost: the 413 answers get it too
    errors.install(app)
    docs.install(app, production=settings.environment == "production")
    # Before `routes`: its POST /tickets/{id}/{action} would take /tickets/{id}/print-outcome.
    app.include_router(device_routes.router)
    app.include_router(request_routes.router)
    app.include_router(routes.router)
    app.include_router(ws.router)
    app.include_router(pages.router)
    app.include_router(console.router)
    app.include_router(admin.router)
    app.include_router(admin_reservations.router)
    app.include_router(opendata.router)
    app.include_router(apply.router)
    app.include_router(reserve.router)
    app.include_router(notify.router)
    app.include_router(metrics.router)
    app.state.metrics = observed = metrics.Metrics(container)
    hub.on_event.append(observed.observe_event)
    hub.on_refresh.append(observed.recompute.observe)
    app.add_middleware(metrics.LatencyMiddleware, metrics=observed)
    return app
