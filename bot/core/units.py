"""Unit codes are dotted paths ("CT.NK.01" lies under "CT.NK" and "CT")."""

from __future__ import annotations


def unit_within(code: str | None, scope: str | None) -> bool:
    """True if ``code`` is ``scope`` or one of its sub-units; no scope (organisation-wide) holds everything."""
    if not scope:
        return True
    return bool(code) and (code == scope or str(code).startswith(scope + "."))
