"""Posts on the Facebook Page and Zalo OA articles (a part of the storage layer, mixed into Store).

One ``posts`` row per announcement; one ``post_targets`` row per place it goes
(``facebook_page``, ``zalo_article``) with its own state:
pending -> (scheduled | verifying ->) published, or failed.
"""

from __future__ import annotations

from typing import Any

POST_TARGETS = ("facebook_page", "zalo_article")
OPEN_STATES = ("pending", "verifying")


class PostStore:
    """Methods of Store for posts and their targets."""

    # provided by Store
    _rows: Any
    _row: Any
    _value: Any
    transaction: Any
    _write: Any

    def create_post(self, data: dict[str, Any], targets: list[str], *, at: float) -> int:
        """Insert a post and its targets (each pending at ``first_attempt[target]`` or the post's time)."""
        with self.transaction():
            cursor = self._write(
                "INSERT INTO posts (title, text, link_url, image_url, publish_at, override_quiet, created_at, created_by)"
                " VALUES (:title, :text, :link_url, :image_url, :publish_at, :override_quiet, :at, :created_by)",
                {**data, "at": at},
            )
            post_id = int(cursor.lastrowid)
            for target in targets:
                self._write(
                    "INSERT INTO post_targets (post_id, target, state, next_attempt_at, updated_at)"
                    " VALUES (?, ?, 'pending', ?, ?)",
                    [post_id, target, data["publish_at"], at],
                )
        return post_id

    def get_post(self, post_id: int) -> dict[str, Any] | None:
        post = self._row("SELECT * FROM posts WHERE id = ?", [post_id])
        if post is not None:
            post["targets"] = self._rows("SELECT * FROM post_targets WHERE post_id = ? ORDER BY id", [post_id])
        return post

    def list_posts(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """The newest posts first, each with its targets."""
        posts = self._rows("SELECT * FROM posts ORDER BY id DESC LIMIT ?", [limit])
        if not posts:
            return posts
        ids = [p["id"] for p in posts]
        targets = self._rows(
            f"SELECT * FROM post_targets WHERE post_id IN ({','.join('?' * len(ids))}) ORDER BY id", ids
        )
        for post in posts:
            post["targets"] = [t for t in targets if t["post_id"] == post["id"]]
        return posts

    def due_post_targets(self, now: float, *, post_id: int | None = None) -> list[dict[str, Any]]:
        """Targets to work on now (pending or waiting for Zalo's verify), with their post's fields."""
        clause, params = (" AND t.post_id = ?", [post_id]) if post_id is not None else ("", [])
        return self._rows(
            "SELECT t.*, p.title, p.text, p.link_url, p.image_url, p.publish_at, p.override_quiet"
            " FROM post_targets t JOIN posts p ON p.id = t.post_id"
            f" WHERE t.state IN ('pending', 'verifying') AND t.next_attempt_at <= ?{clause} ORDER BY t.next_attempt_at, t.id",
            [now, *params],
        )

    def claim_post_target(self, target_id: int, state: str, *, at: float) -> bool:
        """Take a due target for this process (another worker may be on it): True if taken."""
        cursor = self._write(
            "UPDATE post_targets SET next_attempt_at = ?, updated_at = ? WHERE id = ? AND state = ? AND next_attempt_at <= ?",
            [at + 300, at, target_id, state, at],
        )
        return cursor.rowcount == 1

    def update_post_target(self, target_id: int, **fields: Any) -> None:
        allowed = {"state", "platform_id", "create_token", "attempts", "next_attempt_at", "error", "published_at", "updated_at"}
        assert set(fields) <= allowed, set(fields) - allowed
        sets = ", ".join(f"{name} = :{name}" for name in fields)
        self._write(f"UPDATE post_targets SET {sets} WHERE id = :id", {**fields, "id": target_id})

    def count_posts_published(self, start: float, end: float) -> dict[str, int]:
        """Targets published (or scheduled on Facebook to appear) in the period, per target."""
        rows = self._rows(
            "SELECT target, count(*) AS n FROM post_targets WHERE state IN ('published', 'scheduled')"
            " AND published_at >= ? AND published_at < ? GROUP BY target",
            [start, end],
        )
        return {r["target"]: r["n"] for r in rows}
