"""The ticket page's notice panel on the public relay, in Chromium: subscribe by e-mail on the
relay's page (the relay answers 202 and the page follows it while the queue server pulls the
request), the mail arrives at a local SMTP server when N are ahead, its unsubscribe link opens
the relay's page whose one button stops the notices; Web Push registers the relay's /sw.js."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect
from sqlalchemy import create_engine, select
from support.mail import Inbox, smtp_inbox
from support.push import SUBJECT, FakePushService, browser_subscription, fake_push_service
from support.server import RELAY_SECRET, Tokens, bearer, prepare, relay_process, server_process
from test_ticket_notices import FAKE_PUSH_MANAGER

import visitor_text
from queue_server.adapters import tables as t
from queue_server.service.ports import SystemClock

CANARY = "canary-relay-5e1d@example.jp"
LOGS = Path(os.environ.get("TMPDIR", "/tmp"))


def wait_for(condition: Callable[[], Any], seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
    return found


class Deployment:
    """A relay (every POST answers 202 first: --answer-wait 0) and a queue server that pushes
    to it, pulls from it, and writes its links with the relay as the public base URL."""

    def __init__(self, relay: str, server: str, tokens: Tokens, url: str) -> None:
        self.relay, self.server, self.tokens, self.url = relay, server, tokens, url

    def issue(self, category: str) -> dict[str, Any]:
        answer = httpx.post(
            f"{self.server}/api/v1/tickets",
            json={"category_id": category},
            headers=bearer(self.tokens.kiosk),
        )
        ticket: dict[str, Any] = answer.json()["ticket"]
        path = f"/api/v1/tickets/by-public-id/{ticket['public_id']}"
        wait_for(lambda: httpx.get(f"{self.relay}{path}").status_code == 200)
        return ticket

    def serve_next(self, counter: str) -> None:
        answer = httpx.post(
            f"{self.server}/api/v1/counters/{counter}/call-next",
            json={"finish_current": True},
            headers=bearer(self.tokens.clerk),
        )
        assert answer.status_code in (200, 204), answer.text

    def logs(self) -> str:
        ports = (self.relay.rsplit(":", 1)[1], self.server.rsplit(":", 1)[1])
        names = (f"madoguchi-relay-{ports[0]}.log", f"madoguchi-server-{ports[1]}.log")
        return "\n".join((LOGS / n).read_text(errors="replace") for n in names)

    def subscriptions(self) -> list[str]:
        engine = create_engine(self.url)
        with engine.connect() as connection:
            found = connection.execute(select(t.notice_subscriptions.c.address)).scalars().all()
        engine.dispose()
        return list(found)


@pytest.fixture(scope="module")
def mail() -> Iterator[tuple[Inbox, int]]:
    with smtp_inbox() as found:
        yield found


@pytest.fixture(scope="module")
def push_url() -> Iterator[str]:
    with fake_push_service() as url:
        yield url


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, mail: tuple[Inbox, int], push_url: str
) -> Iterator[Deployment]:
    work = tmp_path_factory.mktemp("relay-notices")
    url = f"sqlite:///{work / 'm.db'}"
    engine, tokens = prepare(url, SystemClock(), always_open=True)
    engine.dispose()
    with relay_process(options=("--answer-wait", "0")) as relay:
        settings = {
            "relay_push_url": relay,
            "relay_push_secret": RELAY_SECRET,
            "public_base_url": relay,
            "secret_key": "relay-notices-browser-secret-0123456789",
            "smtp_url": f"smtp://127.0.0.1:{mail[1]}",
            "mail_from": "madoguchi@city.example.jp",
            "web_push": "true",
            "vapid_subject": SUBJECT,
            "notice_seconds": "0.2",
            "data_dir": str(work / "data"),
        }
        with server_process(url, **settings) as server:
            channels = f"{relay}/api/v1/notify/channels"
            wait_for(lambda: httpx.get(channels).json().get("channels") == ["email", "webpush"])
            yield Deployment(relay, server, tokens, url)


@pytest.fixture
def phone(
    browser: Browser, playwright: Playwright, deployment: Deployment
) -> Iterator[BrowserContext]:
    device = dict(playwright.devices["Pixel 7"])
    device.pop("default_browser_type", None)
    context = browser.new_context(**device, base_url=deployment.relay, locale="en-US")
    context.grant_permissions(["notifications"], origin=deployment.relay)
    yield context
    context.close()


def open_ticket(phone: BrowserContext, ticket: dict[str, Any], relay: str) -> Page:
    page = phone.new_page()
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(relay) else None)
    page.goto(f"/t/{ticket['public_id']}?lang=en")
    expect(page.locator("#number")).to_have_text(ticket["number"])
    expect(page.locator("#notify")).to_be_visible()
    page.elsewhere = elsewhere  # type: ignore[attr-defined]
    return page


@pytest.mark.slow
def test_email_notices_on_the_relay_and_the_link_stops_them_after_one_tap(
    phone: BrowserContext, deployment: Deployment, mail: tuple[Inbox, int]
) -> None:
    inbox, _ = mail
    relay = deployment.relay
    tickets = [deployment.issue("tax") for _ in range(3)]
    mine = tickets[2]
    page = open_ticket(phone, mine, relay)
    page.get_by_label("Tell me when this many people or fewer are ahead").select_option("1")
    page.get_by_label("E-mail", exact=True).check()
    page.get_by_label("E-mail address").fill(CANARY)
    with page.expect_response("**/api/v1/notify/subscribe") as first:
        page.get_by_role("button", name="Turn on notifications").click()
    assert first.value.status == 202  # the relay queued it; the page follows the poll URL
    expect(page.locator("#notify-status")).to_have_text(
        "Notifications on (E-mail): when 1 or fewer people are ahead, and when you are called",
        timeout=20_000,
    )
    assert deployment.subscriptions() == [CANARY]  # pulled: it is on the queue server
    time.sleep(0.6)
    assert inbox.messages == []  # 2 ahead is not yet 1

    deployment.serve_next("c7")
    wait_for(lambda: len(inbox.messages) == 1)
    message = inbox.messages[0]
    assert message["To"] == CANARY
    assert message["Subject"] == f"{mine['number']}: 1 people ahead of you"
    # The link is the public base URL's, the relay here.
    link = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert link.startswith(f"{relay}/notify/unsubscribe/")
    assert link in message.get_body().get_content()
    # The page followed the 202 to the queue server's answer: it holds the subscription's token.
    store = f"madoguchi.notify.{mine['public_id']}"
    kept = page.evaluate(f"JSON.parse(localStorage.getItem('{store}'))")
    token, _, query = link.rsplit("/", 1)[1].partition("?")
    assert kept["token"] == token and query == "lang=en"

    # A mail scanner follows the link: nothing stops.
    assert httpx.get(link).status_code == 200
    assert deployment.subscriptions() == [CANARY]
    # The resident opens it: the relay's page asks; one tap posts, the queue server pulls it.
    unsubscribe = phone.new_page()
    unsubscribe.goto(link)
    for lang in ("en", "ja"):  # the resident's language, and Japanese for whoever helps
        expect(unsubscribe.locator("main")).to_contain_text(
            visitor_text.text(lang, "reserve.unsubscribe_ask")
        )
    unsubscribe.get_by_role("button").click()
    expect(unsubscribe.locator("main")).to_contain_text(
        visitor_text.text("en", "reserve.unsubscribe_received")  # --answer-wait 0: received
    )
    wait_for(lambda: deployment.subscriptions() == [])
    deployment.serve_next("c7")
    deployment.serve_next("c7")  # calls mine: no "please come" mail any more
    expect(page.locator("#state")).to_have_text("You are being called", timeout=10_000)
    time.sleep(1.0)
    assert len(inbox.messages) == 1

    assert page.elsewhere == []  # type: ignore[attr-defined]
    logs = deployment.logs()
    assert CANARY not in logs and token not in logs
    for path in ("/healthz", "/api/v1/status", f"/api/v1/tickets/by-public-id/{mine['public_id']}"):
        assert CANARY not in httpx.get(f"{relay}{path}").text
    deployment.serve_next("c7")


@pytest.mark.slow
def test_web_push_registers_the_relays_worker_and_posts_the_subscription(
    phone: BrowserContext, deployment: Deployment, push_url: str
) -> None:
    relay, server = deployment.relay, deployment.server
    subscription = browser_subscription(f"{push_url}/push/relay-device")
    phone.add_init_script(FAKE_PUSH_MANAGER.replace("SUBSCRIPTION", json.dumps(subscription)))
    server_key = httpx.get(f"{server}/api/v1/notify/vapid-public-key").json()["key"]
    tickets = [deployment.issue("koseki") for _ in range(2)]
    mine = tickets[1]
    page = open_ticket(phone, mine, relay)
    page.get_by_label("Push notification on this device").check()
    page.get_by_role("button", name="Turn on notifications").click()
    expect(page.locator("#notify-status")).to_contain_text(
        "Push notification on this device", timeout=20_000
    )
    assert page.evaluate("window.pushCalls") == [{"userVisibleOnly": True, "key": server_key}]
    scope = page.evaluate(
        "navigator.serviceWorker.getRegistration(location.pathname).then((r) => r && r.scope)"
    )
    assert scope == f"{relay}/t/{mine['public_id']}"
    ours, theirs = httpx.get(f"{relay}/sw.js"), httpx.get(f"{server}/sw.js")
    assert ours.content == theirs.content
    for header in (
        "content-type",
        "content-security-policy",
        "service-worker-allowed",
        "x-content-type-options",
        "cache-control",
    ):
        assert ours.headers[header] == theirs.headers[header], header

    # One ahead is within the default 3: pushed at once, signed and encrypted for the browser.
    wait_for(lambda: len(FakePushService.received) == 1)
    assert FakePushService.refused == []
    assert FakePushService.received[0]["title"] == f"{mine['number']}: 1 people ahead of you"
    assert subscription["endpoint"] not in deployment.logs()
    assert page.elsewhere == []  # type: ignore[attr-defined]
    for _ in range(3):
        deployment.serve_next("c3")


@pytest.mark.parametrize(
    ("status", "code", "lang", "key"),
    [
        (503, "bookings_unavailable", "vi", "public.notify_unavailable"),
        (503, "busy", "zh-Hans", "public.notify_unavailable"),
        (429, "rate_limited", "ko", "common.rate_limited"),
    ],
)
def test_the_relays_refusals_are_told_in_the_visitors_language(
    phone: BrowserContext, deployment: Deployment, status: int, code: str, lang: str, key: str
) -> None:
    # The relay's own answers (tests/integration/test_relay_pull.py); here the page gets one.
    ticket = deployment.issue("tax")
    page = open_ticket(phone, ticket, deployment.relay)
    body = {"error": {"code": code, "message": "…"}}
    page.route(
        "**/api/v1/notify/subscribe",
        lambda route: route.fulfill(status=status, json=body, headers={"Retry-After": "30"}),
    )
    page.get_by_label("言語 / Language").select_option(lang)
    page.locator('input[name="notify-channel"][value="email"]').check()
    page.locator("#notify-address").fill("someone@example.jp")
    page.locator("#notify-subscribe").click()
    expect(page.locator("#notify-message")).to_have_text(visitor_text.text(lang, key))
    expect(page.locator("#notify-active")).to_be_hidden()
    httpx.post(
        f"{deployment.server}/api/v1/tickets/{ticket['id']}/cancel",
        headers=bearer(deployment.tokens.clerk),
    )
