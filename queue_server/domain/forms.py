"""Request forms the visitor no longer writes by hand (書かない窓口).

Each form is a list of typed fields and, for choices, the options a visitor picks by touch. The
words (titles, labels, hints, choices, messages) are not here: they live in the visitor
catalogue (`visitor_text`, table `[forms]`) in every language, under keys this module names
(`text_keys`), and `schema()` takes them from there through a lookup the caller passes in, so the
domain stays free of files. `validate()` cleans a submitted form and reports every problem by
field name as a short code (`PROBLEMS`) — never by value, so personal data stays out of error
messages and logs; the pages show the catalogue's message for the code (`forms.errors.<code>`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from queue_server.domain.errors import DomainError, NotFound

#: Dates of birth a form accepts: nobody alive was born earlier, nobody tomorrow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)  # when the caller gives no `today`

#: What `validate()` can say about a field. Each but `unknown_field` (a caller's bug, never a
#: visitor's) has a message in the catalogue as `forms.errors.<code>`; a required choice or date
#: left empty reads `forms.errors.choose` / `forms.errors.date` instead of `required`.
PROBLEMS = (
    "required",
    "too_long",
    "characters",
    "lines",
    "date",
    "number",
    "choose",
    "invalid",
    "subject_required",
    "members_required",
    "not_for_proxy",
    "unknown_field",
)

#: A catalogue key to its text in every language ({"ja": ..., "en": ...}).
Words = Callable[[str], Mapping[str, str]]


class FormInvalid(DomainError):
    code = "form_invalid"
    status = 422
    message_ja = "申請内容に不備があります。"

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in problems.items()))
        self.problems = dict(problems)


@dataclass(frozen=True)
class Choice:
    value: str


@dataclass(frozen=True)
class FormField:
    name: str
    kind: str  # text | date | int | choice | bool | lines
    required: bool = True
    choices: tuple[Choice, ...] = ()
    max_length: int = 200
    minimum: int | None = None
    maximum: int | None = None
    from_card: str | None = None  # which MyNumber card item prefills it: name, address, birth, sex
    shared: bool = False  # the same question on several forms: words in `forms.shared`
    hint: bool = False  # has a hint under its label (`<label key>_hint`)
    choice_set: str | None = None  # the choices' words: `forms.choices.<set>` (default: name)


@dataclass(frozen=True)
class FormSpec:
    id: str
    fields: tuple[FormField, ...]
    copies_field: str = "copies"
    note: bool = False  # has a note above its fields (`forms.<id>.note`)

    def field(self, name: str) -> FormField:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(name)

    @property
    def title_key(self) -> str:
        return f"forms.{self.id}.title"

    def label_key(self, item: FormField) -> str:
        return f"forms.{'shared' if item.shared else self.id}.{item.name}"

    def choice_key(self, item: FormField, choice: Choice) -> str:
        return f"forms.choices.{item.choice_set or item.name}.{choice.value}"

    def text_keys(self) -> Iterator[str]:
        """Every catalogue key this form's words are under."""
        yield self.title_key
        if self.note:
            yield f"forms.{self.id}.note"
        for item in self.fields:
            yield self.label_key(item)
            if item.hint:
                yield f"{self.label_key(item)}_hint"
            for choice in item.choices:
                yield self.choice_key(item, choice)


def _choices(*values: str) -> tuple[Choice, ...]:
    return tuple(Choice(value) for value in values)


_RELATION = _choices("self", "household", "proxy")
_PURPOSES = _choices("employment", "pension", "vehicle", "bank", "school", "visa", "other")
_COPIES = FormField("copies", "int", minimum=1, maximum=10, shared=True)
_PURPOSE = FormField("purpose", "choice", choices=_PURPOSES, shared=True)


def _person(prefix: str, shared: bool) -> tuple[FormField, ...]:
    return (
        FormField(f"{prefix}_name", "text", from_card="name", max_length=100, shared=shared),
        FormField(f"{prefix}_address", "text", from_card="address", shared=shared),
        FormField(f"{prefix}_birth_date", "date", from_card="birth", shared=shared),
    )


FORMS: dict[str, FormSpec] = {
    "juminhyo": FormSpec(
        "juminhyo",
        (
            *_person("requester", shared=True),
            FormField("requester_phone", "text", required=False, max_length=20),
            FormField("relation", "choice", choices=_RELATION),
            FormField("subject_name", "text", required=False, max_length=100),
            FormField("scope", "choice", choices=_choices("household", "some")),
            FormField("members", "lines", required=False, hint=True),
            _COPIES,
            _PURPOSE,
            FormField("include_household_head", "bool", required=False),
            FormField("include_honseki", "bool", required=False),
            FormField("include_juminhyo_code", "bool", required=False),
            FormField("include_individual_number", "bool", required=False),
        ),
    ),
    "inkan": FormSpec(
        "inkan",
        (
            FormField("registration_card_number", "text", max_length=12, hint=True),
            *_person("registrant", shared=False),
            _COPIES,
        ),
    ),
    "kazei": FormSpec(
        "kazei",
        (
            *_person("requester", shared=True),
            FormField("relation", "choice", choices=_RELATION),
            FormField("subject_name", "text", required=False, max_length=100),
            FormField("tax_year", "int", minimum=2000, maximum=2100),
            FormField("kind", "choice", choices=_choices("income", "tax", "both")),
            _COPIES,
            _PURPOSE,
        ),
        note=True,
    ),
}


