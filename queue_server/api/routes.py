"""The HTTP API (v1). Thin: validate, call one use case, shape the answer."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from queue_server.adapters.accounts import InvalidCredentials
from queue_server.api.deps import CallerDep, ClerkDep, ContainerDep, IssuerDep, TokenDep
from queue_server.api.errors import ApiError
from queue_server.api.params import StrictBody, TicketId
from queue_server.domain.office import LANGUAGES
from queue_server.domain.ticket import Action, Priority
from queue_server.service.jsonable import jsonable
from queue_server.service.views import TicketView

router = APIRouter(prefix="/api/v1")
#: Seconds a browser or proxy may reuse a status (the state moves at most a few times a second).
STATUS_MAX_AGE = 2
NO_STORE = {"Cache-Control": "no-store"}


class IssueRequest(StrictBody):
    category_id: str | None = Field(
        default=None, min_length=1, max_length=40, examples=["certificates"]
    )
    request: dict[str, Any] | None = Field(
        default=None, description='prefilled request: {"form": "juminhyo", "fields": {...}}'
    )
    code: str | None = Field(
        default=None, min_length=1, max_length=1000, description="scanned code"
    )
    language: str = Field(default="ja", examples=list(LANGUAGES))
    priority: Literal["normal", "assistance"] = "normal"

    @model_validator(mode="after")
    def _category_or_code(self) -> IssueRequest:
        if self.category_id is None and self.code is None:
            raise ValueError("give a category_id or a scanned code")
        return self


class TicketOut(BaseModel):
    id: int
    public_id: str
    number: str = Field(examples=["A-012"])
    category_id: str
    priority: str
    language: str
    state: str
    business_date: str
    issued_at: datetime
    called_at: datetime | None
    counter_id: str | None
    counter_number: int | None
    recall_count: int
    ahead: int
    estimated_wait_minutes: int | None
    estimate_low_minutes: int | None
    estimate_high_minutes: int | None
    status_url: str
    print_outcome: str | None = None
    print_reason: str | None = None
    seq: int = Field(description="the computed queue state the figures come from")


class TicketEnvelope(BaseModel):
    ticket: TicketOut


class TransferRequest(StrictBody):
    category_id: str = Field(min_length=1, max_length=40)


class CallRequest(StrictBody):
    counter_id: str = Field(min_length=1, max_length=40)


class CallNextRequest(StrictBody):
    finish_current: bool = False


class CounterStateRequest(StrictBody):
    state: Literal["open", "paused", "closed"]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    role: str


def _ticket_json(c: ContainerDep, view: TicketView) -> dict[str, Any]:
    return {"ticket": view.as_json(c.service.zone)}


@router.post(
    "/auth/token",
    response_model=TokenOut,
    tags=["auth"],
    responses={
        401: {"description": "wrong user name or password"},
        429: {"description": "locked out after failed logins; see Retry-After"},
    },
)
def log_in(
    c: ContainerDep,
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
) -> JSONResponse:
    """OAuth2 password flow for staff: returns a bearer token. After a few failures the account
    and the address are locked out for a growing time (429 + `Retry-After`), during which even
    the right password is refused."""
    address = request.client.host if request.client else "unknown"
    c.throttle.check(username, address)
    try:
        token, staff, expires = c.accounts.log_in(username, password)
    except InvalidCredentials:
        c.throttle.failed(username, address)
        known = c.accounts.user_exists(username)
        c.audit.record(
            f"staff:{username}" if known else "unknown-user",
            "login.failed",
            detail=f"address={address}",
        )
        raise
    c.throttle.succeeded(username)
    c.audit.record(f"staff:{staff.name}", "login", detail=f"address={address}")
    body = TokenOut(access_token=token, expires_at=expires, role=staff.role)
    return JSONResponse(body.model_dump(mode="json"), headers=NO_STORE)


@router.post("/auth/logout", status_code=204, tags=["auth"], response_class=Response)
def log_out(c: ContainerDep, who: CallerDep, token: TokenDep) -> Response:
    """End this staff session: the token stops working at once, here and on open WebSockets."""
    if who.staff is None:
        raise ApiError(403, "forbidden", "devices have no session to end; an admin revokes them")
    c.accounts.log_out(token)
    c.revoked()
    c.audit.record(who.name, "logout")
    return Response(status_code=204, headers=NO_STORE)


@router.post(
    "/tickets",
    status_code=201,
    response_model=TicketEnvelope,
    response_class=JSONResponse,
    tags=["tickets"],
)
async def issue_ticket(c: ContainerDep, who: IssuerDep, body: IssueRequest) -> JSONResponse:
    """Issue the next number of a category (kiosk device token or staff).

    `ahead` is exact; the estimate is the current queue state's for that place (`seq` says
    which state)."""
    view = await asyncio.wrap_future(
        c.service.issue_ticket_later(
            body.category_id,
            body.language,
            Priority(body.priority),
            who.name,
            code=body.code,
            request=body.request,
        )
    )
    return JSONResponse(_ticket_json(c, view), status_code=201, headers=NO_STORE)


class CodeRequest(StrictBody):
    code: str = Field(min_length=1, max_length=1000)


@router.post("/codes/verify", tags=["tickets"])
def verify_code(c: ContainerDep, _: IssuerDep, body: CodeRequest) -> dict[str, Any]:
    """Check a scanned reservation or pre-application code: 422 `code_unknown`,
    `code_tampered` or `code_expired`, 409 `code_used`; nothing changes either way."""
    code = c.service.verify_code(body.code)
    return {
        "code": jsonable(
            {
                "kind": code.kind,
                "category_id": code.category_id,
                "reference": code.reference,
                "expires_at": code.expires_at,
                "priority": code.priority,
            },
            c.service.zone,
        )
    }


@router.get("/tickets/by-public-id/{public_id}", tags=["public"])
async def ticket_by_public_id(c: ContainerDep, public_id: str) -> dict[str, Any]:
    """A ticket's state, people ahead, estimate and counter (the slip's QR). Public.

    Open tickets are answered from the computed queue state (`seq` says which)."""
    found = c.hub.state.public_ticket(public_id)
    if found is None:
        found = await run_in_threadpool(c.service.public_ticket, public_id)
    return {"ticket": found}


@router.get("/tickets/{ticket_id}", response_model=TicketEnvelope, tags=["tickets"])
def get_ticket(c: ContainerDep, _: ClerkDep, ticket_id: TicketId) -> dict[str, Any]:
    return _ticket_json(c, c.service.ticket(ticket_id))


_ACTIONS = {a.value: a for a in Action if a not in (Action.ISSUE, Action.CALL, Action.CLOSE_OUT)}


@router.post("/tickets/{ticket_id}/{action}", response_model=TicketEnvelope, tags=["tickets"])
def act_on_ticket(
    c: ContainerDep,
    who: ClerkDep,
    ticket_id: TicketId,
    action: str,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Clerk actions: call (body `counter_id`), recall, start, finish, no-show, return,
    transfer (body `category_id`), hold, resume, cancel."""
    if action == "call":
        call = CallRequest.model_validate(body or {})
        return _ticket_json(c, c.service.call_ticket(ticket_id, call.counter_id, who.name))
    if action not in _ACTIONS:
        raise ApiError(
            404,
            "unknown_action",
            f"unknown action {action!r}; use one of call, {', '.join(_ACTIONS)}",
        )
    category_id = None
    if _ACTIONS[action] is Action.TRANSFER:
        category_id = TransferRequest.model_validate(body or {}).category_id
    elif body:
        raise ApiError(422, "validation_error", f"{action} takes no request body")
    return _ticket_json(c, c.service.act(ticket_id, _ACTIONS[action], who.name, category_id))


