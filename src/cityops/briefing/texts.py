"""The briefing's own words and its number formats, in Vietnamese, English and Japanese."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Báo cáo giao ban tháng {month}/{year}",
        "subtitle": "Trung tâm điều hành thành phố thông minh — số liệu cho lãnh đạo",
        "generated": "Lập lúc {time} (giờ Việt Nam)",
        "figure": "Chỉ tiêu",
        "value": "Số liệu",
        "change": "So cùng kỳ",
        "source": "Nguồn",
        "simulated": "MÔ PHỎNG",
        "simulated_note": "Số liệu đánh dấu MÔ PHỎNG là dữ liệu mô phỏng, không phải số liệu thật.",
        "operations": "Điều hành: cảnh báo và sự cố",
        "alerts_raised": "Cảnh báo phát sinh trong tháng",
        "incidents_opened": "Sự cố mở trong tháng",
        "incidents_resolved": "Sự cố đã xử lý trong tháng",
        "incidents_open": "Sự cố còn mở cuối tháng",
        "operations_source": "Nhật ký cảnh báo và sự cố của cityops",
        "indicators_source": "Chỉ số cityops {id}",
        "indicators_note": "Giá trị chỉ số tại {time}.",
        "target": "mục tiêu {target}",
        "no_figures": "Chưa có số liệu.",
    },
    "en": {
        "title": "Monthly briefing, {month}/{year}",
        "subtitle": "Smart City Operations Center — figures for the leadership",
        "generated": "Made at {time} (Vietnam time)",
        "figure": "Figure",
        "value": "Value",
        "change": "On last year",
        "source": "Source",
        "simulated": "SIMULATED",
        "simulated_note": "Figures marked SIMULATED come from simulated data, not from real measurements.",
        "operations": "Operations: alerts and incidents",
        "alerts_raised": "Alerts raised in the month",
        "incidents_opened": "Incidents opened in the month",
        "incidents_resolved": "Incidents resolved in the month",
        "incidents_open": "Incidents open at the month's end",
        "operations_source": "cityops alert and incident log",
        "indicators_source": "cityops indicator {id}",
        "indicators_note": "Indicator values as of {time}.",
        "target": "target {target}",
        "no_figures": "No figures yet.",
    },
    "ja": {
        "title": "{year}年{month}月 月例報告",
        "subtitle": "スマートシティ統合運用センター — 幹部向け数値",
        "generated": "作成日時 {time}（ベトナム時間）",
        "figure": "指標",
        "value": "値",
        "change": "前年同期比",
        "source": "出典",
        "simulated": "シミュレーション",
        "simulated_note": "「シミュレーション」と記した数値は実測ではなくシミュレーションデータです。",
        "operations": "運用：アラートとインシデント",
        "alerts_raised": "当月発生したアラート",
        "incidents_opened": "当月起票されたインシデント",
        "incidents_resolved": "当月解決したインシデント",
        "incidents_open": "月末時点の未解決インシデント",
        "operations_source": "cityopsのアラート・インシデント記録",
        "indicators_source": "cityops指標 {id}",
        "indicators_note": "{time}時点の指標値。",
        "target": "目標 {target}",
        "no_figures": "データなし。",
    },
}


def number(value: float, lang: str, digits: int = 2) -> str:
    """`value` as the language writes it: 36.296,5 (vi), 36,296.5 (en, ja); at most `digits` decimals,
    trailing zeros dropped."""
    written = f"{value:,.{digits}f}"
    if "." in written:
        written = written.rstrip("0").rstrip(".")
    if lang == "vi":
        written = written.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return written


def signed_percent(value: float, lang: str) -> str:
    return f"{'+' if value > 0 else ''}{number(value, lang)} %"
