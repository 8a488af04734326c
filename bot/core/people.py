"""Checking what members and staff type about a person: full names and Vietnamese phone numbers."""

from __future__ import annotations

import re
import unicodedata

# Mobile: 10 digits, 03x/05x/07x/08x/09x.  Landline (since 2017): 11 digits, 02 + area code + number.
MOBILE = re.compile(r"^0[35789]\d{8}$")
LANDLINE = re.compile(r"^02\d{9}$")
NAME_MAX = 60


def normalise_phone(text: str) -> str | None:
    """A Vietnamese mobile or landline number as 0xxxxxxxxx(x); None if it is not one.

    Accepts spaces, dots, dashes and brackets, and the +84 / 84 country code.
    """
    raw = text.strip()
    if not raw or not re.fullmatch(r"[\d\s().+\-]+", raw):
        return None
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+84") or (digits.startswith("84") and len(digits) in (11, 12)):
        digits = "0" + digits[2:]
    if MOBILE.match(digits) or LANDLINE.match(digits):
        return digits
    return None


def clean_name(text: str) -> str | None:
    """A full name with each word capitalised; None unless it has 2+ words of letters."""
    words = unicodedata.normalize("NFC", text).strip().split()
    if len(words) < 2 or len(" ".join(words)) > NAME_MAX:
        return None
    if not all(re.fullmatch(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*\.?", w) for w in words):
        return None
    return " ".join(w[:1].upper() + w[1:].lower() for w in words)


def mask_phone(phone: str | None) -> str:
    """'09******78' for lists where the full number is not needed."""
    if not phone:
        return ""
    return phone[:2] + "*" * (len(phone) - 4) + phone[-2:]
