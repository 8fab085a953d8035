"""The addresses a resident gives for a message (notices, reminders), checked per channel."""

from __future__ import annotations

import json
import re

from queue_server.domain.notices import CHANNELS
from queue_server.service.core import InvalidRequest

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_LINE_USER = re.compile(r"^U[0-9a-f]{32}$")


def valid_channel(channel: str, available: tuple[str, ...]) -> str:
    """`channel` when this server sends on it; `InvalidRequest` otherwise."""
    if channel not in CHANNELS or channel not in available:
        raise InvalidRequest(f"channel {channel!r} is not offered here")
    return channel


def valid_address(channel: str, address: str) -> str:
    """The address as stored; `InvalidRequest` when it does not fit the channel."""
    address = address.strip()
    if channel == "webpush":
        try:
            subscription = json.loads(address)
            endpoint = str(subscription["endpoint"])
            keys = subscription["keys"]
            cleaned = {
                "endpoint": endpoint,
                "keys": {"p256dh": str(keys["p256dh"]), "auth": str(keys["auth"])},
            }
        except (ValueError, KeyError, TypeError):
            raise InvalidRequest("the push subscription is not valid") from None
        if not endpoint.startswith(("https://", "http://")) or len(address) > 2000:
            raise InvalidRequest("the push subscription is not valid")
        return json.dumps(cleaned, separators=(",", ":"))
    if channel == "email":
        if len(address) > 254 or not _EMAIL.match(address):
            raise InvalidRequest("the e-mail address is not valid")
        return address
    if len(address) > 254 or not _LINE_USER.match(address):
        raise InvalidRequest(f"the {channel} address is not valid")
    return address
