"""A proxy between the queue server and the relay that loses one message on purpose."""

from __future__ import annotations

import asyncio
import json
import threading
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp import web

from support.server import free_port


async def _cancel_the_rest() -> None:
    """End what a long poll left running, so the loop closes cleanly."""
    rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


_PASSED = ("Content-Type", "X-Madoguchi-Timestamp", "X-Madoguchi-Signature")


class _ServerInAThread:
    """An aiohttp server on its own event loop in a thread, at `self.url`, for a `with` block;
    subclasses add their routes."""

    def __init__(self) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        app = web.Application()
        self._routes(app)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", int(self.url.rsplit(":", 1)[1])).start()
        self._stop = asyncio.Event()
        self._started.set()
        await self._stop.wait()
        await runner.cleanup()
        await _cancel_the_rest()

    def __enter__(self) -> Self:
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        if not self._thread.is_alive():
            self._loop.close()


class DroppingProxy(_ServerInAThread):
    """Forwards everything to `target`, except that it loses one message:

    - `drop="/answer"`: the first `/answer` call never reaches the relay (the queue server's
      answers are lost on the way);
    - `drop="/pull-reply-with-requests"`: the first `/pull` reply that carries requests is lost
      on its way back (the relay handed them out; the queue server never got them).
    """

    def __init__(self, target: str, drop: str) -> None:
        self._target = target.rstrip("/")
        self._drop = drop
        self.dropped = 0
        super().__init__()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self._drop == request.path and not self.dropped:
            self.dropped += 1
            return web.Response(status=502, text="lost on the way")
        headers = {k: request.headers[k] for k in _PASSED if k in request.headers}
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
            session.request(
                request.method, self._target + request.path_qs, data=body, headers=headers
            ) as answer,
        ):
            data = await answer.read()
            back = {k: answer.headers[k] for k in _PASSED if k in answer.headers}
            status = answer.status
        if (
            self._drop == "/pull-reply-with-requests"
            and request.path == "/pull"
            and not self.dropped
            and status == 200
            and json.loads(data).get("requests")
        ):
            self.dropped += 1
            return web.Response(status=502, text="lost on the way back")
        return web.Response(body=data, status=status, headers=back)

    def _routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{path:.*}", self._forward)


class FakeRelay(_ServerInAThread):
    """A relay that offers one booking request to the queue server's pull, with a reply that is
    honest, or signed with another secret (`forged`), or answers another call (`replayed`: the
    nonce of an earlier reply), or stale (`stale`: signed an hour ago). Records the answers."""

    def __init__(self, secret: bytes, booking: dict[str, object], mode: str = "honest") -> None:
        self._secret = secret
        self._booking = booking
        self._mode = mode
        self._offered = False
        self.answers: list[dict[str, object]] = []
        self.pulls = 0
        super().__init__()

    async def _push(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"seq": 0})

    async def _pull(self, request: web.Request) -> web.Response:
        import time

        from relay.protocol import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

        call = json.loads(await request.read())
        self.pulls += 1
        requests = []
        if not self._offered:
            self._offered = True
            requests = [
                {
                    "id": "fake-request-0123456789",
                    "path": "/api/v1/reservations",
                    "body": self._booking,
                }
            ]
        else:
            await asyncio.sleep(0.5)
        nonce = "an-earlier-nonce-0123456789" if self._mode == "replayed" else call["nonce"]
        data = json.dumps({"nonce": nonce, "requests": requests}).encode()
        at = time.time() - (3600 if self._mode == "stale" else 0)
        secret = (
            b"not-the-shared-secret-0123456789abcdef" if self._mode == "forged" else self._secret
        )
        stamp = f"{at:.3f}"
        headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, data)}
        return web.Response(body=data, content_type="application/json", headers=headers)

    async def _answer(self, request: web.Request) -> web.Response:
        call = json.loads(await request.read())
        self.answers.extend(call["answers"])
        return web.Response(status=500)  # the queue server does not need this reply

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/push", self._push)
        app.router.add_post("/pull", self._pull)
        app.router.add_post("/answer", self._answer)
