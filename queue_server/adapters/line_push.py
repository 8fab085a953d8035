"""`Mailer` (one message to one address) over the LINE Messaging API's push endpoint.

The address is the LINE user id the resident's browser got from the office's LINE login or
official account (`U` and 32 hex digits). Only the text is sent: number, counter, and the
unsubscribe link. Enabled by `MADOGUCHI_LINE_CHANNEL_TOKEN`; `MADOGUCHI_LINE_API_URL` points
elsewhere for tests.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request


class LinePushError(RuntimeError):
    """The Messaging API did not take the message."""


class LineNotifier:
    def __init__(
        self, channel_token: str, api_url: str = "https://api.line.me", timeout: float = 10.0
    ) -> None:
        self._token = channel_token
        self._url = api_url.rstrip("/") + "/v2/bot/message/push"
        self._timeout = timeout

    def send(self, to: str, subject: str, body: str, unsubscribe_url: str | None = None) -> None:
        payload = {"to": to, "messages": [{"type": "text", "text": body[:5000]}]}
        request = urllib.request.Request(
            self._url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                if not 200 <= response.status < 300:
                    raise LinePushError(f"LINE answered {response.status}")
        except urllib.error.HTTPError as exc:
            raise LinePushError(f"LINE answered {exc.code}") from None
        except urllib.error.URLError as exc:
            raise LinePushError("LINE could not be reached") from exc