def form(form_id: str) -> FormSpec:
    try:
        return FORMS[form_id]
    except KeyError:
        raise NotFound(f"unknown form {form_id!r}") from None


def _clean(item: FormField, value: Any, today: date | None = None) -> Any:
    if item.kind == "text":
        if not isinstance(value, str):
            raise ValueError("invalid")
        text = value.strip()
        if len(text) > item.max_length:
            raise ValueError("too_long")
        if re.search(r"[\x00-\x1f]", text):
            raise ValueError("characters")
        return text
    if item.kind == "lines":
        lines = value if isinstance(value, list) else str(value).splitlines()
        cleaned = [str(line).strip() for line in lines if str(line).strip()]
        if len(cleaned) > 10 or any(len(line) > 100 for line in cleaned):
            raise ValueError("lines")
        return cleaned
    if item.kind == "date":
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            raise ValueError("date") from None
        latest = today or LATEST_DATE
        if not EARLIEST_DATE <= day <= latest:
            raise ValueError("date")
        return day.isoformat()
    if item.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise ValueError("number")
        number = int(value)
        if (item.minimum is not None and number < item.minimum) or (
            item.maximum is not None and number > item.maximum
        ):
            raise ValueError("number")
        return number
    if item.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("invalid")
        return value
    if item.kind == "choice":
        allowed = [c.value for c in item.choices]
        if value not in allowed:
            raise ValueError("choose")
        return value
    raise ValueError("invalid")


def validate(form_id: str, data: Mapping[str, Any], today: date | None = None) -> dict[str, Any]:
    """The cleaned fields of a submitted form, or `FormInvalid` naming every bad field.

    Dates (dates of birth) lie between `EARLIEST_DATE` and `today` (or `LATEST_DATE`)."""
    spec = form(form_id)
    problems: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    known = {f.name for f in spec.fields}
    for name in data:
        if name not in known:
            problems[name] = "unknown_field"
    for item in spec.fields:
        value = data.get(item.name)
        if value is None or value == "" or value == []:
            if item.required:
                problems[item.name] = "required"
            continue
        try:
            cleaned[item.name] = _clean(item, value, today)
        except ValueError as exc:
            problems[item.name] = str(exc)
    relation = cleaned.get("relation")
    # For the whole household the household itself is the subject; otherwise name the person.
    names_someone = relation == "proxy" or (
        relation == "household" and cleaned.get("scope") != "household"
    )
    if names_someone and not cleaned.get("subject_name"):
        problems.setdefault("subject_name", "subject_required")
    if relation == "proxy" and cleaned.get("include_individual_number"):
        # A copy showing the individual number is mailed to the person, never handed to a proxy.
        problems["include_individual_number"] = "not_for_proxy"
    if cleaned.get("scope") == "some" and not cleaned.get("members"):
        problems.setdefault("members", "members_required")
    if problems:
        raise FormInvalid(problems)
    return cleaned


def fee_total(form_id: str, cleaned: Mapping[str, Any], fee_per_copy: int) -> int:
    """Copies times the procedure's fee (a combined income-and-tax certificate counts twice)."""
    copies = int(cleaned.get(form(form_id).copies_field, 1))
    factor = 2 if form_id == "kazei" and cleaned.get("kind") == "both" else 1
    return copies * fee_per_copy * factor


def prefill_from_card(form_id: str, items: Mapping[str, str]) -> dict[str, str]:
    """Fields a MyNumber card's basic four items fill in (name, address, birth as YYYYMMDD)."""
    filled: dict[str, str] = {}
    for item in form(form_id).fields:
        if item.from_card and items.get(item.from_card):
            value = items[item.from_card]
            if item.from_card == "birth" and len(value) == 8 and value.isdigit():
                value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
            filled[item.name] = value
    return filled


def schema(spec: FormSpec, words: Words) -> dict[str, Any]:
    """The form as JSON for kiosks and web pages (no data, only the questions), with its words
    in every language from `words` (the visitor catalogue)."""
    return {
        "id": spec.id,
        "labels": dict(words(spec.title_key)),
        "notes": dict(words(f"forms.{spec.id}.note")) if spec.note else {},
        "fields": [
            {
                "name": f.name,
                "kind": f.kind,
                "labels": dict(words(spec.label_key(f))),
                "hints": dict(words(f"{spec.label_key(f)}_hint")) if f.hint else {},
                "required": f.required,
                "choices": [
                    {"value": c.value, "labels": dict(words(spec.choice_key(f, c)))}
                    for c in f.choices
                ],
                "max_length": f.max_length,
                "minimum": f.minimum,
                "maximum": f.maximum,
                "from_card": f.from_card,
            }
            for f in spec.fields
        ],
    }
