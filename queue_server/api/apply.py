"""The residents' pre-application page (行かなくてもいい・待たせない), served from local files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)
WEB = Path(__file__).resolve().parent / "web"
_TYPES = {"apply.js": "text/javascript", "apply.css": "text/css"}


@router.get("/apply")
def apply_page() -> FileResponse:
    return FileResponse(WEB / "apply.html", media_type="text/html")


@router.get("/apply/{name}")
def apply_asset(name: str) -> FileResponse:
    from queue_server.api.errors import ApiError

    if name not in _TYPES:
        raise ApiError(404, "not_found", "no such file")
    return FileResponse(WEB / name, media_type=_TYPES[name])
