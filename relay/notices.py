"""The ticket page's notices on the relay: its service worker (`/sw.js`), as the queue server
serves it (display_board/public_pages.py); the subscribe and unsubscribe requests are queued
like bookings (relay/bookings.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from display_board.public_pages import SERVICE_WORKER_HEADERS, SERVICE_WORKER_TYPE

if TYPE_CHECKING:
    from pathlib import Path


def service_worker_route(worker: Path) -> web.RouteDef:
    """`/sw.js` from the root (its scope may be any ticket page), headers as the queue server's."""

    async def serve(request: web.Request) -> web.FileResponse:
        response = web.FileResponse(worker, headers=SERVICE_WORKER_HEADERS)
        response.content_type = SERVICE_WORKER_TYPE.split(";")[0]
        response.charset = "utf-8"
        return response

    return web.get("/sw.js", serve)


def add_routes(app: web.Application, assets: Path) -> None:
    """The ticket page's service worker."""
    app.router.add_routes([service_worker_route(assets / "js" / "sw.js")])
