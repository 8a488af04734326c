"""The relevance-judgment tools: reading ratings, and tools/judge_merge.py merging the judges' files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answers.bank import ContentBank
from bot.answers.evaluation import (
    answer_fingerprint,
    current_judgments,
    load_judgments,
    read_judgments,
    read_ratings,
)
from tools import judge_merge
from tools.judge_pool import question_key

SMALL = Path(__file__).resolve().parents[1] / "data" / "content_small"
Q1, Q2, Q3 = "vn co bn hon dao", "bien gioi viet lao dai bao nhieu", "bo bien dai bao nhieu"
HEADER = "# Independent relevance judgments (a test copy).\n# Kept by the merge.\n"


def test_read_ratings_reads_every_list_and_a_bare_no():
    item = {"q": Q1, "full": ["a"], "partial": ["b", 7], False: ["c"]}  # what YAML makes of a bare `no:`
    assert read_ratings(item) == {"a": "full", "b": "partial", "7": "partial", "c": "no"}
    assert read_ratings({"q": Q1, "no": ["c"], "partial": None}) == {"c": "no"}
    with pytest.raises(ValueError, match="'partial' cần là một danh sách id"):
        read_ratings({"q": Q1, "partial": "b"})


def test_read_judgments_gives_every_rating_and_current_judgments_the_valid_ones(tmp_path):
    snap = ContentBank.load(SMALL).snapshot()
    path = tmp_path / "judgments.yaml"
    path.write_text(
        f"judgments:\n  - q: {Q1}\n    full: [bien-dao-so-dao]\n    no: [bien-gioi-viet-lao]\n"
        f"answers:\n  bien-dao-so-dao: '{answer_fingerprint(snap.get('bien-dao-so-dao').answer)}'\n"
        "  bien-gioi-viet-lao: 'aaaaaaaaaa'\n",  # judged against another text
        encoding="utf-8",
    )
    judged, fingerprints = read_judgments(path)
    assert judged == {Q1: {"bien-dao-so-dao": "full", "bien-gioi-viet-lao": "no"}} == load_judgments(path)
    assert current_judgments(judged, fingerprints, snap) == {Q1: {"bien-dao-so-dao": "full"}} == load_judgments(path, snap)


@pytest.fixture
def files(tmp_path):
    """A question file, a judgments file with one judged question, and a folder for the judges' files."""
    snap = ContentBank.load(SMALL).snapshot()
    questions = tmp_path / "questions.yaml"
    questions.write_text(
        "questions:\n"
        + "".join(f"  - {{q: '{q}', expect: bien-dao-so-dao, split: {s}}}\n" for q, s in ((Q1, "dev"), (Q2, "test"), (Q3, "dev"))),
        encoding="utf-8",
    )
    judgments = tmp_path / "judgments.yaml"
    fp = {e: answer_fingerprint(snap.get(e).answer) for e in ("bien-dao-so-dao", "bien-gioi-viet-lao")}
    judgments.write_text(
        HEADER + "judgments:\n"
        f"  - q: {Q1}\n"
        '    "full": [bien-dao-so-dao]\n'
        '    "partial": []\n'
        '    "no": [bien-gioi-viet-lao]\n'
        "# The answer text each rated entry had when judged (sha1, 10 hex digits): a rating of an entry whose answer\n"
        "# has changed since is unjudged until judged again (tools/judge_pool.py --missing).\n"
        "answers:\n"
        f"  bien-dao-so-dao: '{fp['bien-dao-so-dao']}'\n"
        f"  bien-gioi-viet-lao: '{fp['bien-gioi-viet-lao']}'\n",
        encoding="utf-8",
    )
    folder = tmp_path / "judged"
    folder.mkdir()
    return questions, judgments, folder, snap


def _merge(folder: Path, judgments: Path, questions: Path) -> None:
    judge_merge.main([str(folder), "--content", str(SMALL), "--judgments", str(judgments), "--questions", str(questions)])


