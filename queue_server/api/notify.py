"""Opt-in ticket notices over HTTP: the channels offered, subscribe, one-tap unsubscribe."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from display_board.public_pages import UNSUBSCRIBE_HEADERS, page_language, unsubscribe_page
from queue_server.api.deps import ContainerDep
from queue_server.api.errors import ApiError
from queue_server.domain.office import LANGUAGES

router = APIRouter()


class SubscribeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    public_id: str = Field(min_length=1, max_length=64, description="the slip's public id")
    channel: str = Field(examples=["email", "line"])
    address: str = Field(
        min_length=3,
        max_length=2000,
        description="e-mail, LINE user id, or the browser's push subscription as JSON",
    )
    ahead: int | None = Field(default=3, ge=0, le=50, description="notify at this many ahead")
    language: str = Field(default="ja", examples=list(LANGUAGES))


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=8, max_length=64)


def channels(request: Request) -> tuple[str, ...]:
    found: tuple[str, ...] = getattr(request.app.state, "notice_channels", ())
    return found


@router.get("/api/v1/notify/channels", tags=["notifications"])
def offered(request: Request) -> dict[str, Any]:
    """The channels this server sends notices on (none unless configured)."""
    return {"channels": list(channels(request))}


@router.get("/api/v1/notify/vapid-public-key", tags=["notifications"])
def vapid_public_key(request: Request) -> dict[str, Any]:
    """The key browsers subscribe with (`applicationServerKey`); 404 without Web Push."""
    key: str | None = getattr(request.app.state, "vapid_public_key", None)
    if key is None:
        raise ApiError(404, "not_found", "this server does not send Web Push")
    return {"key": key}


@router.post("/api/v1/notify/subscribe", status_code=201, tags=["notifications"])
def subscribe(c: ContainerDep, request: Request, body: SubscribeRequest) -> JSONResponse:
    """ "N people ahead" (at `ahead`) and "called to counter X", each sent once; 422
    `invalid_request` for a channel not offered or a bad address, 404 when the ticket is over."""
    answer = c.service.subscribe(
        body.public_id, body.channel, body.address, body.ahead, body.language, channels(request)
    )
    return JSONResponse({"subscription": answer}, 201, headers={"Cache-Control": "no-store"})


@router.post("/api/v1/notify/unsubscribe", tags=["notifications"])
def unsubscribe(c: ContainerDep, body: TokenBody) -> dict[str, Any]:
    return {"unsubscribed": c.service.unsubscribe(body.token)}


@router.get("/notify/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_link(token: str, lang: str | None = None) -> HTMLResponse:
    """The link in every notice and reminder: a page whose one button POSTs to the same URL.
    GET changes nothing, so a mail scanner that follows the link stops no one's notices."""
    page = unsubscribe_page(token, "ask", page_language(lang))
    return HTMLResponse(page, headers=UNSUBSCRIBE_HEADERS)


@router.post("/notify/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_one_click(c: ContainerDep, token: str, lang: str | None = None) -> HTMLResponse:
    """The page's button, and RFC 8058 one-click: a mail program POSTs
    `List-Unsubscribe=One-Click` to the address in the e-mail's `List-Unsubscribe` header. The
    body is not needed to act on; a second POST changes nothing."""
    c.service.unsubscribe(token)
    page = unsubscribe_page(token, "stopped", page_language(lang))
    return HTMLResponse(page, headers=UNSUBSCRIBE_HEADERS)
