"""Server settings: environment variables with the MADOGUCHI_ prefix, or CLI flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from queue_server.domain.codes import RetiredKey


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "madoguchi"


class ServerSettings(BaseSettings):
    """Built once in the composition root (CLI or `create_app`), never at import."""

    model_config = SettingsConfigDict(env_prefix="MADOGUCHI_", extra="ignore")

    data_dir: Path = default_data_dir()
    database_url: str | None = None
    event_bus: str = "memory://"
    office_id: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    staff_token_hours: float = 12.0
    heartbeat_seconds: float = 15.0
    catch_up_seconds: float = 2.0
    # The queue state (waits, counts) is recomputed after changes, at most once per
    # status interval, and every tick (elapsed service time moves the estimates).
    status_interval_seconds: float = 0.25
    state_tick_seconds: float = 30.0
    preapplication_days: int = 7
    estimator: Literal["forecast", "replay"] = "forecast"
    day_close_check_seconds: float = 30.0
    environment: Literal["development", "production"] = "development"
    # "json": one JSON object per log line (time, level, logger, message) for a log collector.
    log_format: Literal["text", "json"] = "text"
    # Moved to the office file (`[congestion] minutes = [20, 45]`); still read so that a server
    # started with the old variable stops with a message instead of silently ignoring it.
    congestion_lamp_minutes: str | None = None

    # Request bodies (bytes): every request, and device reports (health, print outcomes).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_report_bytes: int = Field(default=8 * 1024, ge=512)
    # Residents per client address (a city's NAT puts many behind one): pre-applications per
    # hour and anonymous reads of the public API per minute.
    preapplications_per_hour: int = Field(default=60, ge=1)
    public_reads_per_minute: int = Field(default=1200, ge=1)
    # Per client address and hour: bookings, changes and cancellations; look-ups of a booking
    # code; notice subscriptions and unsubscriptions (the page's and the messages' links).
    reservations_per_hour: int = Field(default=60, ge=1)
    reservation_lookups_per_hour: int = Field(default=300, ge=1)
    notices_per_hour: int = Field(default=120, ge=1)

    secret_key: str | None = None
    # The internet-facing relay (docs/relay.md): where to push anonymised state, and the shared
    # secret that signs each push (MADOGUCHI_RELAY_PUSH_SECRET, or a file holding it).
    relay_push_url: str | None = None
    relay_push_secret: str | None = None
    relay_push_secret_file: Path | None = None
    relay_snapshot_seconds: float = 60.0
    # Bookings and notice subscriptions made on the relay: pulled by the pushing process
    # (queue_server/api/relay_pull.py), with a long poll of this many seconds.
    relay_pull: bool = True
    relay_pull_wait_seconds: float = Field(default=20.0, gt=0, le=25)
    # E-mail reminders of visit reservations ("tomorrow at 10:30"), sent from this local hour
    # the day before: smtp://host:25, smtp+starttls://user:password@host:587, smtps://…:465.
    smtp_url: str | None = None
    mail_from: str = "madoguchi@localhost"
    reminder_hour: int = 12
    # Ticket notices ("N people ahead", "called to counter X"): e-mail when smtp_url is set,
    # LINE when a Messaging API channel token is; delivered every notice_seconds.
    line_channel_token: str | None = None
    line_api_url: str = "https://api.line.me"
    notice_seconds: float = 2.0
    # Web Push with the server's own VAPID key (generated once into the data directory).
    web_push: bool = False
    vapid_subject: str = "mailto:madoguchi@localhost"

    def relay_secret(self) -> bytes | None:
        if self.relay_push_secret:
            return self.relay_push_secret.encode()
        if self.relay_push_secret_file:
            return self.relay_push_secret_file.read_text(encoding="utf-8").strip().encode()
        return None

    def code_secret(self) -> bytes:
        """The key that signs visit codes: MADOGUCHI_SECRET_KEY, else one generated once and
        kept in the data directory (readable by the server's user only)."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            import secrets

            self.private_data_dir()
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48), encoding="ascii")
        return path.read_text(encoding="ascii").strip().encode()

    def retired_code_keys(self) -> tuple[RetiredKey, ...]:
        """Keys that signed codes before `madoguchi rotate code-key`, each with its end; none
        when the key is set in the environment (rotate it there, see docs/operations.md)."""
        if self.secret_key:
            return ()
        from queue_server.adapters.code_keys import retired_keys

        return retired_keys(self.data_dir)

    def private_data_dir(self) -> Path:
        """The data directory, readable by the server's user only (0700): it holds the
        database, the code secret and printed slips."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.data_dir.stat().st_uid == os.getuid():
            self.data_dir.chmod(0o700)
        return self.data_dir

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.private_data_dir() / 'madoguchi.db'}"
