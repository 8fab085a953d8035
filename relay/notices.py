"""The ticket page's notices on the relay: its service worker (`/sw.js`) and the unsubscribe link
of every notice and reminder (`/notify/unsubscribe/{token}`), as the queue server serves them.

The link points to `MADOGUCHI_PUBLIC_BASE_URL`, the relay in a relay deployment. GET is the
same static page as the queue server's (display_board/public_pages.py): it asks, and changes
nothing. POST (its button, or a mail program's RFC 8058 one-click) is queued for the queue
server like any resident's request, as `POST /api/v1/notify/unsubscribe {"token"}`, and its
page says what happened: stopped when the answer came within `answer_wait_seconds`, received
when it is still waiting to be pulled, unavailable when the queue server has not pulled lately.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aiohttp import web

from display_board.public_pages import (
    SERVICE_WORKER_HEADERS,
    SERVICE_WORKER_TYPE,
    UNSUBSCRIBE_HEADERS,
    PageState,
    page_language,
    unsubscribe_page,
)
from relay.bookings import address_of
from relay.requests import RequestsFull

if TYPE_CHECKING:
    from pathlib import Path

    from relay.app import Relay

UNSUBSCRIBE_REQUEST = "/api/v1/notify/unsubscribe"  # one of pull_protocol.REQUEST_PATHS
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # the queue server's tokens (TokenBody)


def _relay(request: web.Request) -> Relay:
    relay: Relay = request.app["relay"]
    return relay


def _page(request: web.Request, token: str, state: PageState, status: int = 200) -> web.Response:
    lang = page_language(request.query.get("lang"))
    return web.Response(
        text=unsubscribe_page(token, state, lang),
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers=UNSUBSCRIBE_HEADERS,
    )


def _token(request: web.Request) -> str:
    token = request.match_info["token"]
    if not _TOKEN.match(token):
        raise web.HTTPNotFound(headers={"Cache-Control": "no-store"})
    return token


async def ask(request: web.Request) -> web.Response:
    """`GET /notify/unsubscribe/{token}`: the page with one button; nothing is queued."""
    return _page(request, _token(request), "ask")


async def stop(request: web.Request) -> web.Response:
    """`POST /notify/unsubscribe/{token}`: queued for the queue server to pull, once."""
    token, relay = _token(request), _relay(request)
    if relay.limiter.take(address_of(request)) > 0:
        return _page(request, token, "unavailable", 429)
    if not await relay.bookings_open():
        return _page(request, token, "unavailable", 503)
    try:
        request_id = await relay.requests.submit(UNSUBSCRIBE_REQUEST, {"token": token})
        outcome = await relay.requests.wait_outcome(request_id, relay.settings.answer_wait_seconds)
    except RequestsFull:
        return _page(request, token, "unavailable", 503)
    except relay.requests.errors:  # Redis away
        return _page(request, token, "unavailable", 503)
    if outcome.state == "pending":
        return _page(request, token, "received", 202)
    if outcome.state == "done" and 200 <= outcome.status < 300:
        return _page(request, token, "stopped")
    return _page(request, token, "unavailable", 503)


def service_worker_route(worker: Path) -> web.RouteDef:
    """`/sw.js` from the root (its scope may be any ticket page), headers as the queue server's."""

    async def serve(request: web.Request) -> web.FileResponse:
        response = web.FileResponse(worker, headers=SERVICE_WORKER_HEADERS)
        response.content_type = SERVICE_WORKER_TYPE.split(";")[0]
        response.charset = "utf-8"
        return response

    return web.get("/sw.js", serve)


def add_routes(app: web.Application, assets: Path) -> None:
    """The worker and the unsubscribe link's page and POST."""
    app.router.add_routes([service_worker_route(assets / "js" / "sw.js")])
    app.router.add_get("/notify/unsubscribe/{token}", ask)
    app.router.add_post("/notify/unsubscribe/{token}", stop)
