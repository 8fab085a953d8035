"""`Mailer` over SMTP (standard library): plain, STARTTLS or implicit TLS, chosen by URL."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class SmtpMailer:
    """Sends each message on its own connection (reminders are few; nothing stays open)."""

    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ValueError("smtp_url must look like smtp://host:25, smtp+starttls:// or smtps://")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or _SCHEMES[parts.scheme]
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._sender = sender
        self._timeout = timeout

    def send(self, to: str, subject: str, body: str, unsubscribe_url: str | None = None) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        if unsubscribe_url is not None:
            # RFC 8058: mail programs offer "unsubscribe" and POST the one-click body to it.
            message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(body)
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self._scheme == "smtps":
            client = smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=context
            )
        else:
            client = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        with client:
            if self._scheme == "smtp+starttls":
                client.starttls(context=context)
            if self._user is not None:
                client.login(self._user, self._password or "")
            client.send_message(message)
