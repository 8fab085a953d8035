"""Kiosk settings (environment `MADOGUCHI_KIOSK_*`, command-line flags override them)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path("~/.local/share/madoguchi").expanduser()


class KioskSettings(BaseSettings):
    """What one kiosk needs: its server and token, its devices, its timeouts."""

    model_config = SettingsConfigDict(env_prefix="MADOGUCHI_KIOSK_", extra="ignore")

    server_url: str = "http://127.0.0.1:8000"
    token: str = ""
    printer_url: str | None = None  # default: virtual:// into the data directory
    printer_profile: str | None = None
    printer_timeout_s: float = 2.0
    scanner_url: str | None = None  # default: images:// from the data directory
    # MyNumber card reader: pcsc://[reader name] or sim://?pin=1234; none: no card button.
    reader_url: str | None = None
    # The procedure id (総合案内, その他) that takes visitors who do not know which procedure
    # they need; without one, the kiosk's 「わからない・その他」 sends them to the reception staff.
    general_category: str | None = None
    demo: bool = False  # demo mode: the simulated card (PIN 1234) unless a reader is given
    fullscreen: bool = False
    idle_seconds: float = 60.0
    ticket_seconds: float = 30.0
    dpi: float | None = None  # override when the screen reports a wrong physical size
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        validation_alias=AliasChoices("MADOGUCHI_DATA_DIR", "MADOGUCHI_KIOSK_DATA_DIR"),
    )

    def resolved_printer_url(self) -> str:
        return self.printer_url or f"virtual://{self.data_dir / 'kiosk-slips'}"

    def resolved_scanner_url(self) -> str:
        return self.scanner_url or f"images://{self.data_dir / 'kiosk-scans'}"

    def resolved_reader_url(self) -> str | None:
        if self.reader_url:
            return self.reader_url
        return "sim://?pin=1234" if self.demo else None
