"""Notice subscriptions through the relay: the channels and the Web Push key come from the queue
server; subscribe and unsubscribe are pulled like bookings; the relay forgets the address once
the queue server has it, in memory and in Redis."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from support.server import RELAY_SECRET, bearer, prepare, relay_process, server_process
from support.waiting import eventually
from tests_constants import REDIS_URL

from queue_server.adapters import tables as t
from queue_server.service.ports import SystemClock

ADDRESS = "canary.follower@example.jp"
OFFICE = "shirakawa-shimin"


def settled(base: str, response: httpx.Response) -> httpx.Response:
    deadline = time.monotonic() + 60
    while response.status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.2)
        response = httpx.get(f"{base}{response.json()['relay_request']['poll_url']}")
    return response


def subscriptions(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(select(t.notice_subscriptions.c.address)).scalars().all()
    engine.dispose()
    return list(rows)


@pytest.mark.slow
@pytest.mark.parametrize("linked", [False, pytest.param(True, marks=pytest.mark.redis)])
def test_a_resident_follows_a_ticket_through_the_relay(
    sqlite_url: str, tmp_path: Path, linked: bool
) -> None:
    import redis

    link = redis.Redis.from_url(REDIS_URL) if linked else None
    if link is not None:
        stale = list(link.scan_iter(f"madoguchi:relay:{OFFICE}:*"))
        if stale:
            link.delete(*stale)
    engine, tokens = prepare(sqlite_url, SystemClock(), always_open=True)
    engine.dispose()
    settings = {
        "secret_key": "relay-notices-test-secret-0123456789",
        "smtp_url": "smtp://127.0.0.1:9",  # offered; nothing is sent in this test
        "web_push": "true",
        "data_dir": str(tmp_path / "data"),
    }
    with (
        relay_process(redis=REDIS_URL if linked else None) as relay,
        server_process(
            sqlite_url,
            relay_push_url=relay,
            relay_push_secret=RELAY_SECRET,
            public_base_url=relay,  # the links residents get point at the relay
            **settings,
        ) as server,
    ):
        for path in ("/api/v1/notify/channels", "/api/v1/notify/vapid-public-key"):
            ours = httpx.get(f"{server}{path}").json()
            eventually(lambda path=path, ours=ours: httpx.get(f"{relay}{path}").json() == ours)
        assert httpx.get(f"{relay}/api/v1/notify/channels").json()["channels"] == [
            "email",
            "webpush",
        ]
        ticket = httpx.post(
            f"{server}/api/v1/tickets", json={"category_id": "koseki"}, headers=bearer(tokens.kiosk)
        ).json()["ticket"]
        body = {
            "public_id": ticket["public_id"],
            "channel": "email",
            "address": ADDRESS,
            "language": "en",
        }
        answer = settled(relay, httpx.post(f"{relay}/api/v1/notify/subscribe", json=body))
        assert answer.status_code == 201, answer.text
        token = answer.json()["subscription"]["token"]
        assert ADDRESS not in answer.text
        assert subscriptions(sqlite_url) == [ADDRESS]
        # The queue server's own rules: a channel it does not offer is refused the same way.
        line = settled(
            relay, httpx.post(f"{relay}/api/v1/notify/subscribe", json={**body, "channel": "line"})
        )
        assert (line.status_code, line.json()["error"]["code"]) == (422, "invalid_request")
        # The relay kept the address only until the queue server had it.
        port = relay.rsplit(":", 1)[1]
        log = Path(os.environ.get("TMPDIR", "/tmp")) / f"madoguchi-relay-{port}.log"
        served = [httpx.get(f"{relay}{p}").text for p in ("/healthz", "/api/v1/status")]
        assert ADDRESS not in "\n".join([*served, log.read_text()])
        if link is not None:
            keys = list(link.scan_iter("madoguchi:relay:*"))
            kept = [link.get(k) or b"" for k in keys if link.type(k) == b"string"]
            kept += [v for k in keys if link.type(k) == b"list" for v in link.lrange(k, 0, -1)]
            assert kept and all(ADDRESS.encode() not in value for value in kept)
        gone = settled(
            relay, httpx.post(f"{relay}/api/v1/notify/unsubscribe", json={"token": token})
        )
        assert gone.json() == {"unsubscribed": True}
        assert subscriptions(sqlite_url) == []

        # The link in the messages: on the relay, GET only shows the page; its POST is pulled.
        again = settled(relay, httpx.post(f"{relay}/api/v1/notify/subscribe", json=body))
        link = again.json()["subscription"]["unsubscribe_url"]
        assert link.startswith(f"{relay}/notify/unsubscribe/") and link.endswith("?lang=en")
        page = httpx.get(link)
        assert page.status_code == 200 and '<form method="post">' in page.text
        assert "form-action 'self'" in page.headers["content-security-policy"]
        assert subscriptions(sqlite_url) == [ADDRESS]
        stopped = httpx.post(link, content=b"List-Unsubscribe=One-Click")  # RFC 8058
        assert stopped.status_code == 200, stopped.text
        assert "You will get no more messages about this number." in stopped.text
        assert subscriptions(sqlite_url) == []
        assert httpx.post(f"{relay}/notify/unsubscribe/no%20such").status_code == 404
