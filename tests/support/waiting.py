"""Waiting for something another process does: poll until it holds, or fail with why."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

#: What a check may raise while the other side is not there yet (not up, not pushed yet).
NOT_YET: tuple[type[Exception], ...] = (httpx.HTTPError, KeyError, AssertionError, StopIteration)


def eventually(check: Callable[[], Any], seconds: float = 20.0, interval: float = 0.2) -> Any:
    """`check()`'s first truthy result within `seconds`; after that, its last error, or an
    AssertionError when it only returned something falsy."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = check()
        except NOT_YET:
            if time.monotonic() > deadline:
                raise
        else:
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met in {seconds} s")
        time.sleep(interval)
