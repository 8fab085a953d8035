"""Opt-in ticket notices over HTTP: the channels offered, subscribe, one-tap unsubscribe."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

import visitor_text
from queue_server.api.deps import ContainerDep
from queue_server.api.errors import ApiError
from queue_server.api.pages import PAGE_HEADERS
from queue_server.domain.office import LANGUAGES
from queue_server.service.reminding import REMINDER_TOKEN_PREFIX

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
def unsubscribe_link(c: ContainerDep, token: str) -> HTMLResponse:
    """The link in every notice and reminder: one tap stops them (a second changes nothing)."""
    c.service.unsubscribe(token)
    return _stopped_page(token)


@router.post("/notify/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_one_click(c: ContainerDep, token: str) -> HTMLResponse:
    """RFC 8058 one-click: a mail program POSTs `List-Unsubscribe=One-Click` to the address in
    the e-mail's `List-Unsubscribe` header. The body is not needed to act on."""
    c.service.unsubscribe(token)
    return _stopped_page(token)


def _stopped_page(token: str) -> HTMLResponse:
    key = "reminder_stopped" if token.startswith(REMINDER_TOKEN_PREFIX) else "notify_stopped"
    lines = "".join(
        f'<p lang="{"ja" if lang == "ja-easy" else lang}">'
        f"{visitor_text.text(lang, f'reserve.{key}')}</p>"
        for lang in ("ja", "en")
    )
    page = (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Madoguchi</title></head><body><main>{lines}</main></body></html>"
    )
    return HTMLResponse(page, headers={**PAGE_HEADERS, "Cache-Control": "no-store"})
