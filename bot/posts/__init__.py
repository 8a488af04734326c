"""Posts: announcements on the union's Facebook Page and as Zalo OA articles (see publish.py)."""
