"""The kiosk's link to the queue server: REST calls (httpx) and the live `kiosk` WebSocket feed.

Everything here blocks, so the UI calls it from worker threads, never the GUI thread. Errors
come back as `ServerError` with the server's stable code; a server that cannot be reached is
the code `server_unreachable`, so the flow shows its notice and never invents a number.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import httpx

log = logging.getLogger(__name__)

UNREACHABLE = "server_unreachable"


class ServerError(Exception):
    """The server refused a request (its error code) or could not be reached."""

    def __init__(self, code: str, message: str = "", status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status


class KioskClient:
    """The server API as the kiosk uses it, with the kiosk's device token."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {token}"},
        )
        self.token = token

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, f"/api/v1{path}", json=body)
        except httpx.HTTPError as exc:
            # No response at all: connection refused, DNS, timeout. The message names the
            # exception type only; URLs and bodies stay out of the logs.
            raise ServerError(UNREACHABLE, type(exc).__name__) from exc
        if response.status_code >= 500 and response.status_code != 503:
            raise ServerError(UNREACHABLE, f"HTTP {response.status_code}", response.status_code)
        try:
            data = response.json()
        except ValueError:
            raise ServerError(UNREACHABLE, "not JSON", response.status_code) from None
        if response.is_success:
            return data
        error = data.get("error", {}) if isinstance(data, dict) else {}
        code, message = str(error.get("code") or "refused"), str(error.get("message") or "")
        raise ServerError(code, message, response.status_code)

    def office(self) -> dict[str, Any]:
        """Names, hours and categories (`GET /api/v1/office`)."""
        result: dict[str, Any] = self._call("GET", "/office")
        return result

    def status(self) -> dict[str, Any]:
        """Live figures (`GET /api/v1/status`), the fallback when the feed is down."""
        result: dict[str, Any] = self._call("GET", "/status")
        return result

    def forms(self) -> dict[str, Any]:
        """The request forms' questions (`GET /api/v1/forms`; no personal data)."""
        result: dict[str, Any] = self._call("GET", "/forms")
        return result

    def issue(
        self,
        category_id: str,
        language: str,
        priority: str = "normal",
        code: str | None = None,
        request: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Issue a ticket; with a verified code the server takes category and priority from it.

        `request` ({"form", "fields"}) is a prefilled request; a refusal (`form_invalid`) names
        fields only, and nothing here logs the body."""
        body: dict[str, Any] = {"category_id": category_id, "language": language}
        if code:
            body["code"] = code
        else:
            body["priority"] = priority
        if request is not None:
            body["request"] = dict(request)
        ticket: dict[str, Any] = self._call("POST", "/tickets", body)["ticket"]
        return ticket

    def verify_code(self, text: str) -> dict[str, Any]:
        """What a scanned code stands for; raises ServerError code_unknown/tampered/expired."""
        code: dict[str, Any] = self._call("POST", "/codes/verify", {"code": text})["code"]
        return code

    def report_print(
        self,
        ticket_id: int,
        printed: bool,
        reason: str | None,
        printer_status: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """Tell the server whether the slip came out (a failure alerts the staff)."""
        body = {
            "outcome": "printed" if printed else "failed",
            "reason": reason,
            "printer_status": dict(printer_status) if printer_status is not None else None,
        }
        result: dict[str, Any] = self._call("POST", f"/tickets/{ticket_id}/print-outcome", body)
        return result

    def report_health(self, printer_status: Mapping[str, Any]) -> None:
        """Report the printer's state so staff see paper out before a visitor does."""
        self._call("POST", "/devices/me/health", {"printer": dict(printer_status)})

    def ws_url(self) -> str:
        base = self.base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return f"{base}/ws/kiosk"


class StatusFeed:
    """The `kiosk` WebSocket channel in its own thread: snapshot, then status/event messages.

    `on_status(status)` gets every snapshot and status; `on_connection(bool)` every change of
    link state. A seq gap asks for a resync; a lost link reconnects with a growing pause (and a
    reconnect always starts from a fresh snapshot, so no stale figures survive it).
    """

    def __init__(
        self,
        url: str,
        token: str,
        on_status: Callable[[dict[str, Any]], None],
        on_connection: Callable[[bool], None],
        max_pause_s: float = 5.0,
    ) -> None:
        self.url = url
        self._token = token
        self._on_status = on_status
        self._on_connection = on_connection
        self._max_pause_s = max_pause_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-status-feed", daemon=True)
        self.connected = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self._on_connection(connected)

    def _run(self) -> None:
        pause = 0.2
        while not self._stop.is_set():
            try:
                self._session()
                pause = 0.2
            except Exception as exc:  # any failure of the link means: reconnect
                log.info("kiosk feed lost: %s", type(exc).__name__)
            self._set_connected(False)
            self._stop.wait(pause)
            pause = min(self._max_pause_s, pause * 2)

    def _session(self) -> None:
        from websockets.sync.client import connect

        with connect(self.url, open_timeout=3, close_timeout=1) as ws:
            ws.send(json.dumps({"type": "hello", "token": self._token}))
            seq: int | None = None
            while not self._stop.is_set():
                try:
                    raw = ws.recv(timeout=0.5)
                except TimeoutError:
                    continue
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "error":
                    raise ServerError(str(message.get("code")), str(message.get("message")))
                if kind == "snapshot":
                    seq = message.get("seq", seq)
                    self._set_connected(True)
                    self._on_status(message["status"])
                elif kind == "status":
                    # Figures older than the events already seen would undo them: skip those.
                    if seq is None or message.get("seq", seq) >= seq:
                        self._set_connected(True)
                        self._on_status(message["status"])
                elif kind == "event":
                    if seq is not None and message.get("seq") != seq + 1:
                        ws.send(json.dumps({"type": "resync"}))
                    seq = message.get("seq")
