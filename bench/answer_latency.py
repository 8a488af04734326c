"""Answer latency: index build time, p50/p99 per question and peak RSS.

Two scenarios, each in a fresh process so peak RSS is its own:

- ``shipped``: the bank in content/;
- ``padded``: the shipped bank plus synthetic entries up to 10,000 in all.

Synthetic entries are built from the shipped bank's own wording (question
templates, noun phrases cut from keywords and questions, answer sentences) plus
place names, so their vocabulary and feature statistics look like the real
bank's; each gets the variants members type (no diacritics, chat
abbreviations, filler).  Questions timed: the evaluation set when it exists,
the shipped bank's variants, perturbed variants of synthetic entries, and
off-topic questions; each goes through the whole engine (bot.answers.reply.answer).

    .venv/bin/python bench/answer_latency.py            # both scenarios
    .venv/bin/python bench/answer_latency.py --entries 5000 --questions 2000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answers import normalize as textnorm  # noqa: E402
from bot.answers import reply as answers
from bot.answers.bank import BankSnapshot, Entry, parse_content  # noqa: E402
from bot.answers.matcher import Matcher  # noqa: E402
from bot.core.config import load_config  # noqa: E402

PLACES = (
    "Hà Nội Huế Đà Nẵng Cần Thơ Hải Phòng Quảng Ninh Lạng Sơn Cao Bằng Lào Cai Điện Biên Lai Châu Sơn La "
    "Thanh Hóa Nghệ An Hà Tĩnh Quảng Trị Quảng Ngãi Gia Lai Đắk Lắk Lâm Đồng Khánh Hòa Đồng Nai Tây Ninh "
    "Đồng Tháp An Giang Cà Mau Vĩnh Long Tuyên Quang Thái Nguyên Phú Thọ Bắc Ninh Hưng Yên Ninh Bình "
    "Sóc Trăng Bạc Liêu Kiên Giang Phú Quốc Côn Đảo Lý Sơn Cô Tô Bạch Long Vĩ Cồn Cỏ Phú Quý Thổ Chu "
    "Vĩnh Châu Trần Đề Cù Lao Dung Móng Cái Hà Tiên Cam Ranh Trường Sa Hoàng Sa Song Tử Sinh Tồn"
).split()
TEMPLATES = (
    "{a} là gì?", "{a} có bao nhiêu {b}?", "{a} ở đâu?", "{a} được thành lập khi nào?",
    "Vì sao {a} lại {b}?", "{a} của {p} dài bao nhiêu km?", "Ai chịu trách nhiệm {a} ở {p}?",
    "{a} gồm những {b} nào?", "{a} có ý nghĩa gì đối với {b}?", "Khi nào tổ chức {a} tại {p}?",
    "{a} và {b} khác nhau thế nào?", "Phụ nữ {p} tham gia {a} như thế nào?",
)
FILLERS = ("cho em hỏi {q} ạ", "ad ơi {q} vậy", "{q} nhỉ", "mình muốn hỏi {q}", "{q} với ạ")
ABBREV = {"không": "ko", "bao nhiêu": "bn", "việt nam": "vn", "được": "dc", "như thế nào": "ntn", "gì": "j"}
OFF_TOPIC = (
    "giá vàng hôm nay bao nhiêu", "thời tiết ngày mai thế nào", "cách nấu phở bò", "lam sao de giam can",
    "xổ số miền nam hôm nay", "lai suat ngan hang bao nhieu", "lịch cúp điện tuần này", "cách làm bánh xèo",
    "con bị sốt phải làm sao", "học phí đại học năm nay", "mua vé máy bay ở đâu rẻ", "cach lam can cuoc",
)


def phrases_from(entries: list[Entry]) -> list[str]:
    """Noun-phrase-like pieces of 1-4 syllables from keywords and questions."""
    pool = [k for e in entries for k in e.keywords if 1 <= len(k.split()) <= 4]
    for e in entries:
        words = e.question.rstrip("?").split()
        for _ in range(3):
            n = random.randint(2, 3)
            if len(words) > n:
                i = random.randrange(len(words) - n)
                pool.append(" ".join(words[i : i + n]))
    pool += [" ".join(PLACES[i : i + 2]) for i in range(0, len(PLACES) - 1, 2)]
    return pool


def abbreviate(text: str) -> str:
    text = text.lower()
    for long, short in ABBREV.items():
        text = text.replace(long, short)
    return text


def synthetic_entries(real: list[Entry], count: int, topics: list[str]) -> list[Entry]:
    """``count`` plausible entries built from the real bank's wording."""
    phrases = phrases_from(real)
    sentences = [s.strip() + "." for e in real for s in e.answer.split(".") if len(s.split()) > 6]
    places = [" ".join(PLACES[i : i + 2]) for i in range(0, len(PLACES) - 1, 2)]
    template = real[0]
    out = []
    for n in range(count):
        a, b = random.sample(phrases, 2)
        p = random.choice(places)
        question = random.choice(TEMPLATES).format(a=a, b=b, p=p)
        question = question[0].upper() + question[1:]
        variants = (
            textnorm.fold(question).rstrip("?"),
            abbreviate(question.rstrip("?")),
            random.choice(FILLERS).format(q=question.rstrip("?").lower()),
            textnorm.fold(random.choice(TEMPLATES).format(a=a, b=b, p=p)),
        )
        answer = " ".join(random.sample(sentences, random.randint(3, 5))).replace(
            random.choice(phrases), a, 1
        )[:1400]
        out.append(replace(
            template, id=f"synthetic-{n}", topic=random.choice(topics), question=question,
            variants=variants, keywords=(a, b, p), answer=answer, related=(),
        ))
    return out