@router.post(
    "/counters/{counter_id}/call-next",
    response_model=TicketEnvelope,
    tags=["counters"],
    responses={204: {"description": "nobody this counter serves is waiting"}},
)
def call_next(
    c: ContainerDep, who: ClerkDep, counter_id: str, body: CallNextRequest | None = None
) -> Any:
    """Call the next ticket for this counter (its categories in priority order, then oldest).

    `{"finish_current": true}` first finishes the ticket at the counter, in the same step."""
    finish = body.finish_current if body is not None else False
    view = c.service.call_next(counter_id, who.name, finish_current=finish)
    if view is None:
        return Response(status_code=204)
    return _ticket_json(c, view)


@router.post("/counters/{counter_id}/state", tags=["counters"])
def set_counter_state(
    c: ContainerDep, who: ClerkDep, counter_id: str, body: CounterStateRequest
) -> dict[str, Any]:
    """Open, pause or close a counter."""
    return {"counter": c.service.set_counter_state(counter_id, body.state, who.name)}


@router.get("/queue", tags=["counters"])
def waiting(c: ContainerDep, _: ClerkDep, category_id: str | None = None) -> dict[str, Any]:
    """Today's waiting tickets in call order, with estimates (clerks)."""
    return {"tickets": jsonable(c.service.waiting(category_id), c.service.zone)}


@router.get("/status", tags=["public"])
async def status(c: ContainerDep, request: Request) -> Response:
    """Per category: waiting, numbers called and where, estimate, congestion lamp; per counter
    its state. Public. Served from the computed queue state: `ETag` changes with its seq and
    tick, `If-None-Match` answers 304, and caches may keep it for a few seconds."""
    state = c.hub.state
    headers = {"ETag": state.etag, "Cache-Control": f"public, max-age={STATUS_MAX_AGE}"}
    if request.headers.get("if-none-match") == state.etag:
        return Response(status_code=304, headers=headers)
    return Response(state.status_json, media_type="application/json", headers=headers)


@router.get("/office", tags=["public"])
def office(c: ContainerDep) -> JSONResponse:
    """The office configuration for kiosks and pages: categories, names, hours. Public."""
    return JSONResponse(jsonable(c.service.office_info(), c.service.zone))


@router.get("/health", tags=["public"])
async def health(c: ContainerDep) -> dict[str, Any]:
    """Whether the server answers, and the office's latest seq. Public: no internals (see
    `/api/v1/admin/health`)."""
    seq = await run_in_threadpool(c.stores.current_seq)
    return {"ok": True, "seq": seq}
