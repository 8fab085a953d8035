"""Opt-in notices about one ticket: "N people ahead", "called to counter X".

A resident subscribes with a channel the server has (e-mail, LINE, Web Push) and an address.
A delivery pass (a few seconds apart) reads the subscriptions and works out from each ticket and
the computed queue state which notices are due (`domain.notices`); when any are, it claims them
in a write job under the office lock (recorded as sent, so no other server process sends them
too), sends them outside any transaction, and releases a notice whose send failed for the next
pass, up to `NOTICE_ATTEMPTS` times. Nothing is sent once the ticket is over. Messages carry the
number and the counter only, and a one-tap unsubscribe link. Subscriptions go at day close.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import visitor_text
from queue_server.domain.errors import NotFound
from queue_server.domain.notices import Notice, Subscription, due_notices
from queue_server.domain.office import LANGUAGES, Office
from queue_server.domain.ticket import OPEN_STATES, Ticket
from queue_server.service.contacts import valid_address, valid_channel
from queue_server.service.core import InvalidRequest, UnsupportedLanguage
from queue_server.service.ports import Mailer, QueueStore
from queue_server.service.reads import Reads
from queue_server.service.reminding import REMINDER_TOKEN_PREFIX, Reminding

logger = logging.getLogger(__name__)


class Notifying(Reminding, Reads):
    """Subscribe, unsubscribe and deliver ticket notices."""

    def subscribe(
        self,
        public_id: str,
        channel: str,
        address: str,
        ahead: int | None,
        language: str,
        available: tuple[str, ...],
    ) -> dict[str, Any]:
        """Subscribe to today's open ticket `public_id` on one of the `available` channels."""
        valid_channel(channel, available)
        if language not in LANGUAGES:
            raise UnsupportedLanguage(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
        address = valid_address(channel, address)
        if ahead is not None and not 0 <= ahead <= 50:
            raise InvalidRequest("ahead must be between 0 and 50")

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            ticket = store.ticket_by_public_id(public_id)
            if ticket is None or ticket.state not in OPEN_STATES:
                raise NotFound("no open ticket has this id")
            subscription = Subscription(
                token=secrets.token_urlsafe(24),
                ticket_id=_id(ticket),
                business_date=ticket.business_date,
                channel=channel,
                address=address,
                ahead=ahead,
                language=language,
                created_at=now,
            )
            store.add_subscription(subscription)
            return {
                "token": subscription.token,
                "channel": channel,
                "ahead": ahead,
                "unsubscribe_url": self._unsubscribe_url(subscription),
            }

        return self._write(work)

    def unsubscribe(self, token: str) -> bool:
        """One tap: the subscription is deleted (True), or there was none (False). A reminder
        e-mail's token stops that booking's reminders instead."""
        if token.startswith(REMINDER_TOKEN_PREFIX):
            return self.stop_reminders(token)
        return self._write(lambda store, office, now: store.delete_subscription(token))

    def deliver_notices(self, senders: Mapping[str, Mailer]) -> int:
        """Send every notice due now; returns how many were sent."""

        def due(
            store: QueueStore, office: Office, now: datetime
        ) -> list[tuple[Subscription, Notice]]:
            subscriptions = store.subscriptions()
            if not subscriptions:
                return []
            state = self.state()
            out = []
            for subscription in subscriptions:
                if subscription.channel not in senders:
                    continue
                ticket = store.ticket(subscription.ticket_id)
                if ticket is None or ticket.state not in OPEN_STATES:
                    continue  # over: nothing more is sent
                place = state.places.get(_id(ticket))
                ahead = place[1] if place is not None else None
                counter = office.counter(ticket.counter_id).number if ticket.counter_id else None
                for notice in due_notices(
                    subscription,
                    state=ticket.state.value,
                    number=ticket.display_number,
                    ahead=ahead,
                    counter=counter,
                    recall_count=ticket.recall_count,
                ):
                    out.append((subscription, notice))
            return out

        if not self._read(due):
            return 0  # the usual pass: no write transaction

        def claim(
            store: QueueStore, office: Office, now: datetime
        ) -> list[tuple[Subscription, Notice]]:
            # Under the office lock: another server process claims none of these again.
            found = due(store, office, now)
            for subscription, notice in found:
                subscription.sent.append(notice.key)
                store.save_subscription(subscription)
            return found

        sent = 0
        for subscription, notice in self._write(claim):
            subject, body = self._notice_text(subscription, notice)
            try:
                senders[subscription.channel].send(
                    subscription.address,
                    subject,
                    body,
                    unsubscribe_url=self._unsubscribe_url(subscription),
                )
            except Exception as exc:  # released: tried again on the next pass
                logger.warning("notice not sent (%s); retried later", type(exc).__name__)
                self._record(subscription, notice.key, failed=True)
                continue
            self._record(subscription, notice.key, failed=False)
            sent += 1
        return sent

    def _record(self, subscription: Subscription, key: str, failed: bool) -> None:
        def work(store: QueueStore, office: Office, now: datetime) -> None:
            for stored in store.subscriptions():
                if stored.id == subscription.id:
                    if failed:
                        stored.attempts += 1
                        stored.sent = [k for k in stored.sent if k != key]
                    else:
                        stored.attempts = 0
                    store.save_subscription(stored)

        self._write(work)

    def _notice_text(self, subscription: Subscription, notice: Notice) -> tuple[str, str]:
        lang = subscription.language
        line = visitor_text.text(lang, f"reserve.notify_{notice.kind}", **notice.values)
        stop = visitor_text.text(
            lang, "reserve.notify_stop", url=self._unsubscribe_url(subscription)
        )
        return line, f"{line}\n\n{stop}"

    def _unsubscribe_url(self, subscription: Subscription) -> str:
        # The page opens in the language the resident chose on the ticket page.
        token, lang = subscription.token, subscription.language
        return f"{self._public_base_url}/notify/unsubscribe/{token}?lang={lang}"


def _id(ticket: Ticket) -> int:
    assert ticket.id is not None
    return ticket.id
