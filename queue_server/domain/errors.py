"""Domain errors: each has a stable short code a kiosk or console can show and translate."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule violation; `code` is stable, `message` is for people (English)."""

    code = "domain_error"
    status = 409
    message_ja = "処理できませんでした。職員にお声がけください。"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message_ja = "見つかりません。"


class IllegalTransition(DomainError):
    code = "illegal_transition"
    message_ja = "この整理券の現在の状態ではその操作はできません。"


class OfficeClosed(DomainError):
    code = "office_closed"
    message_ja = "ただいま受付時間外です。"


class CategoryClosed(DomainError):
    code = "category_closed"
    message_ja = "この手続きの本日の受付は終了しました。"


class DailyCapReached(CategoryClosed):
    code = "daily_cap_reached"
    message_ja = "本日の受付は終了しました。"


class NumberRangeExhausted(CategoryClosed):
    code = "number_range_exhausted"
    message_ja = "本日の受付は終了しました。職員にお声がけください。"


class CounterBusy(DomainError):
    code = "counter_busy"
    message_ja = "この窓口はまだ対応中の整理券があります。"


class CategoryNotServed(DomainError):
    code = "category_not_served"
    message_ja = "この窓口ではその手続きを扱っていません。"


class InvalidConfiguration(DomainError):
    code = "invalid_configuration"
    status = 422
    message_ja = "設定に誤りがあります。"
