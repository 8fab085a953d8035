"""Headers every answer gets: `nosniff`, and `no-store` on anything asked with a token.

An answer to an authenticated request (a ticket, a queue, a prefilled request) must not stay in
a browser's or proxy's cache on a shared counter PC. Routes that set their own Cache-Control
(public status, assets) keep it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        private = any(name == b"authorization" for name, _ in scope["headers"]) or scope[
            "path"
        ].startswith("/api/v1/auth/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if private:
                    headers = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, send_with_headers)
