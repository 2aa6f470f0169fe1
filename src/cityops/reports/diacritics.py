"""Vietnamese typed without its marks ("duong bi ngap nuoc") reads ambiguously and is sent back to the
citizen before submission. A text is flagged when it contains no Vietnamese diacritic at all while most of
its words (the ambiguous ones set aside) are common Vietnamese syllables stripped of their marks. English and other languages are not
flagged: the syllables that are also common words elsewhere ("the", "to", "an", "can", "long"...) do not
count, and most words must look Vietnamese.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

SYLLABLES_FILE = Path(__file__).parent / "common_syllables.txt"
VIETNAMESE_MARKED = frozenset("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ")
# Stripped syllables that are everyday words of English (or French, Spanish...): they prove nothing.
AMBIGUOUS = frozenset(
    [
        "a",
        "an",
        "anh",
        "ba",
        "ban",
        "bang",
        "be",
        "bi",
        "bo",
        "bong",
        "can",
        "cay",
        "chi",
        "cho",
        "co",
        "con",
        "cu",
        "cua",
        "da",
        "dan",
        "dao",
        "day",
        "de",
        "di",
        "do",
        "dong",
        "du",
        "gan",
        "gay",
        "ghe",
        "gi",
        "go",
        "hai",
        "hang",
        "hay",
        "he",
        "hien",
        "hinh",
        "ho",
        "hoa",
        "hon",
        "hop",
        "hu",
        "in",
        "khi",
        "la",
        "lai",
        "lam",
        "lan",
        "le",
        "lo",
        "long",
        "loi",
        "luc",
        "ly",
        "ma",
        "man",
        "mat",
        "may",
        "me",
        "mo",
        "moi",
        "mot",
        "muon",
        "na",
        "nay",
        "ne",
        "nen",
        "neu",
        "nha",
        "no",
        "noi",
        "o",
        "ong",
        "pho",
        "phu",
        "qua",
        "quan",
        "sang",
        "sau",
        "se",
        "so",
        "su",
        "tai",
        "tam",
        "tap",
        "tat",
        "than",
        "the",
        "thi",
        "thu",
        "tin",
        "to",
        "toi",
        "tot",
        "tra",
        "tu",
        "van",
        "ve",
        "vien",
        "vo",
        "voi",
        "vua",
        "xa",
        "xe",
        "xin",
    ]
)
WORD = re.compile(r"[^\W\d_]+")
MIN_WORDS = 3
SHARE = 0.5


def strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.cache
def marked_syllables() -> frozenset[str]:
    lines = SYLLABLES_FILE.read_text(encoding="utf-8").splitlines()
    words = (word for line in lines if not line.startswith("#") for word in line.split())
    return frozenset(unicodedata.normalize("NFC", word) for word in words)


@functools.cache
def unmarked_syllables() -> frozenset[str]:
    """Stripped syllables that only Vietnamese writes (the ambiguous ones removed)."""
    return frozenset(strip_marks(word) for word in marked_syllables()) - AMBIGUOUS


def has_vietnamese_marks(text: str) -> bool:
    return any(ch in VIETNAMESE_MARKED for ch in unicodedata.normalize("NFC", text).lower())


def lacks_diacritics(text: str) -> bool:
    """Whether `text` looks like Vietnamese written without its diacritics."""
    if has_vietnamese_marks(text):
        return False
    # Ambiguous words count for neither side.
    words = [word for word in WORD.findall(text.lower()) if word not in AMBIGUOUS]
    vietnamese = sum(1 for word in words if word in unmarked_syllables())
    return vietnamese >= MIN_WORDS and vietnamese >= SHARE * len(words)
