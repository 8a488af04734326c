"""How long the bank's replies are, as a member sees them on Messenger.

Every approved entry's canonical question goes through the real answer engine
(:func:`bot.answers.reply.answer`, with the configured thresholds), and the reply is
rendered by the Messenger channel: the characters counted are every message's text
(the answer, the source line) plus the titles of its buttons and quick replies.
Prints the median, the 90th percentile, the maximum and every entry over the limit.

    .venv/bin/python tools/reply_sizes.py [--content DIR] [--limit 1100] [--all]

Targets (tests/unit/test_reply_sizes.py holds them on the shipped bank): median ≤ 650,
maximum ≤ 1,100 characters.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.answers import reply as answers
from bot.answers.bank import ContentBank, resolve_content_dir
from bot.channels.messenger import MessengerChannel
from bot.core.config import load_config

MEDIAN_TARGET = 650
MAX_TARGET = 1100


@dataclass
class Measure:
    entry_id: str
    decision: str
    chars: int


@dataclass
class SizeReport:
    measures: list[Measure] = field(default_factory=list)
    limit: int = MAX_TARGET

    @property
    def sizes(self) -> list[int]:
        return sorted(m.chars for m in self.measures)

    @property
    def median(self) -> float:
        return statistics.median(self.sizes) if self.measures else 0.0

    @property
    def p90(self) -> int:
        sizes = self.sizes
        if not sizes:
            return 0
        rank = max(0, -(-9 * len(sizes) // 10) - 1)  # nearest rank
        return sizes[rank]

    @property
    def maximum(self) -> int:
        return max(self.sizes, default=0)

    @property
    def over(self) -> list[Measure]:
        return sorted((m for m in self.measures if m.chars > self.limit), key=lambda m: -m.chars)


def rendered_chars(messages: list[dict[str, Any]]) -> int:
    """Characters a member reads in Messenger messages: texts, button and quick-reply titles."""
    total = 0
    for message in messages:
        total += len(message.get("text") or "")
        payload = (message.get("attachment") or {}).get("payload") or {}
        total += len(payload.get("text") or "")
        total += sum(len(b.get("title") or "") for b in payload.get("buttons") or [])
        total += sum(len(q.get("title") or "") for q in message.get("quick_replies") or [])
    return total


def measure(content_dir: str | os.PathLike[str], config: dict[str, Any] | None = None, *, limit: int = MAX_TARGET) -> SizeReport:
    """Answer every approved entry's canonical question and measure the Messenger rendering."""
    config = dict(config or load_config(os.environ))
    bank = ContentBank.load(content_dir)
    snap = bank.snapshot()
    channel = MessengerChannel(config)
    org = {k: config[k] for k in ("ORG_NAME", "ORG_PHONES", "ORG_EMAIL", "ORG_WEBSITE", "DATA_RETENTION_MONTHS")}
    report = SizeReport(limit=limit)
    for entry in snap.approved:
        result = answers.answer(
            entry.question, snap, org=org,
            answer_threshold=config["ANSWER_THRESHOLD"], suggest_threshold=config["SUGGEST_THRESHOLD"],
        )
        report.measures.append(Measure(entry.id, result.decision, rendered_chars(channel.render(result.reply))))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", default=None, help="content folder (default: CONTENT_DIR or content/)")
    parser.add_argument("--limit", type=int, default=MAX_TARGET, help="list the entries over this many characters")
    parser.add_argument("--all", action="store_true", help="print every entry's size, longest first")
    args = parser.parse_args(argv)
    config = load_config(os.environ)
    content_dir = resolve_content_dir(args.content or config["CONTENT_DIR"])
    report = measure(content_dir, config, limit=args.limit)
    print(f"{len(report.measures)} câu hỏi chuẩn của các mục đã duyệt (Messenger: chữ + dòng nguồn + nút chọn)")
    print(f"trung vị: {report.median:.0f} ký tự (mục tiêu ≤ {MEDIAN_TARGET})")
    print(f"p90: {report.p90} ký tự")
    print(f"dài nhất: {report.maximum} ký tự (mục tiêu ≤ {MAX_TARGET})")
    print(f"trên {args.limit} ký tự: {len(report.over)}")
    for m in report.over:
        print(f"  {m.entry_id}: {m.chars} ({m.decision})")
    if args.all:
        for m in sorted(report.measures, key=lambda m: -m.chars):
            print(f"  {m.chars:5d}  {m.entry_id} ({m.decision})")
    not_answered = [m for m in report.measures if m.decision != answers.ANSWER]
    if not_answered:
        print(f"câu hỏi chuẩn không được trả lời thẳng (gợi ý/không biết): {len(not_answered)}: "
              + ", ".join(m.entry_id for m in not_answered))
    ok = report.median <= MEDIAN_TARGET and report.maximum <= MAX_TARGET
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
