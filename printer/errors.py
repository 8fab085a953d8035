"""Printer errors: one base class, a short code a kiosk can show, and a message in ja and en."""

from __future__ import annotations

from enum import StrEnum


class FailureReason(StrEnum):
    """Why a slip did not print; stable strings the server stores and the kiosk maps to screens."""

    UNREACHABLE = "unreachable"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    TIMEOUT = "timeout"
    SEND_FAILED = "send_failed"
    RENDER_FAILED = "render_failed"


# code, Japanese message (shown to staff and visitors), English message (logs, foreign staff)
_MESSAGES: dict[str, tuple[str, str]] = {
    "E-PRN-01": ("プリンターに接続できません", "cannot connect to the printer"),
    "E-PRN-02": ("用紙切れです。ロール紙を交換してください", "paper is out; replace the roll"),
    "E-PRN-03": ("プリンターのカバーが開いています", "the printer cover is open"),
    "E-PRN-04": ("プリンターがオフラインです", "the printer is offline"),
    "E-PRN-05": ("プリンターから応答がありません", "the printer does not answer"),
    "E-PRN-06": ("送信中に接続が切れました", "the connection broke while sending"),
    "E-PRN-07": ("日本語フォントが見つかりません", "no Japanese font is installed"),
    "E-PRN-08": ("プリンターの設定が正しくありません", "the printer setting is invalid"),
    "E-PRN-09": ("プリンターのドライバーがありません", "the printer driver is not installed"),
    "E-PRN-10": ("整理券のデータが正しくありません", "the ticket data is invalid"),
}

REASON_CODES: dict[FailureReason, str] = {
    FailureReason.UNREACHABLE: "E-PRN-01",
    FailureReason.PAPER_OUT: "E-PRN-02",
    FailureReason.COVER_OPEN: "E-PRN-03",
    FailureReason.OFFLINE: "E-PRN-04",
    FailureReason.TIMEOUT: "E-PRN-05",
    FailureReason.SEND_FAILED: "E-PRN-06",
    FailureReason.RENDER_FAILED: "E-PRN-07",
}


def message_ja(code: str) -> str:
    """Return the Japanese message for an error code."""
    return _MESSAGES[code][0]


def message_en(code: str) -> str:
    """Return the English message for an error code."""
    return _MESSAGES[code][1]


def all_codes() -> dict[str, tuple[str, str]]:
    """Return every code with its (ja, en) messages, for docs and the kiosk's error screen."""
    return dict(_MESSAGES)


class PrinterError(Exception):
    """Base of every printer error; `code` is short and stable, `detail` never has personal data."""

    code = "E-PRN-00"
    reason: FailureReason | None = None

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(str(self))

    @property
    def message_ja(self) -> str:
        """Japanese message for screens."""
        return message_ja(self.code)

    @property
    def message_en(self) -> str:
        """English message for logs."""
        return message_en(self.code)

    def __str__(self) -> str:
        tail = f": {self.detail}" if self.detail else ""
        return f"{self.code} {self.message_ja} / {self.message_en}{tail}"


class PrinterUnreachableError(PrinterError):
    """The transport could not be opened (no route, refused, device missing)."""

    code = "E-PRN-01"
    reason = FailureReason.UNREACHABLE


class PrinterTimeoutError(PrinterError):
    """The printer took longer than the configured timeout."""

    code = "E-PRN-05"
    reason = FailureReason.TIMEOUT


class PrinterSendError(PrinterError):
    """The connection broke while the job was being sent."""

    code = "E-PRN-06"
    reason = FailureReason.SEND_FAILED


class FontNotFoundError(PrinterError):
    """No Japanese font file was found, so a raster slip cannot be drawn."""

    code = "E-PRN-07"
    reason = FailureReason.RENDER_FAILED


class PrinterConfigError(PrinterError):
    """A printer URL, profile or option is invalid."""

    code = "E-PRN-08"


class PrinterDriverMissingError(PrinterError):
    """The Python package a transport needs (pyusb, pyserial) is not installed."""

    code = "E-PRN-09"
    reason = FailureReason.UNREACHABLE


class SlipDataError(PrinterError):
    """The ticket data given to build a slip is missing a field or has a bad value."""

    code = "E-PRN-10"
