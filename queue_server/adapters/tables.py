"""Database schema (SQLAlchemy Core). Times are stored as naive UTC and read back aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite has no 64-bit autoincrement alias other than INTEGER PRIMARY KEY.
IdType = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


offices = Table(
    "offices",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("config", JSON, nullable=False),
    Column("seq", BigInteger, nullable=False, default=0),
    Column("closed_through", Date, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    # The office file as the administrator wrote it (comments included), given back on download.
    Column("source", Text, nullable=True),
)

counter_states = Table(
    "counter_states",
    metadata,
    Column("office_id", String(40), ForeignKey("offices.id"), primary_key=True),
    Column("counter_id", String(40), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

number_sequences = Table(
    "number_sequences",
    metadata,
    Column("office_id", String(40), ForeignKey("offices.id"), primary_key=True),
    Column("category_id", String(40), primary_key=True),
    Column("business_date", Date, primary_key=True),
    Column("last_number", Integer, nullable=False),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("office_id", String(40), ForeignKey("offices.id"), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("origin_category_id", String(40), nullable=False),
    Column("category_id", String(40), nullable=False),
    Column("number", Integer, nullable=False),
    Column("display_number", String(16), nullable=False),
    Column("public_id", String(64), nullable=False, unique=True),
    Column("priority", String(16), nullable=False),
    Column("priority_rank", Integer, nullable=False),
    Column("language", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("called_at", UTCDateTime),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("counter_id", String(40)),
    Column("recall_count", Integer, nullable=False, default=0),
    Column("device", String(80)),
    # Whether the slip came out (printed / failed) and why not; kept with the ticket.
    Column("print_outcome", String(16)),
    Column("print_reason", String(40)),
    Column("printed_at", UTCDateTime),
    UniqueConstraint("office_id", "business_date", "origin_category_id", "number"),
    Index("ix_tickets_queue", "office_id", "business_date", "state", "category_id"),
)

ticket_transitions = Table(
    "ticket_transitions",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("ticket_id", IdType, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("office_id", String(40), nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("category_id", String(40), nullable=False),
    Column("from_category_id", String(40)),
    Column("counter_id", String(40)),
    Column("actor", String(80)),
    Column("service_minutes", Float),
)

# Tickets waiting per (office, day, category, priority rank), kept in the same transaction as
# every change of state, so the people ahead of a new ticket are known without counting rows.
waiting_counts = Table(
    "waiting_counts",
    metadata,
    Column("office_id", String(40), ForeignKey("offices.id"), primary_key=True),
    Column("business_date", Date, primary_key=True),
    Column("category_id", String(40), primary_key=True),
    Column("priority_rank", Integer, primary_key=True),
    Column("waiting", Integer, nullable=False),
)

office_events = Table(
    "office_events",
    metadata,
    Column("office_id", String(40), ForeignKey("offices.id"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(40), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    # Every state recompute reads today's counter events by time (the estimator's pauses).
    Index("ix_office_events_office_id_at", "office_id", "at"),
)

users = Table(
    "users",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", IdType, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime),
    # Last health report (e.g. the kiosk's printer: online, paper, cover), no personal data.
    Column("health", JSON),
    Column("health_at", UTCDateTime),
    # Set when an administrator revoked the device; a new token (rotation) clears it.
    Column("revoked_at", UTCDateTime),
)

# Failed staff logins per account and per client address, for growing lock-outs; shared by
# every server process through the database.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False, index=True),
)

# Fingerprints of codes already used to take a ticket (single use).
redeemed_codes = Table(
    "redeemed_codes",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("ticket_id", IdType, ForeignKey("tickets.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# Requests residents filled in at home, kept until used at the kiosk or expired (personal data).
preapplications = Table(
    "preapplications",
    metadata,
    Column("reference", String(32), primary_key=True),
    Column("office_id", String(40), ForeignKey("offices.id"), nullable=False),
    Column("category_id", String(40), nullable=False),
    Column("form", String(40), nullable=False),
    Column("data", JSON, nullable=False),
    Column("language", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# What staff, administrators and devices did, and when: logins, account and device changes,
# office uploads, counter states, reprints, request views. Never a password, a token or anything
# about a visitor: `detail` holds only ids, roles and states.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(80), nullable=False),
    Column("action", String(40), nullable=False),
    Column("ticket_id", IdType),
    Column("device", String(80)),
    Column("detail", String(200)),
)

# Personal data a visitor brought for the clerk (prefilled request forms). Deleted at day close.
ticket_attachments = Table(
    "ticket_attachments",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("ticket_id", IdType, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("business_date", Date, nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Visit reservations (来庁予約). The short code is stored hashed; the e-mail is kept only when
# the resident asked for a reminder, and deleted when the reservation's day is closed.
reservations = Table(
    "reservations",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("office_id", String(40), ForeignKey("offices.id"), nullable=False),
    Column("reference", String(32), nullable=False, unique=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("category_id", String(40), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("slot_start", UTCDateTime, nullable=False),
    Column("slot_minutes", Integer, nullable=False),
    Column("language", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("reminder_channel", String(16)),
    Column("reminder_address", Text),
    Column("ticket_id", IdType, ForeignKey("tickets.id")),
    Column("reminder_sent_at", UTCDateTime),
    Column("reminder_attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_reservations_slot", "office_id", "category_id", "slot_start"),
    Index("ix_reservations_day", "office_id", "business_date"),
)

# Opt-in notices about one ticket (e-mail address or LINE user id), deleted at day close.
notice_subscriptions = Table(
    "notice_subscriptions",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("office_id", String(40), ForeignKey("offices.id"), nullable=False),
    Column("token", String(64), nullable=False, unique=True),
    Column("ticket_id", IdType, ForeignKey("tickets.id"), nullable=False),
    Column("business_date", Date, nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(2000), nullable=False),
    Column("ahead", Integer),
    Column("language", String(16), nullable=False),
    Column("sent", JSON, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Residents' requests pulled from the relay (docs/relay.md), by the relay's request id: each is
# processed once even when it is pulled again because its answer was lost. The answer (it may
# hold a booking's codes) is deleted an hour later; the request's own body is never stored.
relay_requests = Table(
    "relay_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("office_id", String(40), ForeignKey("offices.id"), nullable=False),
    Column("path", String(80), nullable=False),
    Column("status", Integer),
    Column("answer", Text),
    Column("received_at", UTCDateTime, nullable=False, index=True),
)
