"""Printer status from `DLE EOT` replies, and the outcome of one print job.

Epson ESC/POS real-time status (DLE EOT n), the bits we use:
  n=1 printer:       bit 3 = offline
  n=2 offline cause: bit 2 = cover open, bit 5 = stopped by paper end, bit 6 = error
  n=4 paper sensor:  bits 2-3 = roll near end, bits 5-6 = roll end (out)
Every reply has bit 1 and bit 4 set and bits 0 and 7 clear; a byte without that pattern is not a
status reply (e.g. an Automatic Status Back frame) and counts as unknown.
A printer that answers nothing is *unknown*, never ok: python-escpos reports "paper ok" on
silence, which would send slips into a dead printer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from printer.errors import REASON_CODES, FailureReason, message_en, message_ja

STATUS_QUERIES = (1, 2, 4)
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12


class Online(StrEnum):
    """Whether the printer accepts print data."""

    ONLINE = "online"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


class Paper(StrEnum):
    """Roll paper sensor."""

    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"


class Cover(StrEnum):
    """Paper cover."""

    CLOSED = "closed"
    OPEN = "open"
    UNKNOWN = "unknown"


class Health(StrEnum):
    """One word for staff screens and exit codes."""

    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"
    UNKNOWN = "unknown"


def is_status_byte(value: int) -> bool:
    """True when a byte has the fixed bits every DLE EOT reply carries."""
    return value & _FIXED_MASK == _FIXED_BITS


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """What the printer said about itself; `raw` keeps the reply bytes for diagnosis."""

    online: Online = Online.UNKNOWN
    paper: Paper = Paper.UNKNOWN
    cover: Cover = Cover.UNKNOWN
    raw: tuple[int | None, ...] = field(default=(), compare=False)
    # True when the connection itself failed, as opposed to a connected printer staying silent
    unreachable: bool = False

    @classmethod
    def unknown(cls) -> PrinterStatus:
        """No reply at all."""
        return cls()

    @classmethod
    def not_reachable(cls) -> PrinterStatus:
        """The printer could not be connected to."""
        return cls(unreachable=True)

    @classmethod
    def assumed_ok(cls) -> PrinterStatus:
        """For transports that cannot be asked and cannot fail (virtual://, file://)."""
        return cls(Online.ONLINE, Paper.OK, Cover.CLOSED)

    @classmethod
    def from_replies(
        cls, printer: int | None, offline_cause: int | None, paper: int | None
    ) -> PrinterStatus:
        """Interpret the replies to DLE EOT 1, 2 and 4 (None where the printer stayed silent)."""
        printer, offline_cause, paper = (
            v if v is not None and is_status_byte(v) else None
            for v in (printer, offline_cause, paper)
        )
        online = Online.UNKNOWN
        if printer is not None:
            online = Online.OFFLINE if printer & 0x08 else Online.ONLINE
        cover = Cover.UNKNOWN
        if offline_cause is not None:
            cover = Cover.OPEN if offline_cause & 0x04 else Cover.CLOSED
        paper_state = Paper.UNKNOWN
        if paper is not None:
            if paper & 0x60:
                paper_state = Paper.OUT
            elif paper & 0x0C:
                paper_state = Paper.NEAR_END
            else:
                paper_state = Paper.OK
        elif offline_cause is not None and offline_cause & 0x20:
            paper_state = Paper.OUT
        return cls(online, paper_state, cover, (printer, offline_cause, paper))

    def blocking_reason(self) -> FailureReason | None:
        """Why a slip must not be sent now, or None when the printer can print."""
        if self.unreachable:
            return FailureReason.UNREACHABLE
        if self.paper is Paper.OUT:
            return FailureReason.PAPER_OUT
        if self.cover is Cover.OPEN:
            return FailureReason.COVER_OPEN
        if self.online is Online.OFFLINE:
            return FailureReason.OFFLINE
        unknown = (
            self.online is Online.UNKNOWN
            or self.paper is Paper.UNKNOWN
            or self.cover is Cover.UNKNOWN
        )
        return FailureReason.TIMEOUT if unknown else None

    @property
    def health(self) -> Health:
        """ok, warning (near end), problem (cannot print) or unknown (no answer)."""
        reason = self.blocking_reason()
        if reason is FailureReason.TIMEOUT:
            return Health.UNKNOWN
        if reason is not None:
            return Health.PROBLEM
        return Health.WARNING if self.paper is Paper.NEAR_END else Health.OK

    def warnings(self) -> tuple[str, ...]:
        """Conditions that still allow printing but need staff soon."""
        return ("paper_near_end",) if self.paper is Paper.NEAR_END else ()

    def as_dict(self) -> dict[str, object]:
        """JSON-safe form for the server's device-health report."""
        return {
            "online": self.online.value,
            "paper": self.paper.value,
            "cover": self.cover.value,
            "health": self.health.value,
            "reachable": not self.unreachable,
        }


class Outcome(StrEnum):
    """Whether the slip came out."""

    PRINTED = "printed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PrintResult:
    """The outcome of one print job; a failed job is never retried or queued for later."""

    outcome: Outcome
    reason: FailureReason | None = None
    bytes_sent: int = 0
    duration_s: float = 0.0
    status_before: PrinterStatus = field(default_factory=PrinterStatus.unknown)
    status_after: PrinterStatus | None = None
    warnings: tuple[str, ...] = ()
    output_path: str | None = None

    @property
    def ok(self) -> bool:
        """True when the slip was printed."""
        return self.outcome is Outcome.PRINTED

    @property
    def code(self) -> str | None:
        """Short error code such as E-PRN-02, or None when printed."""
        return REASON_CODES[self.reason] if self.reason is not None else None

    @property
    def message_ja(self) -> str | None:
        """Japanese message for the kiosk screen, or None when printed."""
        return message_ja(self.code) if self.code else None

    @property
    def message_en(self) -> str | None:
        """English message for logs, or None when printed."""
        return message_en(self.code) if self.code else None

    def as_dict(self) -> dict[str, object]:
        """JSON-safe form for reporting the outcome to the server (no slip content)."""
        return {
            "outcome": self.outcome.value,
            "reason": self.reason.value if self.reason else None,
            "code": self.code,
            "bytes_sent": self.bytes_sent,
            "duration_ms": round(self.duration_s * 1000, 1),
            "status_before": self.status_before.as_dict(),
            "status_after": self.status_after.as_dict() if self.status_after else None,
            "warnings": list(self.warnings),
            "output_path": self.output_path,
        }
