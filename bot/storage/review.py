"""The review queue of unanswered questions: answered by an entry (storage layer, mixed into Store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ReviewStore:
    """Methods of Store for linking unanswered questions to the entry that answers them."""

    db: Any
    _rows: Any
    _write: Any

    def link_questions(self, question_ids: Sequence[int], entry_id: str, *, at: float) -> int:
        """Mark unanswered questions answered by ``entry_id``; returns how many changed."""
        if not question_ids:
            return 0
        cursor = self._write(
            "UPDATE questions SET review_status = 'done', review_entry_id = ?, reviewed_at = ?"
            f" WHERE decision != 'answer' AND review_status != 'done' AND id IN ({','.join('?' * len(question_ids))})",
            [entry_id, at, *question_ids],
        )
        return int(cursor.rowcount)

    def pending_question_texts(self, limit: int = 2000) -> list[dict[str, Any]]:
        """Unanswered questions still waiting (review 'new'), newest first: id and text."""
        return self._rows(
            "SELECT id, text FROM questions WHERE decision != 'answer' AND review_status = 'new' AND text != ''"
            " ORDER BY id DESC LIMIT ?",
            [limit],
        )
