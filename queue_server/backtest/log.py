"""The ticket log (LOG.csv), the staffing sessions (SESSIONS.csv) and predictions (PRED.csv).

One row per ticket, the shape of a ticket machine's export:
`ticket_id,category_id,priority,issued_at,called_at,started_at,finished_at,counter_id,outcome`,
ISO 8601 times with their offset, empty fields for steps that did not happen. For a no-show,
`finished_at` is when the clerk gave up (the counter was free again); for a cancelled ticket, when
it left the queue.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from queue_server.domain.estimate import WaitEstimate

LOG_FIELDS = (
    "ticket_id", "category_id", "priority", "issued_at", "called_at", "started_at",
    "finished_at", "counter_id", "outcome",
)  # fmt: skip
SESSION_FIELDS = ("counter_id", "open_at", "close_at")
PRED_FIELDS = ("ticket_id", "estimate_minutes", "low_minutes", "high_minutes")
OUTCOMES = ("done", "no_show", "cancelled")
PRIORITY_RANKS = {"assistance": 0, "reservation": 1, "normal": 2}


class LogError(ValueError):
    """A malformed log row; the message names the file, line and field."""


@dataclass(frozen=True)
class TicketRecord:
    ticket_id: str
    category_id: str
    priority: str
    issued_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    counter_id: str | None
    outcome: str

    @property
    def priority_rank(self) -> int:
        return PRIORITY_RANKS.get(self.priority, 2)

    @property
    def wait_minutes(self) -> float | None:
        """Minutes from issue to the first call, when it was called."""
        if self.called_at is None:
            return None
        return (self.called_at - self.issued_at).total_seconds() / 60.0


@dataclass(frozen=True)
class Session:
    counter_id: str
    open_at: datetime
    close_at: datetime


@dataclass(frozen=True)
class Prediction:
    """What the system showed when the ticket was issued (whole minutes, as displayed)."""

    ticket_id: str
    minutes: int | None
    low: int | None
    high: int | None


def _time(text: str, where: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise LogError(f"{where}: {text!r} is not an ISO 8601 time") from exc
    if value.tzinfo is None:
        raise LogError(f"{where}: {text!r} has no UTC offset")
    return value


def _fmt(value: datetime | None) -> str:
    return "" if value is None else value.isoformat(timespec="seconds")


def _rows(path: Path, fields: Sequence[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """The rows of a CSV file with its required columns, each with "file:line" for errors."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [f for f in fields if f not in (reader.fieldnames or ())]
        if missing:
            raise LogError(f"{path}: missing columns: {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            yield f"{path}:{line}", row


def read_log(path: Path) -> list[TicketRecord]:
    """Read LOG.csv, checking the header, times, outcomes and step order."""
    out: list[TicketRecord] = []
    for where, row in _rows(path, LOG_FIELDS):
        issued = _time(row["issued_at"], f"{where} issued_at")
        if issued is None:
            raise LogError(f"{where}: issued_at is required")
        outcome = row["outcome"]
        if outcome not in OUTCOMES:
            raise LogError(f"{where}: outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        record = TicketRecord(
            ticket_id=row["ticket_id"],
            category_id=row["category_id"],
            priority=row["priority"] or "normal",
            issued_at=issued,
            called_at=_time(row["called_at"], f"{where} called_at"),
            started_at=_time(row["started_at"], f"{where} started_at"),
            finished_at=_time(row["finished_at"], f"{where} finished_at"),
            counter_id=row["counter_id"] or None,
            outcome=outcome,
        )
        if record.called_at is not None and record.called_at < record.issued_at:
            raise LogError(f"{where}: called before it was issued")
        out.append(record)
    return out


def write_log(path: Path, records: Iterable[TicketRecord]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LOG_FIELDS)
        for r in records:
            writer.writerow(
                (
                    r.ticket_id, r.category_id, r.priority, _fmt(r.issued_at), _fmt(r.called_at),
                    _fmt(r.started_at), _fmt(r.finished_at), r.counter_id or "", r.outcome,
                )
            )  # fmt: skip


def read_sessions(path: Path) -> list[Session]:
    out: list[Session] = []
    for where, row in _rows(path, SESSION_FIELDS):
        opened = _time(row["open_at"], f"{where} open_at")
        closed = _time(row["close_at"], f"{where} close_at")
        if opened is None or closed is None or closed < opened:
            raise LogError(f"{where}: a session needs open_at <= close_at")
        out.append(Session(row["counter_id"], opened, closed))
    return out


def write_sessions(path: Path, sessions: Iterable[Session]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SESSION_FIELDS)
        for s in sessions:
            writer.writerow((s.counter_id, _fmt(s.open_at), _fmt(s.close_at)))


def write_predictions(path: Path, predictions: Iterable[Prediction]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PRED_FIELDS)
        for p in predictions:
            writer.writerow(
                (
                    p.ticket_id,
                    "" if p.minutes is None else p.minutes,
                    "" if p.low is None else p.low,
                    "" if p.high is None else p.high,
                )
            )


def read_predictions(path: Path) -> list[Prediction]:
    def number(text: str) -> int | None:
        return None if text == "" else int(text)

    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Prediction(
                r["ticket_id"],
                number(r["estimate_minutes"]),
                number(r["low_minutes"]),
                number(r["high_minutes"]),
            )
            for r in csv.DictReader(handle)
        ]


def shown(minutes: float, low: float, high: float) -> tuple[int, int, int]:
    """Whole minutes as the slip and board show them (same rounding as `WaitEstimate`)."""
    return WaitEstimate(minutes, low, high).rounded()
