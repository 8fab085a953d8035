"""One ticket, one serializer per audience (queue_server.service.views)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime

from queue_server.adapters.office_file import DEMO_OFFICE, parse_office, read_office_file
from queue_server.api.routes import TicketOut
from queue_server.domain.ticket import Priority, Ticket
from queue_server.service.views import (
    TicketView,
    called_ticket,
    event_ticket,
    public_ticket,
    staff_ticket,
)

OFFICE = parse_office(read_office_file(DEMO_OFFICE))
AT = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)


def called() -> Ticket:
    category = OFFICE.categories[0]
    counter = next(c for c in OFFICE.counters if category.id in c.categories)
    ticket = Ticket.issue(
        office_id=OFFICE.id,
        business_date=date(2026, 11, 26),
        category_id=category.id,
        number=category.number_start,
        display_number=category.display_number(category.number_start),
        public_id="p-1",
        priority=Priority.NORMAL,
        language="en",
        at=AT,
    )
    ticket.id = 7
    ticket.call(counter.id, AT)
    return ticket


def test_the_api_model_lists_exactly_the_staff_view_fields() -> None:
    assert list(TicketOut.model_fields) == [f.name for f in fields(TicketView)]


def test_staff_see_the_internal_id_figures_and_seq() -> None:
    view = staff_ticket(called(), OFFICE, 0, (0, 0, 0), 12, "https://x/t/p-1")
    assert (view.id, view.public_id, view.seq, view.status_url) == (7, "p-1", 12, "https://x/t/p-1")
    assert view.counter_number is not None


def test_the_public_see_no_id_and_no_personal_choice() -> None:
    shown = public_ticket(called(), OFFICE, 0, (0, 0, 0), 12)
    assert not {"id", "public_id", "language", "priority"} & set(shown)
    assert shown["state"] == "called" and shown["seq"] == 12


def test_events_and_the_board_carry_no_figures() -> None:
    ticket = called()
    for shown in (event_ticket(ticket, OFFICE), called_ticket(ticket, OFFICE)):
        assert not {"ahead", "estimated_wait_minutes", "public_id", "language"} & set(shown)
        assert shown["counter_number"] is not None


def test_the_staff_views_direct_json_matches_the_generic_serializer() -> None:
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    from queue_server.service.jsonable import jsonable
    from queue_server.service.views import TicketView

    zone = ZoneInfo("Asia/Tokyo")
    issued = datetime(2026, 11, 26, 0, 59, 59, tzinfo=UTC)
    for called in (None, datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)):
        view = TicketView(
            1, "pub", "A-001", "certificates", "normal", "ja", "called", date(2026, 11, 26),
            issued, called, "c1", 1, 0, 0, 0, 0, 0, "http://x/t/pub", None, None, 4,
        )  # fmt: skip
        assert view.as_json(zone) == jsonable(view, zone)
