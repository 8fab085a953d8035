"""The request forms with their words: structure from the domain, words from the catalogue.

`queue_server.domain.forms` names the catalogue keys of every title, label, hint and choice;
this joins them with the visitor catalogue (`visitor_text`, table `[forms]`) in every visitor
language, so the kiosk, /apply, the clerk console and the PDF read one source.
"""

from __future__ import annotations

from typing import Any

import visitor_text
from queue_server.domain.forms import FormSpec, schema


def words(key: str) -> dict[str, str]:
    """The catalogue's text for `key` in every visitor language (a gap raises `MissingText`)."""
    return {lang: visitor_text.text(lang, key) for lang in visitor_text.LANGUAGES}


def form_schema(spec: FormSpec) -> dict[str, Any]:
    """The form's questions as JSON, with their words in every visitor language."""
    return schema(spec, words)