def perturb(text: str) -> str:
    """A member's version of a phrasing: drop a word, maybe strip diacritics."""
    words = text.split()
    if len(words) > 4:
        del words[random.randrange(len(words))]
    text = " ".join(words)
    return textnorm.fold(text) if random.random() < 0.5 else text


def questions_for(real: list[Entry], synthetic: list[Entry], limit: int) -> list[str]:
    qs: list[str] = []
    eval_file = ROOT / "tests" / "eval" / "questions.yaml"
    if eval_file.exists():
        import yaml

        qs += [q["q"] for q in (yaml.safe_load(eval_file.read_text(encoding="utf-8")) or {}).get("questions", [])]
    qs += [perturb(v) for e in real for v in e.variants]
    qs += [perturb(random.choice(e.variants)) for e in random.sample(synthetic, min(len(synthetic), limit))]
    qs += list(OFF_TOPIC) * 5
    random.shuffle(qs)
    return qs[:limit]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_scenario(name: str, total: int, limit: int) -> dict[str, float]:
    random.seed(42)
    topics, entries, _ = parse_content(ROOT / "content")
    real = [e for e in entries if e.approved]
    rss_before = rss_mib()
    synthetic = synthetic_entries(real, max(0, total - len(real)), [t.id for t in topics.values()]) if name == "padded" else []
    bank_entries = real + synthetic
    started = time.perf_counter()
    matcher = Matcher(bank_entries)
    build = time.perf_counter() - started
    snap = BankSnapshot(
        content_dir=str(ROOT / "content"), topics=list(topics.values()), entries=bank_entries, issues=(), matcher=matcher
    )
    config = load_config({})  # the shipped defaults
    org = {k: config[k] for k in ("ORG_NAME", "ORG_PHONES", "ORG_EMAIL", "ORG_WEBSITE")}
    thresholds = {"answer_threshold": config["ANSWER_THRESHOLD"], "suggest_threshold": config["SUGGEST_THRESHOLD"]}
    questions = questions_for(real, synthetic, limit)
    for q in questions[:50]:  # warm up caches
        answers.answer(q, snap, org=org, **thresholds)
    times = []
    for q in questions:
        t0 = time.perf_counter()
        answers.answer(q, snap, org=org, **thresholds)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "entries": len(bank_entries),
        "questions": len(times),
        "build_s": build,
        "p50_ms": statistics.median(times),
        "p99_ms": times[int(0.99 * (len(times) - 1))],
        "max_ms": times[-1],
        "rss_before_mib": rss_before,
        "peak_rss_mib": rss_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=("shipped", "padded"))
    parser.add_argument("--entries", type=int, default=10_000, help="total entries of the padded bank")
    parser.add_argument("--questions", type=int, default=3000, help="questions timed per scenario")
    args = parser.parse_args()
    if args.scenario:  # child process: one scenario, JSON out
        print(json.dumps(run_scenario(args.scenario, args.entries, args.questions)))
        return
    print(f"{'bank':<10}{'entries':>8}{'questions':>10}{'build s':>9}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'peak RSS MiB':>14}")
    for scenario in ("shipped", "padded"):
        out = subprocess.run(
            [sys.executable, __file__, "--scenario", scenario, "--entries", str(args.entries), "--questions", str(args.questions)],
            check=True, capture_output=True, text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{scenario:<10}{r['entries']:>8}{r['questions']:>10}{r['build_s']:>9.2f}{r['p50_ms']:>8.2f}"
            f"{r['p99_ms']:>8.2f}{r['max_ms']:>8.1f}{r['peak_rss_mib']:>8.0f} (start {r['rss_before_mib']:.0f})"
        )


if __name__ == "__main__":
    main()
