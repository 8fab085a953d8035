"""Request forms the visitor no longer writes by hand (書かない窓口).

Each form is a list of typed fields with labels and, for choices, the options a visitor picks by
touch. `validate()` cleans a submitted form and reports every problem by field name — never by
value, so personal data stays out of error messages and logs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from queue_server.domain.errors import DomainError, NotFound

#: Dates of birth a form accepts: nobody alive was born earlier, nobody tomorrow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)  # when the caller gives no `today`

Labels = Mapping[str, str]


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
    labels: Labels


@dataclass(frozen=True)
class FormField:
    name: str
    kind: str  # text | date | int | choice | bool | lines
    labels: Labels
    required: bool = True
    choices: tuple[Choice, ...] = ()
    max_length: int = 200
    minimum: int | None = None
    maximum: int | None = None
    from_card: str | None = None  # which MyNumber card item prefills it: name, address, birth, sex


@dataclass(frozen=True)
class FormSpec:
    id: str
    labels: Labels
    fields: tuple[FormField, ...]
    copies_field: str = "copies"
    notes: Labels = field(default_factory=dict)

    def field(self, name: str) -> FormField:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(name)


def _l(ja: str, en: str, easy: str | None = None, **others: str) -> dict[str, str]:
    labels = {"ja": ja, "en": en, "ja-easy": easy or ja}
    labels.update({k.replace("_", "-"): v for k, v in others.items()})
    return labels


_RELATION = (
    Choice(
        "self",
        _l("本人", "Myself", "じぶん", zh_Hans="本人", ko="본인", vi="Bản thân", pt="Eu mesmo"),
    ),
    Choice(
        "household",
        _l(
            "同一世帯の方",
            "Same household",
            "いっしょに すんでいる かぞく",
            zh_Hans="同一户籍家人",
            ko="같은 세대",
            vi="Cùng hộ gia đình",
            pt="Mesmo domicílio",
        ),
    ),
    Choice(
        "proxy",
        _l(
            "代理人（委任状が必要）",
            "Proxy (letter of attorney needed)",
            "だいりにん（いにんじょうが ひつよう）",
            zh_Hans="代理人（需要委托书）",
            ko="대리인(위임장 필요)",
            vi="Người đại diện (cần giấy ủy quyền)",
            pt="Procurador (procuração necessária)",
        ),
    ),
)
_PURPOSES = (
    Choice(
        "employment",
        _l(
            "就職・勤務先",
            "Employment",
            "しごと",
            zh_Hans="就业",
            ko="취업",
            vi="Việc làm",
            pt="Emprego",
        ),
    ),
    Choice(
        "pension",
        _l("年金", "Pension", "ねんきん", zh_Hans="年金", ko="연금", vi="Lương hưu", pt="Pensão"),
    ),
    Choice(
        "vehicle",
        _l(
            "自動車登録",
            "Vehicle registration",
            "くるまの とうろく",
            zh_Hans="车辆登记",
            ko="자동차 등록",
            vi="Đăng ký xe",
            pt="Registro de veículo",
        ),
    ),
    Choice(
        "bank",
        _l(
            "金融機関",
            "Bank",
            "ぎんこう",
            zh_Hans="金融机构",
            ko="금융기관",
            vi="Ngân hàng",
            pt="Banco",
        ),
    ),
    Choice(
        "school",
        _l("学校", "School", "がっこう", zh_Hans="学校", ko="학교", vi="Trường học", pt="Escola"),
    ),
    Choice(
        "visa",
        _l(
            "在留手続き",
            "Residence status",
            "ざいりゅうの てつづき",
            zh_Hans="在留手续",
            ko="체류 절차",
            vi="Thủ tục lưu trú",
            pt="Status de residência",
        ),
    ),
    Choice(
        "other", _l("その他", "Other", "そのほか", zh_Hans="其他", ko="기타", vi="Khác", pt="Outro")
    ),
)
_COPIES = FormField(
    "copies",
    "int",
    _l("通数", "Copies", "まいすう", zh_Hans="份数", ko="부수", vi="Số bản", pt="Cópias"),
    minimum=1,
    maximum=10,
)


def _person(prefix: str, ja: str, en: str) -> tuple[FormField, ...]:
    return (
        FormField(
            f"{prefix}_name",
            "text",
            _l(f"{ja}氏名", f"{en} name"),
            from_card="name",
            max_length=100,
        ),
        FormField(
            f"{prefix}_address", "text", _l(f"{ja}住所", f"{en} address"), from_card="address"
        ),
        FormField(
            f"{prefix}_birth_date",
            "date",
            _l(f"{ja}生年月日", f"{en} date of birth"),
            from_card="birth",
        ),
    )


FORMS: dict[str, FormSpec] = {
    "juminhyo": FormSpec(
        "juminhyo",
        _l("住民票の写し等交付請求書", "Request for a copy of the residence record"),
        (
            *_person("requester", "請求者", "Requester"),
            FormField(
                "requester_phone", "text", _l("電話番号", "Phone"), required=False, max_length=20
            ),
            FormField(
                "relation",
                "choice",
                _l("請求者と対象者の関係", "Relation to the person"),
                choices=_RELATION,
            ),
            FormField(
                "subject_name",
                "text",
                _l("必要な方の氏名", "Whose record"),
                required=False,
                max_length=100,
            ),
            FormField(
                "scope",
                "choice",
                _l("範囲", "Scope"),
                choices=(
                    Choice("household", _l("世帯全員", "Whole household")),
                    Choice("some", _l("世帯の一部", "Some members")),
                ),
            ),
            FormField(
                "members",
                "lines",
                _l("必要な方（一部の場合）", "Members (if some)"),
                required=False,
            ),
            _COPIES,
            FormField(
                "purpose", "choice", _l("使いみち", "Purpose", "つかいみち"), choices=_PURPOSES
            ),
            FormField(
                "include_household_head",
                "bool",
                _l("世帯主・続柄を記載", "Show head of household"),
                required=False,
            ),
            FormField(
                "include_honseki",
                "bool",
                _l("本籍・筆頭者を記載", "Show registered domicile"),
                required=False,
            ),
            FormField(
                "include_juminhyo_code",
                "bool",
                _l("住民票コードを記載", "Show resident record code"),
                required=False,
            ),
            FormField(
                "include_individual_number",
                "bool",
                _l("個人番号を記載（郵送のみ）", "Show the individual number (mailed only)"),
                required=False,
            ),
        ),
    ),
    "inkan": FormSpec(
        "inkan",
        _l("印鑑登録証明書交付申請書", "Request for a seal registration certificate"),
        (
            FormField(
                "registration_card_number",
                "text",
                _l("印鑑登録証の番号", "Seal registration card number"),
                max_length=12,
            ),
            *_person("registrant", "登録者", "Registrant"),
            _COPIES,
        ),
    ),
    "kazei": FormSpec(
        "kazei",
        _l("所得・課税証明書交付申請書", "Request for an income / tax certificate"),
        (
            *_person("requester", "請求者", "Requester"),
            FormField(
                "relation",
                "choice",
                _l("対象者との関係", "Relation to the person"),
                choices=_RELATION,
            ),
            FormField(
                "subject_name",
                "text",
                _l("必要な方の氏名", "Whose certificate"),
                required=False,
                max_length=100,
            ),
            FormField("tax_year", "int", _l("年度", "Fiscal year"), minimum=2000, maximum=2100),
            FormField(
                "kind",
                "choice",
                _l("種類", "Kind"),
                choices=(
                    Choice("income", _l("所得証明", "Income")),
                    Choice("tax", _l("課税証明", "Tax")),
                    Choice("both", _l("所得・課税証明", "Income and tax")),
                ),
            ),
            _COPIES,
            FormField(
                "purpose", "choice", _l("使いみち", "Purpose", "つかいみち"), choices=_PURPOSES
            ),
        ),
        notes=_l(
            "年度は所得の年の翌年です（2025年の所得は2026年度）。",
            "The fiscal year is the income year + 1 (2025 income: fiscal 2026).",
        ),
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
            raise ValueError("must be text")
        text = value.strip()
        if len(text) > item.max_length:
            raise ValueError(f"at most {item.max_length} characters")
        if re.search(r"[\x00-\x1f]", text):
            raise ValueError("control characters are not allowed")
        return text
    if item.kind == "lines":
        lines = value if isinstance(value, list) else str(value).splitlines()
        cleaned = [str(line).strip() for line in lines if str(line).strip()]
        if len(cleaned) > 10 or any(len(line) > 100 for line in cleaned):
            raise ValueError("at most 10 lines of 100 characters")
        return cleaned
    if item.kind == "date":
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            raise ValueError("must be a date like 1990-04-01") from None
        latest = today or LATEST_DATE
        if not EARLIEST_DATE <= day <= latest:
            raise ValueError(f"must be between {EARLIEST_DATE} and {latest}")
        return day.isoformat()
    if item.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise ValueError("must be a whole number")
        number = int(value)
        if (item.minimum is not None and number < item.minimum) or (
            item.maximum is not None and number > item.maximum
        ):
            raise ValueError(f"must be between {item.minimum} and {item.maximum}")
        return number
    if item.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if item.kind == "choice":
        allowed = [c.value for c in item.choices]
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value
    raise ValueError(f"unknown field kind {item.kind}")


def validate(form_id: str, data: Mapping[str, Any], today: date | None = None) -> dict[str, Any]:
    """The cleaned fields of a submitted form, or `FormInvalid` naming every bad field.

    Dates (dates of birth) lie between `EARLIEST_DATE` and `today` (or `LATEST_DATE`)."""
    spec = form(form_id)
    problems: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    known = {f.name for f in spec.fields}
    for name in data:
        if name not in known:
            problems[name] = "unknown field"
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
        problems.setdefault("subject_name", "required when requesting for someone else")
    if relation == "proxy" and cleaned.get("include_individual_number"):
        # A copy showing the individual number is mailed to the person, never handed to a proxy.
        problems["include_individual_number"] = "not available to a proxy"
    if cleaned.get("scope") == "some" and not cleaned.get("members"):
        problems.setdefault("members", "required when only some members are needed")
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


def schema(spec: FormSpec) -> dict[str, Any]:
    """The form as JSON for kiosks and web pages (no data, only the questions)."""
    return {
        "id": spec.id,
        "labels": dict(spec.labels),
        "notes": dict(spec.notes),
        "fields": [
            {
                "name": f.name,
                "kind": f.kind,
                "labels": dict(f.labels),
                "required": f.required,
                "choices": [{"value": c.value, "labels": dict(c.labels)} for c in f.choices],
                "max_length": f.max_length,
                "minimum": f.minimum,
                "maximum": f.maximum,
                "from_card": f.from_card,
            }
            for f in spec.fields
        ],
    }
