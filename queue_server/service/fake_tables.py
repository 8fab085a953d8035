"""The tables the in-memory fakes share: one office's data as the database would hold it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from queue_server.domain.notices import Subscription
from queue_server.domain.reservations import Reservation
from queue_server.domain.ticket import (
    Ticket,
    Transition,
)
from queue_server.service.ports import OfficeRecord


@dataclass
class FakeTables:
    """One office's data, as the database would hold it."""

    office: OfficeRecord
    config: dict[str, Any]
    events: list[tuple[int, str, datetime, dict[str, Any]]] = field(default_factory=list)
    numbers: dict[tuple[str, date], int] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    origins: dict[int, str] = field(default_factory=dict)  # ticket id -> category at issue
    issuers: dict[int, str | None] = field(default_factory=dict)  # ticket id -> who issued it
    transitions: list[tuple[int, Transition, str | None]] = field(default_factory=list)
    counters: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    redeemed: dict[str, tuple[int | None, datetime]] = field(default_factory=dict)
    preapplications: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit_log: list[tuple[str, str, int | None, datetime]] = field(default_factory=list)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    reservations: dict[int, Reservation] = field(default_factory=dict)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)

    @classmethod
    def for_office(
        cls, office_id: str, config: Mapping[str, Any], at: datetime, closed_through: date
    ) -> FakeTables:
        """A freshly loaded office: seq 0, nothing to close before `closed_through`."""
        return cls(OfficeRecord(office_id, 0, closed_through, at), dict(config))

    def add_device(self, name: str, kind: str) -> None:
        """Register a kiosk or board (the accounts' job in the real database)."""
        seen = {"last_seen_at": None, "health": None, "health_at": None, "revoked_at": None}
        self.devices[name] = {"name": name, "kind": kind, **seen}


class FakePort:
    """What each fake shares: the one office's tables."""

    def __init__(self, tables: FakeTables) -> None:
        self.tables = tables
