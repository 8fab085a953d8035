"""The unsubscribe link's page: GET only asks (a mail scanner following links stops nothing),
its one button POSTs to the same URL and stops; RFC 8058 one-click POST acts at once."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import create_engine, func, select
from support.server import app_client, bearer
from tests_constants import OPEN_MOMENT

import visitor_text
from display_board.public_pages import REMINDER_TOKEN_PREFIX
from queue_server.adapters import tables as t
from queue_server.service import reminding
from queue_server.service.ports import FakeClock


def count_subscriptions(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(select(func.count()).select_from(t.notice_subscriptions))
        n = int(found.scalar_one())
    engine.dispose()
    return n


def test_get_asks_and_only_the_buttons_post_stops(sqlite_url: str, tmp_path: Path) -> None:
    clock = FakeClock(OPEN_MOMENT)
    with app_client(sqlite_url, clock, smtp_url="smtp://127.0.0.1:9", data_dir=tmp_path) as (
        client,
        tokens,
        _,
    ):
        ticket = client.post(
            "/api/v1/tickets", json={"category_id": "koseki"}, headers=bearer(tokens.kiosk)
        ).json()["ticket"]
        body = {"public_id": ticket["public_id"], "channel": "email", "address": "a@example.jp"}
        made = client.post("/api/v1/notify/subscribe", json=body)
        assert made.status_code == 201, made.text
        token = made.json()["subscription"]["token"]
        link = f"/notify/unsubscribe/{token}"

        for _ in range(3):  # a mail scanner, a link preview, the resident opening it
            page = client.get(link)
            assert page.status_code == 200
        assert count_subscriptions(sqlite_url) == 1
        for lang in visitor_text.LANGUAGES:
            assert visitor_text.text(lang, "reserve.unsubscribe_ask") in page.text
        forms = re.findall(r"<form[^>]*>", page.text)
        assert forms == ['<form method="post">']  # to the page's own URL
        assert page.text.count("<button") == 1
        assert token not in page.text
        assert "<script" not in page.text and "<link" not in page.text and "http" not in page.text
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "form-action 'self'" in csp
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"

        # The button: what the browser posts for the form (an empty form body).
        stopped = client.post(link, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert stopped.status_code == 200
        assert visitor_text.text("ko", "reserve.notify_stopped") in stopped.text
        assert "<form" not in stopped.text
        assert count_subscriptions(sqlite_url) == 0
        assert client.post(link).status_code == 200  # a second tap changes nothing


def test_the_reminder_prefix_is_the_services() -> None:
    assert REMINDER_TOKEN_PREFIX == reminding.REMINDER_TOKEN_PREFIX


def test_the_link_opens_the_page_in_the_residents_language(sqlite_url: str, tmp_path: Path) -> None:
    clock = FakeClock(OPEN_MOMENT)
    with app_client(sqlite_url, clock, smtp_url="smtp://127.0.0.1:9", data_dir=tmp_path) as (
        client,
        tokens,
        _,
    ):
        ticket = client.post(
            "/api/v1/tickets", json={"category_id": "koseki"}, headers=bearer(tokens.kiosk)
        ).json()["ticket"]
        body = {
            "public_id": ticket["public_id"],
            "channel": "email",
            "address": "b@example.jp",
            "language": "vi",
        }
        made = client.post("/api/v1/notify/subscribe", json=body)
        assert made.status_code == 201, made.text
        link = made.json()["subscription"]["unsubscribe_url"]
        assert link.endswith("?lang=vi")
        parts = urlsplit(link)
        relative = f"{parts.path}?{parts.query}"
        page = client.get(relative)
        assert '<html lang="vi">' in page.text
        assert visitor_text.text("vi", "reserve.unsubscribe_button") in page.text
        assert visitor_text.text("ja", "reserve.unsubscribe_ask") in page.text  # for helpers
        assert visitor_text.text("en", "reserve.unsubscribe_ask") not in page.text
        stopped = client.post(relative)
        assert visitor_text.text("vi", "reserve.notify_stopped") in stopped.text
        # A language that is not a visitor language is not trusted: every language instead.
        odd = client.get(f"/notify/unsubscribe/{made.json()['subscription']['token']}?lang=xx")
        assert '<html lang="ja">' in odd.text and 'lang="xx"' not in odd.text
        for lang in visitor_text.LANGUAGES:
            assert visitor_text.text(lang, "reserve.notify_stopped") not in odd.text
            assert visitor_text.text(lang, "reserve.unsubscribe_ask") in odd.text
