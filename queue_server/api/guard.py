"""Open WebSockets lose their stream within a second of their token being revoked or expiring.

A token is checked at `hello`; afterwards the guard re-checks the tokens of every open
authenticated socket twice a second in one batched read (no password hashing), so a disabled
user, a logged-out session, an expired staff token or a revoked device is cut off wherever it was
revoked: the admin API, the CLI, or another server process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)
#: How often open sockets' tokens are re-checked (seconds).
CHECK_SECONDS = 0.5


class SocketGuard:
    """Tokens of open sockets and what to call when one stops being valid."""

    def __init__(
        self, valid_tokens: Callable[[set[str]], set[str]], every: float = CHECK_SECONDS
    ) -> None:
        self._valid_tokens = valid_tokens
        self._every = every
        self._watched: dict[int, tuple[str, Callable[[], None]]] = {}
        self._next = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def watch(self, token: str, revoked: Callable[[], None]) -> int:
        """Call `revoked` (once) when `token` stops being valid; the key to `unwatch`."""
        self._next += 1
        self._watched[self._next] = (token, revoked)
        return self._next

    def unwatch(self, key: int) -> None:
        self._watched.pop(key, None)

    def check_soon(self) -> None:
        """Something was revoked in this process: check now rather than at the next tick."""
        self._wake.set()

    async def check(self) -> int:
        """Re-check every watched token once; how many sockets were cut off."""
        if not self._watched:
            return 0
        tokens = {token for token, _ in self._watched.values()}
        valid = await asyncio.to_thread(self._valid_tokens, tokens)
        cut = 0
        for key, (token, revoked) in list(self._watched.items()):
            if token not in valid:
                self._watched.pop(key, None)
                revoked()
                cut += 1
        return cut

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._every)
            self._wake.clear()
            try:
                await self.check()
            except Exception as exc:  # the database is briefly away: the next tick retries
                logger.warning("token re-check failed (%s)", type(exc).__name__)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
