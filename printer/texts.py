"""Fixed slip wording in every visitor language, kept in one table so translators edit one place."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Language(StrEnum):
    """Languages a visitor can pick at the kiosk (BCP 47 tags; ja-easy is やさしい日本語)."""

    JA = "ja"
    EN = "en"
    ZH_HANS = "zh-Hans"
    KO = "ko"
    VI = "vi"
    PT = "pt"
    JA_EASY = "ja-easy"


@dataclass(frozen=True, slots=True)
class SlipTexts:
    """The fixed strings of one language; `{n}`, `{m}`, `{lo}`, `{hi}` are filled in by slip.py."""

    number_label: str
    ahead: str
    wait_label: str
    wait_point: str
    wait_interval: str
    wait_unknown: str
    place_label: str
    scan: str
    notice: str
    label_sep: str = ": "


# English and the interval forms use ASCII hyphens on purpose: kanji-mode printers print only what
# cp932 can encode, and English is the fallback line for scripts cp932 lacks (Hangul, 简体字).
TEXTS: dict[Language, SlipTexts] = {
    Language.JA: SlipTexts(
        number_label="受付番号",
        ahead="前にお待ちの方：{n}人",
        wait_label="待ち時間の目安",
        wait_point="約{m}分",
        wait_interval="（{lo}〜{hi}分）",
        wait_unknown="ただいま表示できません",
        place_label="お待ちの場所",
        scan="QRコードを読み取ると、順番をスマートフォンで確認できます",
        notice="番号が呼ばれるまでお待ちください",
        label_sep="：",
    ),
    Language.EN: SlipTexts(
        number_label="Your number",
        ahead="People ahead of you: {n}",
        wait_label="Estimated wait",
        wait_point="about {m} min",
        wait_interval=" ({lo}-{hi} min)",
        wait_unknown="not available yet",
        place_label="Please wait at",
        scan="Scan the QR code to follow your number on your phone.",
        notice="Please wait until your number is called.",
    ),
    Language.ZH_HANS: SlipTexts(
        number_label="您的号码",
        ahead="前面等候人数：{n}人",
        wait_label="预计等候时间",
        wait_point="约{m}分钟",
        wait_interval="（{lo}～{hi}分钟）",
        wait_unknown="暂时无法显示",
        place_label="等候地点",
        scan="扫描二维码，可在手机上查看叫号进度。",
        notice="请耐心等候叫号。",
        label_sep="：",
    ),
    Language.KO: SlipTexts(
        number_label="접수 번호",
        ahead="앞 대기 인원: {n}명",
        wait_label="예상 대기 시간",
        wait_point="약 {m}분",
        wait_interval=" ({lo}~{hi}분)",
        wait_unknown="현재 표시할 수 없습니다",
        place_label="대기 장소",
        scan="QR 코드를 스캔하면 휴대폰으로 순서를 확인할 수 있습니다.",
        notice="번호가 호출될 때까지 기다려 주십시오.",
    ),
    Language.VI: SlipTexts(
        number_label="Số thứ tự của bạn",
        ahead="Số người chờ trước bạn: {n}",
        wait_label="Thời gian chờ dự kiến",
        wait_point="khoảng {m} phút",
        wait_interval=" ({lo}-{hi} phút)",
        wait_unknown="chưa thể hiển thị",
        place_label="Nơi chờ",
        scan="Quét mã QR để theo dõi số thứ tự trên điện thoại.",
        notice="Vui lòng chờ đến khi số của bạn được gọi.",
    ),
    Language.PT: SlipTexts(
        number_label="Sua senha",
        ahead="Pessoas à sua frente: {n}",
        wait_label="Espera estimada",
        wait_point="cerca de {m} min",
        wait_interval=" ({lo}-{hi} min)",
        wait_unknown="indisponível no momento",
        place_label="Aguarde em",
        scan="Leia o código QR para acompanhar sua senha no celular.",
        notice="Aguarde até que sua senha seja chamada.",
    ),
    Language.JA_EASY: SlipTexts(
        number_label="あなたの ばんごう",
        ahead="あなたの まえに {n}にん います",
        wait_label="まつ じかん",
        wait_point="だいたい {m}分",
        wait_interval="（{lo}〜{hi}分）",
        wait_unknown="いまは わかりません",
        place_label="まつ ところ",
        scan="QRコードで じゅんばんを みることが できます",
        notice="ばんごうが よばれるまで まって ください",
        label_sep="：",
    ),
}


def texts_for(language: Language) -> SlipTexts:
    """Return the fixed strings for one language."""
    return TEXTS[language]
