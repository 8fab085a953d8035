"""Server settings: environment variables with the MADOGUCHI_ prefix, or CLI flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


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
    status_interval_seconds: float = 0.25
    day_close_check_seconds: float = 30.0
    environment: Literal["development", "production"] = "development"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'madoguchi.db'}"
