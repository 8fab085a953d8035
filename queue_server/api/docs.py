"""The interactive API docs (Swagger UI, ReDoc) with their scripts from an installed package.

City networks have no internet and the product loads nothing from a CDN. The assets come from
the `fastapi-offline` package; in production mode (or without that package) there are no docs
pages at all, only `/openapi.json` for integrators.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from queue_server.api.errors import ApiError

_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


def _static() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:
        return None
    found = Path(fastapi_offline.__file__).resolve().parent / "static"
    return found if all((found / name).is_file() for name in _ASSETS) else None


def install(app: FastAPI, production: bool) -> bool:
    """Add /docs and /redoc served from local files; False when there are none."""
    static = _static()
    if production or static is None:
        return False
    title = f"{app.title} — API"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=title,
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )
        page.headers.update(_HEADERS)
        return page

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url="/openapi.json",
            title=title,
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url="/docs-assets/favicon.png",
            with_google_fonts=False,
        )
        page.headers.update(_HEADERS)
        return page

    @app.get("/docs-assets/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        if name not in _ASSETS:
            raise ApiError(404, "not_found", "no such file")
        return FileResponse(static / name, media_type=_ASSETS[name], headers=_HEADERS)

    return True
