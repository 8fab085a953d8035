"""Constants shared by tests (importable, unlike conftest)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
# A Thursday, inside office hours; the suite never depends on the real date.
OPEN_MOMENT = datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO)
REDIS_URL = "redis://127.0.0.1:6379/0"
