"""The request forms (書かない窓口): the questions, a resident's pre-application, and the
prefilled request a clerk opens as JSON or PDF."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field

from queue_server.api.deps import ClerkDep, ContainerDep
from queue_server.api.params import StrictBody, TicketId
from queue_server.domain.forms import FORMS
from queue_server.service.form_words import form_schema
from queue_server.service.jsonable import jsonable

router = APIRouter(prefix="/api/v1")


class PreapplicationRequest(StrictBody):
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
    answer["qr_svg"] = qr_svg(result["code"])
    return {"preapplication": answer}


def qr_svg(text: str) -> str:
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
