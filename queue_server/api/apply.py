"""The residents' pre-application page (行かなくてもいい・待たせない), served from local files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from queue_server.api.pages import PAGE_HEADERS

router = APIRouter(include_in_schema=False)
WEB = Path(__file__).resolve().parent / "web"
_TYPES = {"apply.js": "text/javascript", "apply.css": "text/css"}


@router.get("/apply")
def apply_page() -> FileResponse:
    # Residents type their name, address and birth date here: the same CSP, frame-ancestors,
    # nosniff and referrer policy as every other page.
    return FileResponse(WEB / "apply.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/apply/{name}")
def apply_asset(name: str) -> FileResponse:
    from queue_server.api.errors import ApiError

    if name not in _TYPES:
        raise ApiError(404, "not_found", "no such file")
    return FileResponse(WEB / name, media_type=_TYPES[name], headers=PAGE_HEADERS)
