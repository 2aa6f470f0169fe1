"""Names of the investing countries and territories cityops is likely to show (ISO 3166-1 alpha-2);
any other code is shown as written."""

from __future__ import annotations

from cityops.core.domain import Text

COUNTRIES: dict[str, Text] = {
    "JP": {"vi": "Nhật Bản", "en": "Japan", "ja": "日本"},
    "KR": {"vi": "Hàn Quốc", "en": "South Korea", "ja": "韓国"},
    "TW": {"vi": "Đài Loan (Trung Quốc)", "en": "Taiwan", "ja": "台湾"},
    "SG": {"vi": "Singapore", "en": "Singapore", "ja": "シンガポール"},
    "CN": {"vi": "Trung Quốc", "en": "China", "ja": "中国"},
    "HK": {"vi": "Hồng Kông (Trung Quốc)", "en": "Hong Kong", "ja": "香港"},
    "VG": {"vi": "Quần đảo Virgin thuộc Anh", "en": "British Virgin Islands", "ja": "英領バージン諸島"},
    "US": {"vi": "Hoa Kỳ", "en": "United States", "ja": "米国"},
    "DE": {"vi": "Đức", "en": "Germany", "ja": "ドイツ"},
    "NL": {"vi": "Hà Lan", "en": "Netherlands", "ja": "オランダ"},
    "MY": {"vi": "Malaysia", "en": "Malaysia", "ja": "マレーシア"},
    "TH": {"vi": "Thái Lan", "en": "Thailand", "ja": "タイ"},
    "VN": {"vi": "Việt Nam", "en": "Viet Nam", "ja": "ベトナム"},
}


def country_name(code: str, lang: str) -> str:
    return COUNTRIES.get(code, {}).get(lang, code)