def test_merge_adds_the_judges_ratings_by_question_key(files, capsys):
    questions, judgments, folder, snap = files
    (folder / "judged-1.yaml").write_text(
        "judgments:\n"
        f"  - key: '{question_key(Q3)}'\n"
        "    full: [bien-dao-bo-bien]\n"
        "    partial: []\n"
        "    no: [bien-gioi-viet-lao]\n",  # a bare `no:`, as judges write it
        encoding="utf-8",
    )
    (folder / "judged-2.yaml").write_text(
        f'judgments:\n  - {{key: "{question_key(Q1)}", "full": [], "partial": [bien-dao-cac-vung-bien], "no": []}}\n',
        encoding="utf-8",
    )
    (folder / "notes.yaml").write_text("judgments: [{key: 'ffffffff', full: [x]}]\n", encoding="utf-8")  # not judged-*
    _merge(folder, judgments, questions)
    assert "3 ratings merged; 2 entries judged against a new answer" in capsys.readouterr().out

    assert load_judgments(judgments, snap) == {
        Q1: {"bien-dao-so-dao": "full", "bien-dao-cac-vung-bien": "partial", "bien-gioi-viet-lao": "no"},  # kept
        Q3: {"bien-dao-bo-bien": "full", "bien-gioi-viet-lao": "no"},
    }
    text = judgments.read_text(encoding="utf-8")
    assert text.startswith(HEADER + "judgments:\n")
    assert text.index(Q1) < text.index(Q3) and Q2 not in text  # the question file's order; nothing for Q2
    _, fingerprints = read_judgments(judgments)
    assert fingerprints == {e: answer_fingerprint(snap.get(e).answer) for e in
                            ("bien-dao-bo-bien", "bien-dao-cac-vung-bien", "bien-dao-so-dao", "bien-gioi-viet-lao")}

    before = judgments.read_bytes()
    for path in folder.glob("judged-*.yaml"):
        path.unlink()
    _merge(folder, judgments, questions)  # nothing new: the file comes out byte for byte
    assert judgments.read_bytes() == before


def test_merge_drops_a_rating_made_against_an_older_answer_unless_repeated(files):
    questions, judgments, folder, snap = files
    text = judgments.read_text(encoding="utf-8")
    old = answer_fingerprint(snap.get("bien-gioi-viet-lao").answer)
    judgments.write_text(text.replace(old, "0123abcdef"), encoding="utf-8")  # judged when it said something else
    (folder / "judged-1.yaml").write_text(
        f"judgments:\n  - key: '{question_key(Q2)}'\n    full: [bien-gioi-viet-lao]\n", encoding="utf-8"
    )
    _merge(folder, judgments, questions)
    assert load_judgments(judgments) == {Q1: {"bien-dao-so-dao": "full"}, Q2: {"bien-gioi-viet-lao": "full"}}
    assert read_judgments(judgments)[1]["bien-gioi-viet-lao"] == old


@pytest.mark.parametrize(
    ("judged", "message"),
    [
        ("judgments:\n  - {key: 'deadbeef', full: [bien-dao-so-dao]}\n", "judged-1.yaml: no question of questions.yaml has the key deadbeef"),
        (f"judgments:\n  - {{key: '{question_key(Q2)}', full: bien-dao-so-dao}}\n", "judged-1.yaml: item 1 .*'full' cần là một danh sách id"),
        (f"judgments:\n  - {{key: '{question_key(Q2)}', full: [khong-co]}}\n", "does not have: khong-co"),
        ("- {key: 'deadbeef'}\n", "judged-1.yaml: cần một danh sách 'judgments:'"),  # no judgments: list
        ("judgments: [\n", "judged-1.yaml: YAML không hợp lệ"),
        ("judgments:\n  - {full: [bien-dao-so-dao]}\n", "judged-1.yaml: item 1 needs a key"),
    ],
)
def test_merge_refuses_a_bad_judges_file_and_leaves_the_judgments_alone(files, judged, message):
    questions, judgments, folder, _ = files
    before = judgments.read_bytes()
    (folder / "judged-1.yaml").write_text(judged, encoding="utf-8")
    with pytest.raises(SystemExit, match=message):
        _merge(folder, judgments, questions)
    assert judgments.read_bytes() == before
