"""Write an office configuration back as TOML, so administrators can download, edit and upload
the file they know (the standard library reads TOML but does not write it)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, time
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE.match(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date | time):
        return json.dumps(value.isoformat())
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _table(lines: list[str], path: list[str], table: Mapping[str, Any], array: bool) -> None:
    if path:
        name = ".".join(_key(p) for p in path)
        lines.append("")
        lines.append(f"[[{name}]]" if array else f"[{name}]")
    nested = []
    for key, value in table.items():
        if value is None:
            continue  # TOML has no null: an absent key means "not set" to the office parser
        if isinstance(value, Mapping) or _is_table_array(value):
            nested.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in nested:
        if isinstance(value, Mapping):
            _table(lines, [*path, key], value, array=False)
        else:
            for item in value:
                _table(lines, [*path, key], item, array=True)


def dumps(data: Mapping[str, Any], header: str = "") -> str:
    """TOML text that `tomllib.loads` reads back to `data`."""
    lines = [f"# {line}" for line in header.splitlines()]
    _table(lines, [], data, array=False)
    return "\n".join(lines).lstrip("\n") + "\n"
