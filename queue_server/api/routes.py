"""The HTTP API (v1). Thin: validate, call one use case, shape the answer."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from queue_server.adapters.accounts import InvalidCredentials
from queue_server.api.deps import CallerDep, ClerkDep, ContainerDep, IssuerDep, TokenDep
from queue_server.api.errors import ApiError
from queue_server.domain.forms import FORMS
from queue_server.domain.office import LANGUAGES
from queue_server.domain.ticket import Action, Priority
from queue_server.service.form_words import form_schema
from queue_server.service.jsonable import jsonable
from queue_server.service.views import TicketView

router = APIRouter(prefix="/api/v1")
#: Seconds a browser or proxy may reuse a status (the state moves at most a few times a second).
STATUS_MAX_AGE = 2
NO_STORE = {"Cache-Control": "no-store"}
#: Ticket ids are 64-bit database keys: a larger number is refused before it reaches SQL.
MAX_ID = 2**63 - 1
TicketId = Annotated[int, Path(ge=1, le=MAX_ID)]


class _Body(BaseModel):
    # strict: `"yes"` is not a boolean and `"5"` is not a number (JSON has the real types).
    model_config = ConfigDict(extra="forbid", strict=True)


class IssueRequest(_Body):
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


class TransferRequest(_Body):
    category_id: str = Field(min_length=1, max_length=40)


class CallRequest(_Body):
    counter_id: str = Field(min_length=1, max_length=40)


class CallNextRequest(_Body):
    finish_current: bool = False


class CounterStateRequest(_Body):
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


class PreapplicationRequest(_Body):
    category_id: str = Field(min_length=1, max_length=40)
    form: str = Field(min_length=1, max_length=40)
    fields: dict[str, Any]
    language: str = "ja"


@router.get("/forms", tags=["requests"])
def list_forms() -> dict[str, Any]:
    """The request forms (questions only, no data) kiosks and pages render. Public."""
    return {"forms": [form_schema(spec) for spec in FORMS.values()]}


@router.post("/preapplications", status_code=201, tags=["requests"])
def preapply(c: ContainerDep, body: PreapplicationRequest) -> dict[str, Any]:
    """A resident fills the form at home; the answer holds the code for the QR (no data)."""
    result = c.service.preapply(body.category_id, body.form, body.fields, body.language)
    answer = jsonable(result, c.service.zone)
    answer["qr_svg"] = _qr_svg(result["code"])
    return {"preapplication": answer}


def _qr_svg(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=4)
    return str(image.to_string(encoding="unicode"))


@router.get("/tickets/{ticket_id}/request", tags=["requests"])
def ticket_request(c: ContainerDep, who: ClerkDep, ticket_id: TicketId) -> dict[str, Any]:
    """The ticket's prefilled request and fee total (clerks; every access is audit-logged)."""
    return {"request": jsonable(c.service.ticket_request(ticket_id, who.name), c.service.zone)}


@router.get("/tickets/{ticket_id}/request.pdf", tags=["requests"], response_class=Response)
def ticket_request_pdf(c: ContainerDep, who: ClerkDep, ticket_id: TicketId) -> Response:
    """The completed request as an A4 PDF for the visitor to check and sign (audit-logged)."""
    number, pdf = c.service.request_pdf(ticket_id, who.name)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="request-{number}.pdf"'},
    )


class CodeRequest(_Body):
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


class PrintOutcomeRequest(_Body):
    outcome: Literal["printed", "failed"]
    reason: str | None = Field(default=None, max_length=40, pattern=r"^[a-z_]+$")
    printer_status: dict[str, Any] | None = None


class HealthRequest(_Body):
    printer: dict[str, str | bool | None] | None = None


class ReprintRequest(_Body):
    printer_id: str = Field(min_length=1, max_length=40)


@router.post("/tickets/{ticket_id}/print-outcome", tags=["printing"])
def print_outcome(
    c: ContainerDep, who: IssuerDep, ticket_id: TicketId, body: PrintOutcomeRequest
) -> dict[str, Any]:
    """The kiosk reports whether the slip came out. On failure the answer carries what the kiosk
    shows instead (number and QR target), and staff get a `ticket.print_failed` alert."""
    view = c.service.record_print(
        ticket_id, body.outcome, body.reason, who.name, own_only=who.device is not None
    )
    if body.printer_status is not None and who.device is not None:
        c.service.report_health(who.device.name, {"printer": body.printer_status})
    answer: dict[str, Any] = {"ticket": view.as_json(c.service.zone)}
    if body.outcome == "failed":
        answer["fallback"] = {
            "number": view.number,
            "status_url": view.status_url,
            "message_ja": "番号札を印刷できませんでした。この画面の番号をお控えいただくか、"
            "QRコードを読み取ってください。",
            "message_en": "The slip could not be printed. Please note the number on the screen"
            " or scan the QR code.",
        }
    return answer


@router.post("/tickets/{ticket_id}/reprint", tags=["printing"])
def reprint(
    c: ContainerDep, who: ClerkDep, ticket_id: TicketId, body: ReprintRequest
) -> dict[str, Any]:
    """Print the ticket's slip again on one of the office's printers (now, or not at all)."""
    result: dict[str, Any] = jsonable(
        c.service.reprint(ticket_id, body.printer_id, who.name), c.service.zone
    )
    return result


@router.get("/printers", tags=["printing"])
def printers(c: ContainerDep, _: ClerkDep) -> dict[str, Any]:
    """Printers the server can print on."""
    return {"printers": c.service.printers()}


@router.post("/devices/me/health", tags=["devices"])
def device_health(c: ContainerDep, who: CallerDep, body: HealthRequest) -> dict[str, Any]:
    """A kiosk or board reports its health (e.g. its printer: online, paper, cover)."""
    if who.device is None:
        raise ApiError(403, "forbidden", "only devices report their health")
    changed = c.service.report_health(who.device.name, body.model_dump(exclude_none=True))
    return {"device": who.device.name, "changed": changed}


@router.get("/devices", tags=["devices"])
def devices(c: ContainerDep, _: ClerkDep) -> dict[str, Any]:
    """Kiosks and boards with their last health report: printer alerts for staff."""
    return {"devices": jsonable(c.service.devices(), c.service.zone)}


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
