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
