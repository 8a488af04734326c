"""Quizzes, registration, contest participation and reports (storage layer, mixed into Store)."""

from __future__ import annotations

from typing import Any


class ParticipationStore:
    """Methods of Store for quizzes, participation and reports."""

    db: Any
    _rows: Any
    _row: Any
    _value: Any
