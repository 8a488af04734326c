"""Regenerate .env.example and the README's settings table from bot/config.py's SETTINGS.

Run after adding or changing a setting; a test checks that both stay in step.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.config import SETTINGS  # noqa: E402

GROUPS = {
    "HOST": "Server",
    "MESSENGER_APP_SECRET": "Messenger",
    "ZALO_APP_ID": "Zalo Official Account",
    "ZALO_BOT_TOKEN": "Zalo Bot",
    "MESSENGER_RATE_PER_SECOND": "Delivery and rate limits",
    "TIMEZONE": "Broadcasts",
    "ANSWER_THRESHOLD": "Answers",
    "ORG_NAME": "Organisation (shown to members)",
    "CONSENT_VERSION": "Participation: registration, quizzes, contests and reports",
    "OFFICE_HOURS": "Conversations with staff (GẶP CÁN BỘ)",
    "CHAT_ENABLED": "Website chat and page/OA posts",
}


def main() -> None:
    out = [
        "# Settings of the Women's Union chatbot. Copy to .env and fill in what you use.",
        "# Every setting is optional: with none at all the bot starts with the simulator only.",
        "# A channel whose credentials are empty is disabled (one log line says so).",
    ]
    for s in SETTINGS:
        if s.name in GROUPS:
            out += ["", f"# --- {GROUPS[s.name]} ---"]
        out.append(f"# {s.doc}" + (" (secret: never commit or share)" if s.secret else ""))
        out.append(f"{s.name}={s.default}")
    root = Path(__file__).resolve().parent.parent
    (root / ".env.example").write_text("\n".join(out) + "\n", encoding="utf-8")
    rows = ["| Setting | Default | What it does |", "|---|---|---|"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "(empty)"
        rows.append(f"| `{s.name}` | {default} | {s.doc}{' Secret: never commit or log it.' if s.secret else ''} |")
    readme_path = root / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    start, end = "<!-- settings:start -->", "<!-- settings:end -->"
    head, _, rest = readme.partition(start)
    _, _, tail = rest.partition(end)
    readme_path.write_text(head + start + "\n" + "\n".join(rows) + "\n" + end + tail, encoding="utf-8")
    print("wrote .env.example and the README settings table")


if __name__ == "__main__":
    main()
