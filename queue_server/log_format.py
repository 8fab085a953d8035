"""Log records as text (the default) or as one JSON object per line (`MADOGUCHI_LOG_FORMAT=json`)
for a city's log collector. Only what the record says: time, level, logger, message (and the
exception type, not its text, which may echo request data). The server's own messages never hold
personal data; uvicorn's access lines hold the client address, method, path and status.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def log_config(log_format: str, level: str = "info") -> dict[str, Any] | None:
    """A `logging.config.dictConfig` for uvicorn and the app; None keeps uvicorn's text format."""
    if log_format != "json":
        return None
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    loggers = ("uvicorn", "uvicorn.error", "uvicorn.access", "queue_server", "relay", "aiohttp")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "queue_server.log_format.JsonFormatter"}},
        "handlers": {"json": handler},
        "loggers": {
            name: {"handlers": ["json"], "level": level.upper(), "propagate": False}
            for name in loggers
        },
    }
