"""Regenerate .env.example from bot/config.py's SETTINGS (run after adding a setting)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import SETTINGS  # noqa: E402

GROUPS = {
    "HOST": "Server",
    "MESSENGER_APP_SECRET": "Messenger",
    "ZALO_APP_ID": "Zalo Official Account",
    "ZALO_BOT_TOKEN": "Zalo Bot",
    "MESSENGER_RATE_PER_SECOND": "Delivery and rate limits",
    "TIMEZONE": "Broadcasts",
    "ANSWER_THRESHOLD": "Answers",
    "ORG_NAME": "Organisation (shown to members)",
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
    path = Path(__file__).resolve().parent.parent / ".env.example"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
