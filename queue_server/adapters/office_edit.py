"""Small, named changes to a loaded office file (a 休日開庁 day, a closed day, a counter).

Each change edits the office file's text as last loaded with tomlkit, so the administrator's
comments and layout survive, then goes through the same path as an upload in /admin: the whole
file is validated, and `load_office` refuses (409) a change that would strand live tickets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import tomlkit
from sqlalchemy import Engine
from tomlkit.items import AoT, KeyType, SingleKey, Table

from queue_server.adapters.office_file import parse_office, parse_office_text
from queue_server.adapters.office_toml import dumps
from queue_server.adapters.offices import load_office, office_ids, office_source
from queue_server.adapters.sql_statistics import SqlStatistics
from queue_server.domain.errors import InvalidConfiguration, NotFound
from queue_server.domain.office import Office

Edit = Callable[[tomlkit.TOMLDocument], str]


def the_office_id(engine: Engine, wanted: str | None) -> str:
    """`wanted`, or the only office in the database."""
    known = office_ids(engine)
    if wanted is not None:
        if wanted not in known:
            raise NotFound(f"office {wanted!r} is not loaded (loaded: {', '.join(known) or '-'})")
        return wanted
    if len(known) != 1:
        raise NotFound(
            "give --office: "
            + (f"the database holds {', '.join(known)}" if known else "no office is loaded")
        )
    return known[0]


def current_text(engine: Engine, office_id: str) -> str:
    """The office file as loaded now: its own text when kept and still current, else written."""
    raw = SqlStatistics(engine, office_id).office_config()
    text = office_source(engine, office_id)
    if text is None or parse_office_text(text) != raw:
        text = dumps(raw, header="Office file written by madoguchi from the loaded configuration.")
    return text


def current_office(engine: Engine, office_id: str) -> Office:
    return parse_office(SqlStatistics(engine, office_id).office_config())


def change_office(engine: Engine, office_id: str, edit: Edit, at: datetime) -> tuple[Office, str]:
    """Apply `edit` to the office file's text, validate and load it; return the office and
    the edit's one-line description (for the audit log)."""
    document = tomlkit.parse(current_text(engine, office_id))
    what = edit(document)
    text = tomlkit.dumps(document)
    raw = parse_office_text(text)
    office = parse_office(raw)
    if office.id != office_id:
        raise InvalidConfiguration("an edit cannot change the office id")
    return load_office(engine, raw, at, text), what


def _table(document: tomlkit.TOMLDocument, name: str) -> Table:
    """The `[office.<name>]` table, created (after the office's other settings) when missing."""
    office = document["office"]
    assert isinstance(office, Table)
    if name not in office:
        office.append(name, tomlkit.table())
    found = office[name]
    assert isinstance(found, Table)
    return found


def _date_key(day: date) -> SingleKey:
    """A quoted date key ("2027-03-28"), as the office file's examples write them."""
    return SingleKey(day.isoformat(), t=KeyType.Basic)


def _drop(table: Table, day: date) -> None:
    for key in list(table.keys()):
        if str(key) == day.isoformat():
            del table[key]


def open_day(day: date, hours: str, why: str = "", procedures: list[str] | None = None) -> Edit:
    """A 休日開庁 day: open on `day` with `hours`, for every procedure or only `procedures`
    (the day stops being a closed date if it was one)."""

    def edit(document: tomlkit.TOMLDocument) -> str:
        _drop(_table(document, "closed_dates"), day)
        openings = _table(document, "special_openings")
        _drop(openings, day)
        if procedures:
            entry = tomlkit.inline_table()
            entry.update({"hours": hours, "procedures": procedures})
            openings[_date_key(day)] = entry
        else:
            openings[_date_key(day)] = hours
        if why:
            openings[day.isoformat()].comment(why)
        only = f" procedures={','.join(procedures)}" if procedures else ""
        return f"open {day.isoformat()} {hours}{only}"

    return edit


def close_day(day: date, reason: str) -> Edit:
    """Close on `day` (a special opening on that day is taken back)."""

    def edit(document: tomlkit.TOMLDocument) -> str:
        _drop(_table(document, "special_openings"), day)
        closed = _table(document, "closed_dates")
        _drop(closed, day)
        closed[_date_key(day)] = reason
        return f"close {day.isoformat()}"

    return edit


def clear_day(day: date) -> Edit:
    """Back to the regular calendar on `day` (weekly hours, holidays, 年末年始)."""

    def edit(document: tomlkit.TOMLDocument) -> str:
        _drop(_table(document, "special_openings"), day)
        _drop(_table(document, "closed_dates"), day)
        return f"clear {day.isoformat()}"

    return edit


def _counters(document: tomlkit.TOMLDocument) -> AoT:
    counters = document.get("counters")
    if not isinstance(counters, AoT):
        raise InvalidConfiguration("the office file has no [[counters]]")
    return counters


def add_counter(counter_id: str, number: int, categories: list[str], names: dict[str, str]) -> Edit:
    """A new counter serving `categories` in that priority order."""

    def edit(document: tomlkit.TOMLDocument) -> str:
        counters = _counters(document)
        if any(c.get("id") == counter_id for c in counters):
            raise InvalidConfiguration(f"counter {counter_id!r} already exists")
        table: dict[str, Any] = {"id": counter_id, "number": number, "categories": categories}
        if names:
            table["names"] = names
        counters.append(table)
        return f"add counter {counter_id} number={number} categories={','.join(categories)}"

    return edit


def remove_counter(counter_id: str) -> Edit:
    """Remove a counter (refused while it holds a called ticket)."""

    def edit(document: tomlkit.TOMLDocument) -> str:
        counters = _counters(document)
        for index, counter in enumerate(counters):
            if counter.get("id") == counter_id:
                del counters[index]
                return f"remove counter {counter_id}"
        raise NotFound(f"no counter {counter_id!r} in the office file")

    return edit
