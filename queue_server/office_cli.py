"""Office changes an administrator makes often, without editing the file by hand:
`calendar show|open-day|close-day|clear-day` and `counter add|remove`.

Each goes through the upload path (validation of the whole file, 409 while live tickets need
what would go), keeps the file's comments, and is written to the audit log as `cli:<user>`.
A running server picks the change up with its next write and its next state tick.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from typing import Any

from queue_server.cli_common import audit, database_option, engine_for, fail

_WEEKDAYS_JA = "月火水木金土日"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2027-03-28") from None


def _change(args: argparse.Namespace, action: str, edit: Any) -> int:
    from queue_server.adapters.office_edit import change_office, the_office_id
    from queue_server.domain.errors import DomainError

    engine = engine_for(args)
    try:
        office_id = the_office_id(engine, args.office)
        office, what = change_office(engine, office_id, edit, datetime.now(UTC))
    except DomainError as exc:
        return fail(f"{exc.code}: {exc.message}")
    audit(args, action, detail=f"office={office.id} {what}")
    print(f"{office.id}: {what}")
    return 0


def _open_day(args: argparse.Namespace) -> int:
    from queue_server.adapters.office_edit import open_day

    procedures = [p.strip() for p in (args.procedures or "").split(",") if p.strip()]
    edit = open_day(args.date, args.hours, args.note or "", procedures)
    return _change(args, "office.day_opened", edit)


def _close_day(args: argparse.Namespace) -> int:
    from queue_server.adapters.office_edit import close_day

    return _change(args, "office.day_closed", close_day(args.date, args.reason))


def _clear_day(args: argparse.Namespace) -> int:
    from queue_server.adapters.office_edit import clear_day

    return _change(args, "office.day_cleared", clear_day(args.date))


def _counter_add(args: argparse.Namespace) -> int:
    from queue_server.adapters.office_edit import add_counter

    names = {k: v for k, v in (("ja", args.name_ja), ("en", args.name_en)) if v}
    if len(names) == 1:
        return fail("give both --name-ja and --name-en, or neither (then 「N番窓口」)")
    categories = [c.strip() for c in args.categories.split(",") if c.strip()]
    edit = add_counter(args.id, args.number, categories, names)
    return _change(args, "office.counter_added", edit)


def _counter_remove(args: argparse.Namespace) -> int:
    from queue_server.adapters.office_edit import remove_counter

    return _change(args, "office.counter_removed", remove_counter(args.id))


def calendar_lines(office: Any, year: int) -> list[str]:
    """The year's days that differ from the weekly hours: holidays (祝日), 年末年始, closed
    dates, and 休日開庁 days with their hours."""
    calendar = office.calendar
    weekly = ", ".join(
        f"{_WEEKDAYS_JA[d]} {calendar.weekly_hours[d]}"
        if d in calendar.weekly_hours
        else f"{_WEEKDAYS_JA[d]} 休"
        for d in range(7)
    )
    lines = [f"{office.names['ja']} ({office.id}) {year}", f"weekly hours: {weekly}"]
    day = date(year, 1, 1)
    while day.year == year:
        label = f"{day.isoformat()} ({_WEEKDAYS_JA[day.weekday()]})"
        if day in calendar.special_openings:
            only = calendar.special_procedures.get(day)
            offered = f" ({', '.join(only)})" if only else ""
            lines.append(f"{label}  open    {calendar.special_openings[day]}  休日開庁{offered}")
        else:
            reason = calendar.closed_reason(day)
            regular = day.weekday() in calendar.weekly_hours
            if reason is not None and (regular or day in calendar.closed_dates):
                lines.append(f"{label}  closed  {reason}")
        day = date.fromordinal(day.toordinal() + 1)
    return lines


def _show(args: argparse.Namespace) -> int:
    from queue_server.adapters.office_edit import current_office, the_office_id
    from queue_server.domain.errors import DomainError

    engine = engine_for(args)
    try:
        office = current_office(engine, the_office_id(engine, args.office))
    except DomainError as exc:
        return fail(exc.message)
    if args.year is None:
        args.year = office.business_date(datetime.now(UTC)).year
    print("\n".join(calendar_lines(office, args.year)))
    return 0


def register(sub: Any) -> None:
    """Add `calendar` and `counter` to the `madoguchi` parser."""
    common = argparse.ArgumentParser(add_help=False, parents=[database_option()])
    common.add_argument("--office", help="office id (default: the only office loaded)")

    calendar = sub.add_parser(
        "calendar", help="open and closed days: 祝日, 年末年始, 休日開庁, closed dates"
    ).add_subparsers(dest="calendar_command", required=True)
    show = calendar.add_parser(
        "show", parents=[common], help="the days of a year that differ from the weekly hours"
    )
    show.add_argument("--year", type=int, help="default: this year (office time)")
    show.set_defaults(handler=_show)
    opening = calendar.add_parser(
        "open-day", parents=[common], help="open on a date with given hours (休日開庁)"
    )
    opening.add_argument("date", type=_day)
    opening.add_argument("--hours", required=True, help="e.g. 09:00-12:00")
    opening.add_argument(
        "--procedures", help="only these procedures take visitors, e.g. moving,mynumber"
    )
    opening.add_argument("--note", help="a comment kept beside the entry in the office file")
    opening.set_defaults(handler=_open_day)
    closing = calendar.add_parser("close-day", parents=[common], help="close on a date")
    closing.add_argument("date", type=_day)
    closing.add_argument("--reason", default="休庁日", help="shown to residents (default 休庁日)")
    closing.set_defaults(handler=_close_day)
    clearing = calendar.add_parser(
        "clear-day", parents=[common], help="take back an open-day or close-day"
    )
    clearing.add_argument("date", type=_day)
    clearing.set_defaults(handler=_clear_day)

    counter = sub.add_parser("counter", help="add or remove a counter (窓口)").add_subparsers(
        dest="counter_command", required=True
    )
    add = counter.add_parser("add", parents=[common], help="add a counter")
    add.add_argument("id", help="e.g. c9")
    add.add_argument("--number", type=int, required=True, help="the number on the board")
    add.add_argument("--categories", required=True, help="procedures it serves, by priority: a,b")
    add.add_argument("--name-ja", help="e.g. 9番窓口 (default)")
    add.add_argument("--name-en", help="e.g. Counter 9 (default)")
    add.set_defaults(handler=_counter_add)
    remove = counter.add_parser(
        "remove", parents=[common], help="remove a counter (refused while it holds a ticket)"
    )
    remove.add_argument("id")
    remove.set_defaults(handler=_counter_remove)
