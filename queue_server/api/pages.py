"""The browser pages (board, clerk console, residents' pages, admin, open data) and their
assets, served from the package: city networks have no internet, so nothing comes from a CDN.

Also the board's announcement endpoint: the server writes the texts for the ear and
synthesises them offline; the board plays the clips from its queue.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import Field

import visitor_text
from display_board.announce import BadNumber, Call, announcement
from display_board.public_pages import SERVICE_WORKER_HEADERS, SERVICE_WORKER_TYPE
from display_board.voice import Announcer, default_voices
from queue_server.api.deps import Caller, CallerDep, Container, ContainerDep
from queue_server.api.errors import ApiError
from queue_server.api.params import StrictBody

logger = logging.getLogger(__name__)
router = APIRouter()
WEB = Path(str(files("display_board") / "web"))
ASSETS = WEB / "assets"

# Pages load only their own scripts and styles; the WebSocket goes to the same host.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
PAGE_HEADERS = _HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".wav": "audio/wav",
}


def _page(name: str) -> HTMLResponse:
    return HTMLResponse((WEB / name).read_text(encoding="utf-8"), headers=_HEADERS)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def congestion_page() -> HTMLResponse:
    """混雑状況: the residents' congestion page."""
    return _page("index.html")


@router.get("/t/{public_id}", response_class=HTMLResponse, include_in_schema=False)
def ticket_page(public_id: str) -> HTMLResponse:
    """The slip's QR: one ticket, live. Unknown ids get the same page, which says so."""
    return _page("ticket.html")


@router.get("/sw.js", include_in_schema=False)
def service_worker() -> Response:
    """The ticket page's service worker (Web Push notices), served from the root so that it
    may take any ticket page as its scope."""
    return FileResponse(
        ASSETS / "js" / "sw.js",
        media_type=SERVICE_WORKER_TYPE,
        headers=SERVICE_WORKER_HEADERS,  # the relay serves it with the same
    )


@router.get("/board", response_class=HTMLResponse, include_in_schema=False)
def board_page() -> HTMLResponse:
    return _page("board.html")


@router.get("/clerk", response_class=HTMLResponse, include_in_schema=False)
def clerk_page() -> HTMLResponse:
    return _page("clerk.html")


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
def admin_page() -> HTMLResponse:
    return _page("admin.html")


@router.get("/assets/texts/{lang}.json", include_in_schema=False)
def visitor_texts(lang: str) -> JSONResponse:
    """One language's visitor catalogue (visitor_text/locales/<lang>.toml) for the pages' JS."""
    if lang not in visitor_text.LANGUAGES:
        raise ApiError(404, "not_found", "no such language")
    return JSONResponse(visitor_text.catalog(lang), headers=_HEADERS)


@router.get("/assets/{path:path}", include_in_schema=False)
def asset(path: str) -> Response:
    try:  # a NUL byte or an over-long name is no asset either
        target = (ASSETS / path).resolve()
        found = target.is_relative_to(ASSETS.resolve()) and target.is_file()
    except (ValueError, OSError):
        found = False
    if not found:
        raise ApiError(404, "not_found", "no such asset")
    media = _TYPES.get(target.suffix, "application/octet-stream")
    return FileResponse(target, media_type=media, headers=_HEADERS)


@router.get("/api/v1/pages/config", tags=["public"])
def page_config(c: ContainerDep) -> dict[str, Any]:
    """Settings the public pages need: the congestion lamp's thresholds in minutes and in people
    waiting (blue below both first ones, red from either second one, yellow between)."""
    return lamp_config(c)


def lamp_config(c: Container) -> dict[str, Any]:
    """The page settings: the office's lamp thresholds (`[congestion]`) and the heartbeat."""
    thresholds = c.service.state().office.congestion
    return {
        "congestion_lamp_minutes": list(thresholds.minutes),
        "congestion_lamp_people": list(thresholds.people),
        "heartbeat_seconds": c.settings.heartbeat_seconds,
    }


# -- announcements -------------------------------------------------------------------------


def announcer(request: Request) -> Announcer:
    """One announcer per app, made on first use (loading Open JTalk takes a moment)."""
    found: Announcer | None = getattr(request.app.state, "announcer", None)
    if found is None:
        c = request.app.state.container
        found = Announcer(Path(c.settings.data_dir) / "voice", default_voices())
        request.app.state.announcer = found
    return found


AnnouncerDep = Annotated[Announcer, Depends(announcer)]


class AnnouncementRequest(StrictBody):
    number: str = Field(min_length=1, max_length=16, examples=["A-012"])
    counter: int = Field(ge=1, le=999)
    recall: bool = False


def _board_or_staff(who: Caller) -> None:
    if who.staff is None and (who.device is None or who.device.kind != "board"):
        raise ApiError(403, "forbidden", "announcements are for boards and staff")


@router.post("/api/v1/announcements", tags=["board"])
def make_announcement(
    who: CallerDep, voice: AnnouncerDep, body: AnnouncementRequest
) -> dict[str, Any]:
    """Texts and audio clips (chime, Japanese, English) for one call; clips the server cannot
    synthesise are left out, so the chime alone still plays."""
    _board_or_staff(who)
    try:
        said = announcement(Call(body.number, body.counter, body.recall))
    except BadNumber as exc:
        raise ApiError(422, "validation_error", str(exc)) from exc
    clips = voice.clips(said)
    return {
        "texts": {"ja": said.ja, "en": said.en},
        "display": {"ja": said.display_ja, "en": said.display_en},
        "clips": [f"/audio/{key}.wav" for key in clips],
        "voices": voice.languages,
    }


@router.get("/audio/{key}.wav", include_in_schema=False)
def audio(key: str, voice: AnnouncerDep) -> Response:
    """A cached clip: only announcement texts (numbers and counters), never personal data."""
    path = voice.path(key)
    if path is None:
        return JSONResponse({"error": {"code": "not_found"}}, status_code=404)
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "max-age=86400"})
