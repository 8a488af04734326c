"""The one place Vietnamese text is folded for comparison.

``fold`` is what matching, commands, schedules and unit searches compare:
"Biển Đông" and "bien dong" fold to the same text.
"""

from __future__ import annotations

import re
import unicodedata

_COMBINING = re.compile(r"[\u0300-\u036f]")
_FOLD_TABLE = str.maketrans({"đ": "d", "Đ": "d"})
_NOT_WORD = re.compile(r"[^\w\s]")


def nfc(text: str) -> str:
    """Unicode NFC: Vietnamese letters precomposed, as members' keyboards differ."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case, drop every diacritic, đ → d: "Biển Đông" → "bien dong"."""
    decomposed = unicodedata.normalize("NFD", text.lower().translate(_FOLD_TABLE))
    return unicodedata.normalize("NFC", _COMBINING.sub("", decomposed))


def fold_words(text: str) -> str:
    """Folded, punctuation dropped, one space between words: for commands and names.

    "Dừng!!"  → "dung";  "Xóa  dữ-liệu" → "xoa du lieu".
    """
    return " ".join(_NOT_WORD.sub(" ", fold(text)).split())


def has_diacritics(text: str) -> bool:
    """True when ``text`` carries any Vietnamese diacritic or đ."""
    lowered = nfc(text).lower()
    return fold(lowered) != lowered


def scrub_surrogates(text: str) -> str:
    """Replace lone UTF-16 surrogates ("\\ud83d" from JSON) with U+FFFD; they cannot be stored as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # surrogatepass keeps a valid pair together; a lone half becomes U+FFFD
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
