"""Write an office configuration back as TOML, so administrators can download, edit and upload
the file they know. The file an administrator uploaded is given back as it was (comments and
all, see `offices.office_source`); this writer serves offices loaded before the text was kept.

TOML has no null: a setting explicitly switched off whose parser default is on (`day_close`,
`holidays`) is written as "none", which the parser reads back as off, so a download and
re-upload never changes what the office means.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tomlkit

#: Settings whose absence means a default that is not "off": null is written as "none".
EXPLICIT_NONE = {("office", "day_close"), ("office", "holidays")}


def _clean(value: Any, path: tuple[str, ...]) -> Any:
    if isinstance(value, Mapping):
        cleaned = {}
        for key, item in value.items():
            if item is None:
                if (*path, key) in EXPLICIT_NONE:
                    cleaned[key] = "none"
                continue
            cleaned[key] = _clean(item, (*path, key))
        return cleaned
    if isinstance(value, list):
        return [_clean(item, path) for item in value]
    return value


def dumps(data: Mapping[str, Any], header: str = "") -> str:
    """TOML text that the office parser reads back to the same office."""
    document = tomlkit.document()
    for line in header.splitlines():
        document.add(tomlkit.comment(line))
    for key, value in _clean(data, ()).items():
        document[key] = value
    return tomlkit.dumps(document)


def _replace_items(table: Any, values: Mapping[str, Any]) -> None:
    """Set `table` to `values` in place (None leaves a key out), so comments around it stay."""
    for key in list(table.keys()):
        if values.get(key) is None:
            del table[key]
    for key, value in values.items():
        if value is not None:
            table[key] = value


def with_reservation_rule(
    text: str, category_id: str, reservable: bool, section: Mapping[str, Any] | None
) -> str:
    """The office file `text` with one procedure's booking rule (`reservable` and its
    `[categories.reservation]` table) replaced; everything else, comments too, stays."""
    document = tomlkit.parse(text)
    for category in document.get("categories", []):
        if category.get("id") != category_id:
            continue
        category["reservable"] = reservable
        if section is None:
            if "reservation" in category:
                del category["reservation"]
        elif "reservation" in category:
            _replace_items(category["reservation"], section)
        else:
            table = tomlkit.table()
            _replace_items(table, section)
            category["reservation"] = table
        return tomlkit.dumps(document)
    raise KeyError(category_id)


def with_calendar(
    text: str, closed_dates: Mapping[str, str], special_openings: Mapping[str, str]
) -> str:
    """The office file `text` with its closed dates and special openings (休日開庁) replaced."""
    document = tomlkit.parse(text)
    office = document.setdefault("office", tomlkit.table())
    for key, values in (("closed_dates", closed_dates), ("special_openings", special_openings)):
        if key not in office:
            office[key] = tomlkit.table()
        _replace_items(office[key], dict(sorted(values.items())))
    return tomlkit.dumps(document)
