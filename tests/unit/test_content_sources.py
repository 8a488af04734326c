"""Source rules (content/sources.yaml), review dates, and how sources are shown to members."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.answers import citation
from bot.answers import reply as answers
from bot.answers.bank import ContentBank, Source, check_content, parse_content
from bot.answers.check import due_for_review
from bot.answers.sources import (
    FORBIDDEN,
    UNKNOWN,
    SourcesFileError,
    clean_host,
    load_rules,
    parse_rules,
)
from bot.participation.quiz_flow import cite

ROOT = Path(__file__).resolve().parents[2]
SMALL = Path(__file__).resolve().parents[1] / "data" / "content_small"
ORG = {"ORG_NAME": "Hội LHPN", "ORG_PHONES": [], "ORG_EMAIL": "", "ORG_WEBSITE": ""}

RULES = parse_rules({
    "tiers": {
        "T1": ["vbpl.vn", "chinhphu.vn", "moj.gov.vn"],
        "T2": ["baochinhphu.vn", "qdnd.vn"],
        "T3": ["thads.moj.gov.vn", "tuoitre.vn"],
        "T4": ["luatvietnam.vn", "vietbao.vn"],
    },
    "forbidden": ["vietbao.com", "wikipedia.org", "bbc.com"],
    "forbidden_host_contains": ["kuwin", "blogspot."],
    "suffixes": {"T3": [".gov.vn", ".dcs.vn"]},
})


@pytest.mark.parametrize(
    ("host", "tier"),
    [
        ("vbpl.vn", "T1"),
        ("www.vbpl.vn", "T1"),
        ("VBPL.VN:443", "T1"),
        ("vbpl.vn.", "T1"),
        ("m.qdnd.vn", "T2"),  # a subdomain matches
        ("baochinhphu.vn", "T2"),  # not "chinhphu.vn": subdomains are separated by a dot
        ("vanban.chinhphu.vn", "T1"),
        ("thads.moj.gov.vn", "T3"),  # the longest listed domain decides
        ("moj.gov.vn", "T1"),
        ("cantho.gov.vn", "T3"),  # suffix rule
        ("tinhuy.dcs.vn", "T3"),
        ("vietbao.vn", "T4"),
        ("vietbao.com", FORBIDDEN),
        ("vi.wikipedia.org", FORBIDDEN),
        ("kuwin88.bet", FORBIDDEN),
        ("abc.blogspot.com.au", FORBIDDEN),
        ("example.com", UNKNOWN),
        ("", UNKNOWN),
    ],
)
def test_tier_of_host(host, tier):
    assert RULES.tier_of_host(host) == tier


def test_tier_of_url():
    assert RULES.tier_of_url("https://www.bbc.com/vietnamese/x") == FORBIDDEN
    assert RULES.tier_of_url("http://user@qdnd.vn:8080/a?b=c") == "T2"
    assert RULES.tier_of_url(None) is None
    assert clean_host("WWW.Tuoitre.VN.") == "tuoitre.vn"
    assert RULES.shown("https://luatvietnam.vn/x") is False and RULES.shown(None) is True


def test_the_shipped_list_loads_and_follows_its_own_comment():
    rules = load_rules(ROOT / "content")
    assert rules.tier_of_host("baochinhphu.vn") == "T2" and rules.tier_of_host("chinhphu.vn") == "T1"
    assert rules.tier_of_host("thads.moj.gov.vn") == "T3" and rules.tier_of_host("moj.gov.vn") == "T1"
    assert rules.tier_of_host("vietbao.com") == FORBIDDEN and rules.tier_of_host("vietbao.vn") == "T4"
    assert rules.tier_of_host("nhanquyenchovn.blogspot.com") == FORBIDDEN
    assert rules.tier_of_host("soctrang.gov.vn") == "T3" and rules.tier_of_host("xa.cantho.gov.vn") == "T3"


def test_a_malformed_list_is_reported():
    with pytest.raises(SourcesFileError):
        parse_rules({"tiers": {"T9": ["a.vn"]}})
    with pytest.raises(SourcesFileError):
        parse_rules({"tiers": {"T1": "a.vn"}})


# -- the checker -------------------------------------------------------------------------------

ENTRY = """\
  - id: {id}
    topic: bien-dao
    question: Câu hỏi {id}?
    variants: [cau hoi {id}, câu hỏi số {id}, hoi {id}]
    keywords: [{id}]
    answer: Câu trả lời {id}.
    sources:
{sources}
    status: {status}
    reviewed: {reviewed}
{extra}"""


def _source(url: str | None, name: str = "Nguồn") -> str:
    return f"      - name: {name}\n        date: 2025\n" + (f"        url: {url}\n" if url else "")


@pytest.fixture
def bank_dir(tmp_path: Path, clock):
    """A copy of the small bank, plus a file of entries written by the test (reviewed a month before the pinned
    clock's today)."""
    reviewed = clock.local("Asia/Ho_Chi_Minh").date() - dt.timedelta(days=30)
    target = tmp_path / "content"
    shutil.copytree(SMALL, target)

    def write(*entries: tuple[str, list[str | None], str] | tuple[str, list[str | None], str, str]) -> Path:
        blocks = []
        for item in entries:
            entry_id, urls, status = item[:3]
            extra = item[3] if len(item) > 3 else ""
            blocks.append(ENTRY.format(id=entry_id, sources="".join(_source(u) for u in urls).rstrip("\n"), status=status,
                                      reviewed=reviewed, extra=extra))
        (target / "bank" / "z-test.yaml").write_text("entries:\n" + "\n".join(blocks), encoding="utf-8")
        return target

    return write


def _mine(issues):
    return [i for i in issues if Path(i.file).name == "z-test.yaml"]


def test_a_forbidden_host_fails_with_its_line(bank_dir):
    folder = bank_dir(("cam", ["https://vbpl.vn/a", "https://www.bbc.com/vietnamese/x"], "approved"))
    issues = _mine(check_content(folder, rules=RULES))
    errors = [i for i in issues if i.is_error]
    assert len(errors) == 1 and errors[0].entry_id == "cam" and "bbc.com" in errors[0].message
    assert errors[0].line == 12  # the second source's "- name:" line
    assert "cam" not in {e.id for e in parse_content(folder, rules=RULES)[1]}  # never served


def test_a_forbidden_host_fails_a_draft_too(bank_dir):
    folder = bank_dir(("nhap", ["https://kuwin99.com/x"], "draft"))
    assert [i.entry_id for i in _mine(check_content(folder, rules=RULES)) if i.is_error] == ["nhap"]


def test_an_unknown_host_warns(bank_dir):
    folder = bank_dir(("la", ["https://example.com/a"], "approved"))
    issues = _mine(check_content(folder, rules=RULES))
    assert not [i for i in issues if i.is_error]
    warning = next(i for i in issues if "chưa phân loại" in i.message)
    assert warning.entry_id == "la" and "example.com" in warning.message


def test_an_approved_entry_with_only_t4_sources_fails(bank_dir):
    folder = bank_dir(
        ("chi-t4", ["https://luatvietnam.vn/a", "https://vietbao.vn/b"], "approved"),
        ("t4-va-t1", ["https://luatvietnam.vn/a", "https://vbpl.vn/b"], "approved"),
        ("t4-va-khong-link", ["https://luatvietnam.vn/a", None], "approved"),
        ("nhap-t4", ["https://luatvietnam.vn/a"], "draft"),
        ("khong-link", [None], "approved"),
    )
    errors = [i for i in _mine(check_content(folder, rules=RULES)) if i.is_error]
    assert [(i.entry_id, "T4" in i.message) for i in errors] == [("chi-t4", True)]


def test_the_content_folder_s_own_list_is_used(bank_dir):
    folder = bank_dir(("rieng", ["https://example.com/a"], "approved"))
    (folder / "sources.yaml").write_text("tiers:\n  T2: [example.com]\nforbidden: []\n", encoding="utf-8")
    assert not [i for i in _mine(check_content(folder)) if "nguồn" in i.message]
    (folder / "sources.yaml").write_text("tiers:\n  T2: []\nforbidden: [example.com]\n", encoding="utf-8")
    assert [i.entry_id for i in _mine(check_content(folder)) if i.is_error] == ["rieng"]


def test_the_shipped_bank_passes_the_source_rules():
    issues = check_content(ROOT / "content")
    assert [str(i) for i in issues if i.is_error] == []
    assert [str(i) for i in issues if "nguồn" in i.message and ("cấm" in i.message or "chưa phân loại" in i.message)] == []
    rules = load_rules(ROOT / "content")
    _, entries, _ = parse_content(ROOT / "content")
    for entry in (e for e in entries if e.approved):
        tiers = [rules.tier_of_url(s.url) for s in entry.sources]
        assert not all(t == "T4" for t in tiers), entry.id


# -- review dates ------------------------------------------------------------------------------


def test_a_passed_review_date_warns_only_when_today_is_given(bank_dir, clock):
    today = clock.local("Asia/Ho_Chi_Minh").date()
    folder = bank_dir(
        ("qua-han", ["https://vbpl.vn/a"], "approved", f"    review_by: {today - dt.timedelta(days=1)}\n"),
        ("hom-nay", ["https://vbpl.vn/a"], "approved", f"    review_by: {today}\n"),
        ("con-han", ["https://vbpl.vn/a"], "approved", f"    review_by: {today + dt.timedelta(days=1)}\n"),
    )
    assert not [i for i in _mine(check_content(folder)) if "hạn rà soát" in i.message]
    due = [i for i in _mine(check_content(folder, today=today)) if "hạn rà soát" in i.message]
    assert [(i.entry_id, i.is_error) for i in due] == [("qua-han", False), ("hom-nay", False)]
    assert due[0].line == 14  # the review_by line
    entries = parse_content(folder)[1]
    assert [e.id for e in due_for_review(entries, today)] == ["qua-han", "hom-nay"]


# -- what members see --------------------------------------------------------------------------


def _entry(*sources: Source):
    bank = ContentBank.load(SMALL)
    entry = bank.get("bien-dao-bo-bien")
    return bank, entry.__class__(**{**entry.__dict__, "sources": sources})


def test_members_see_at_most_two_short_sources_never_a_t4_one():
    bank, entry = _entry(
        Source("Luật Việt Nam", url="https://luatvietnam.vn/x", date="2020"),
        Source("Báo Biên phòng, 3/2025", url="https://bienphong.com.vn/a", date="2025-03-02", title="Báo Biên phòng, bài rất dài"),
        Source("Luật Biên giới quốc gia 2003", number="06/2003/QH11", date="2003-06-17"),
        Source("Báo Quân đội nhân dân", url="https://qdnd.vn/b"),
    )
    line = citation.source_line(entry, rules=load_rules(ROOT / "content"))
    # the T4 source is skipped; the date is not repeated after a name that ends with one
    assert line == "Nguồn: Báo Biên phòng, 3/2025 – https://bienphong.com.vn/a; Luật Biên giới quốc gia 2003"
    text = answers.entry_reply(entry, bank, ORG).text
    assert text.endswith(line) and "năm 2025" not in text and "bài rất dài" not in text


def test_a_second_source_keeps_its_link_only_while_the_reply_stays_short():
    bank, entry = _entry(Source("Báo A", url="https://qdnd.vn/" + "a" * 80), Source("Báo B", url="https://qdnd.vn/" + "b" * 80))
    assert citation.source_line(entry).count("https://") == 2
    assert citation.source_line(entry, room=150).count("https://") == 1
    assert "Báo B" in citation.source_line(entry, room=150)
    assert "https://" not in citation.source_line(entry, links=False)
    long_answer = entry.__class__(**{**entry.__dict__, "answer": "x " * 280})
    assert answers.entry_reply(long_answer, bank, ORG).text.count("https://") == 1


def test_a_long_name_is_cut_to_60_characters():
    shown = citation.short_source(Source("Một tên nguồn rất dài " * 5, date="2024-05-01"), link=False)
    assert len(shown.split(", 1/5/2024")[0]) <= 60 and shown.endswith(", 1/5/2024")


def test_quiz_feedback_cites_one_short_source():
    _, entry = _entry(
        Source("Báo Biên phòng, 3/2025", url="https://bienphong.com.vn/a", title="Bài dài"),
        Source("Báo Quân đội nhân dân", url="https://qdnd.vn/b"),
    )
    entry = entry.__class__(**{**entry.__dict__, "file": str(ROOT / "content" / "bank" / "x.yaml")})
    assert cite(entry) == "Nguồn: Báo Biên phòng, 3/2025 – https://bienphong.com.vn/a"
    assert cite(None) == ""


def test_the_bank_reads_the_source_lists_with_its_files_and_notices_when_they_change(tmp_path):
    from bot.answers.bank import bank_signature

    content = tmp_path / "content"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "content_small", content)
    shutil.copy(Path(__file__).resolve().parents[2] / "content" / "sources.yaml", content / "sources.yaml")
    bank = ContentBank.load(content)
    assert bank.snapshot().source_rules is not None  # read once with the bank, not on every reply
    before = bank_signature(str(content))
    (content / "sources.yaml").write_text((content / "sources.yaml").read_text(encoding="utf-8") + "\n# sửa\n", encoding="utf-8")
    assert bank_signature(str(content)) != before  # an edited source list reloads the bank
