"""Ranking and coverage over the small fixture bank (tests/data/content_small)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.answers.bank import parse_content
from bot.answers.matcher import Matcher, group_similar, grouping_features, jaccard

SMALL = Path(__file__).resolve().parents[1] / "data" / "content_small"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    _, entries, issues = parse_content(SMALL)
    assert not [i for i in issues if i.is_error]
    return Matcher(e for e in entries if e.approved)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # with and without diacritics
        ("Bờ biển Việt Nam dài bao nhiêu km?", "bien-dao-bo-bien"),
        ("bo bien viet nam dai bao nhieu km", "bien-dao-bo-bien"),
        ("BỜ BIỂN VN DÀI BAO NHIÊUUU", "bien-dao-bo-bien"),
        # chat abbreviations and filler
        ("cho em hoi bo bien vn dai bao nhieu ad", "bien-dao-bo-bien"),
        ("bo bien dai nhieu km vay ad", "bien-dao-bo-bien"),
        ("vn co bn hon dao vay ad", "bien-dao-so-dao"),
        ("nuoc minh co bao nhiu dao", "bien-dao-so-dao"),
        ("bien gioi dat lien vn dai bn km", "bien-gioi-tong-chieu-dai"),
        ("biên giới với tq dài bao nhiêu", "bien-gioi-viet-trung"),
        ("bien gioi viet lao bnh km", "bien-gioi-viet-lao"),
        ("luat bien co hieu luc tu khi nao", "phap-luat-luat-bien-2012"),
        ("luật biển vn có hiệu lực khi nào ạ", "phap-luat-luat-bien-2012"),
        ("khu vực biên giới là những xã nào", "bien-gioi-khu-vuc"),
        ("muốn hỏi thêm thì liên hệ ai", "bien-dao-lien-he"),
    ],
)
def test_finds_the_right_entry(matcher, question, expected):
    candidates = matcher.search(question, 3)
    assert candidates[0].entry_id == expected


@pytest.mark.parametrize(
    ("question", "expected", "other"),
    [
        # "biển" (sea) and "biên" (border) fold alike; the typed marks decide
        ("vùng biển gồm những gì", "bien-dao-cac-vung-bien", "bien-gioi-khu-vuc"),
        ("vùng biên gồm những gì", "bien-gioi-khu-vuc", "bien-dao-cac-vung-bien"),
    ],
)
def test_accents_resolve_folding_collisions(matcher, question, expected, other):
    candidates = matcher.search(question, 3)
    assert candidates[0].entry_id == expected
    assert matcher.coverage(_features(question), expected) > matcher.coverage(_features(question), other)


def test_without_accents_the_collision_is_a_near_tie(matcher):
    # the same words typed without marks cannot be told apart: both entries cover them equally
    first, second = matcher.search("vung bien gom nhung gi", 2)
    assert {first.entry_id, second.entry_id} == {"bien-dao-cac-vung-bien", "bien-gioi-khu-vuc"}
    assert first.score == pytest.approx(second.score)


@pytest.mark.parametrize("question", ["giá vàng hôm nay", "cách nấu phở bò", "lương hưu tăng bao nhiêu", "thoi tiet ngay mai"])
def test_off_topic_questions_have_low_coverage(matcher, question):
    candidates = matcher.search(question, 3)
    assert all(c.score < 0.2 for c in candidates)


@pytest.mark.parametrize("question", ["", "ad ơi ạ", "xyzzy qwerty"])
def test_nothing_to_match_gives_no_candidates(matcher, question):
    assert matcher.search(question, 3) == []


def test_coverage_is_a_share_weighted_by_idf(matcher):
    assert matcher.coverage(_features("Bờ biển Việt Nam dài bao nhiêu km?"), "bien-dao-bo-bien") == pytest.approx(1.0)
    assert matcher.coverage(_features("giá vàng"), "bien-dao-bo-bien") == 0.0
    partial = matcher.coverage(_features("bờ biển giá vàng"), "bien-dao-bo-bien")
    assert 0.0 < partial < 1.0
    # a rare feature weighs more than a common one
    assert matcher.idf("mong") > matcher.idf("bien")  # "Móng Cái": one entry; "biển/biên": most
    assert matcher.coverage(["mong", "xyz"], "bien-dao-bo-bien") > matcher.coverage(["bien", "xyz"], "bien-dao-bo-bien")


def test_unknown_entry_has_no_coverage(matcher):
    assert matcher.coverage(["bien"], "no-such-entry") == 0.0


def test_results_are_sorted_and_limited(matcher):
    candidates = matcher.search("biên giới dài bao nhiêu km", 3)
    assert len(candidates) == 3
    assert [c.rank for c in candidates] == sorted((c.rank for c in candidates), reverse=True)
    assert len({c.entry_id for c in candidates}) == 3


def test_searches_from_many_threads_agree(matcher):
    questions = ["bo bien dai bao nhieu", "vn co bn dao", "luat bien khi nao", "bien gioi viet lao"]
    expected = {q: matcher.search(q, 3) for q in questions}
    errors: list[str] = []

    def worker() -> None:
        for _ in range(50):
            for q in questions:
                if matcher.search(q, 3) != expected[q]:
                    errors.append(q)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@dataclass
class _Doc:
    id: str
    question: str
    variants: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    answer: str = ""


def test_a_big_bank_still_finds_the_rare_terms_entry():
    # 600 entries share "bao nhiêu" (common features are left out of the FTS5 query); the
    # one entry with the rare words must still come first, and coverage still counts everything
    docs = [_Doc(f"e{i}", f"Tỉnh số {i} có bao nhiêu xã?", [f"tinh {i} co bao nhieu xa"]) for i in range(600)]
    docs.append(_Doc("sao-bien", "Sao biển sống ở đâu, ăn gì?", ["sao bien an gi", "con sao biển ở đâu"]))
    m = Matcher(docs)
    top = m.search("sao biển có bao nhiêu loài", 3)[0]
    assert top.entry_id == "sao-bien"
    assert 0.0 < top.score < 1.0


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (
            [
                "biên giới việt lào dài bao nhiêu",
                "giá vàng hôm nay",
                "bien gioi viet lao dai bao nhieu km",
                "cho em hỏi biên giới Việt Lào dài bao nhiêu ạ",
                "gia vang hom nay bao nhieu",
            ],
            [[0, 2, 3], [1, 4]],
        ),
        (["a b c", "x y z"], [[0], [1]]),
        ([], []),
        (["ad ơi", "ạ"], [[0, 1]]),  # nothing left after filler: alike
    ],
)
def test_group_similar(texts, expected):
    assert group_similar(texts) == expected


def test_jaccard():
    a, b = grouping_features("bien gioi viet lao"), grouping_features("biên giới Việt Lào")
    assert jaccard(a, b) == 1.0  # spelling-blind
    assert jaccard(a, grouping_features("gia vang")) == 0.0


def _features(text: str) -> list[str]:
    from bot.answers.normalize import query_features

    return list(dict.fromkeys(query_features(text)))


def _law_docs() -> list[_Doc]:
    return [
        _Doc("luat-bien", "Luật Biển Việt Nam được thông qua khi nào?", ["luật biển có mấy chương"]),
        _Doc(
            "luat-bien-phong",
            "Luật Biên phòng Việt Nam được thông qua khi nào?",
            ["luật biên phòng được quốc hội thông qua năm nào vậy", "luat bien phong viet nam 2020"],
        ),
        _Doc("hai-ly", "Một hải lý bằng bao nhiêu km?", ["hai ly la gi"]),
    ]


def test_a_word_typed_with_marks_counts_against_an_entry_that_spells_it_otherwise():
    # "biển" (sea) and "biên" (border) fold alike; a member who typed the marks did not ask about
    # the law of the border guard, even though its phrasing shares "được quốc hội thông qua"
    m = Matcher(_law_docs())

    def cover(question, entry_id):
        return next(c.score for c in m.search(question, 3) if c.entry_id == entry_id)

    marked, unmarked = "Luật Biển được Quốc hội thông qua năm nào", "luat bien duoc quoc hoi thong qua nam nao"
    assert cover(marked, "luat-bien-phong") < cover(unmarked, "luat-bien-phong") - 0.15
    assert cover(marked, "luat-bien") == pytest.approx(cover(unmarked, "luat-bien"), abs=0.05)
    assert m.search("Luật Biển thông qua khi nào", 1)[0].entry_id == "luat-bien"


def test_an_unmarked_border_compound_does_not_count_for_a_coastal_entry():
    # "bien gioi" typed without marks can only be "biên giới": the coastal entry's "biển" is not the
    # member's word, and the border entry covers more of the message than the coastal one
    docs = [
        _Doc(
            "tinh-ven-bien",
            "Sau sáp nhập năm 2025, cả nước còn bao nhiêu tỉnh có biển?",
            ["sau sáp nhập còn mấy tỉnh có biển", "tỉnh nào giáp biển"],
        ),
        _Doc("tinh-bien-gioi", "Sau sáp nhập, các tỉnh biên giới đất liền thay đổi thế nào?", ["tỉnh biên giới bây giờ"]),
    ]
    m = Matcher(docs)

    def cover(question):
        return {c.entry_id: c.score for c in m.search(question, 2)}

    border = cover("sap nhap xong con may tinh co bien gioi")
    assert border["tinh-bien-gioi"] > border["tinh-ven-bien"]
    sea = cover("sap nhap xong con may tinh co bien")  # "bien" alone may be the sea
    assert sea["tinh-ven-bien"] > sea["tinh-bien-gioi"]


def test_an_everyday_word_matches_only_inside_its_compound():
    docs = [
        _Doc("mai-moi", "Có người mai mối lấy chồng nước ngoài, cần lưu ý gì?", ["mai moi lay chong nuoc ngoai"]),
        _Doc("can-tho-bien", "TP Cần Thơ có biển không?", ["can tho co bien ko"]),
    ]
    m = Matcher(docs)
    weather = m.search("mai can tho co mua ko ad", 2)
    assert weather[0].entry_id == "can-tho-bien"  # "mai" is tomorrow here, not half of "mai mối"
    assert all(c.score < 0.4 for c in weather)
    assert m.search("mai moi lay chong nuoc ngoai co sao khong", 1)[0].entry_id == "mai-moi"


def test_what_a_count_question_counts_lifts_the_entry_that_names_it():
    docs = [
        _Doc("tinh", "Trước năm 2025 cả nước có bao nhiêu tỉnh biên giới?", ["truoc 2025 co may tinh bien gioi"]),
        _Doc("huyen-dao", "Trước năm 2025 cả nước có bao nhiêu tỉnh ven biển?", ["trước sáp nhập có bao nhiêu huyện đảo"]),
    ]
    m = Matcher(docs)
    assert m.search("trước năm 2025 cả nước có mấy huyện đảo", 1)[0].entry_id == "huyen-dao"


def test_bigrams_do_not_join_two_clauses():
    from bot.answers import normalize as textnorm

    assert "ad_hoang" not in textnorm.features("vậy ad, hoàng sa")
    assert "1449_566" in textnorm.features("dài 1.449,566 km")  # a comma inside a number is not a clause break


def test_a_question_about_one_side_of_the_2025_reform_is_not_answered_with_the_other():
    docs = [
        _Doc("truoc", "Trước năm 2025, Việt Nam có bao nhiêu tỉnh, thành phố ven biển?", ["truoc sap nhap co bao nhieu tinh ven bien"]),
        _Doc("sau", "Sau sáp nhập năm 2025, có bao nhiêu tỉnh, thành phố ven biển?", ["sau sap nhap co bao nhieu tinh ven bien"]),
    ]
    m = Matcher(docs)
    # the words a member uses for each side, none of them in the phrasings
    assert m.search("hồi còn 63 tỉnh thì có bn tỉnh ven biển vậy", 1)[0].entry_id == "truoc"
    assert m.search("hoi chua nhap tinh co bao nhieu tinh ven bien", 1)[0].entry_id == "truoc"
    assert m.search("nhập tỉnh rồi còn mấy tỉnh ven biển ạ", 1)[0].entry_id == "sau"
    assert m.search("bây giờ có bao nhiêu tỉnh ven biển", 1)[0].entry_id == "sau"


def test_era_names_one_side_of_the_reform_or_none():
    from bot.answers.signals import era

    assert era("Trước năm 2025, Việt Nam có bao nhiêu tỉnh ven biển?") == "before"
    assert era("hiện nay có bao nhiêu tỉnh ven biển") == "after"
    # "sáp nhập xong" is "sáp nhập rồi"; the context before it ("hồi trước …") names no side
    assert era("hồi trước tỉnh em có huyện, sáp nhập xong thì còn mấy xã phường") == "after"
    assert era("hop nhat xong con may tinh co bien") == "after"
    assert era("nhập xong hồ sơ thì bao lâu có kết quả") is None  # "xong" after the reform's words only
    assert era("có bao nhiêu tỉnh ven biển") is None
    assert era("Những tỉnh nào trước đây không có biển nay đã có biển?") is None  # names both


def test_a_question_about_one_emergency_number_is_not_answered_with_another():
    docs = [
        _Doc("112", "Số 112 là số gì?", ["112 goi co mat tien khong", "so 112 nhan bao nhung viec gi"]),
        _Doc("113", "Số 113 là số gì, khi nào thì gọi?", ["113 la so gi", "canh sat 113 nhan bao nhung viec gi"]),
        _Doc("tat-ca", "Các số khẩn cấp 111, 112, 113, 114, 115 dùng để làm gì?", ["112 113 114 115 khac nhau the nao"]),
    ]
    m = Matcher(docs)
    # shares "gọi có mất tiền không" with the 112 entry, and less with the 113 one
    assert m.search("sdt cảnh sát 113 gọi có mất tiền ko", 1)[0].entry_id == "113"
    assert m.search("111 112 113 114 115 khác nhau thế nào", 1)[0].entry_id == "tat-ca"


def test_a_question_that_names_no_country_prefers_the_general_entry_to_one_about_a_country():
    docs = [
        _Doc("tong", "Đường biên giới đất liền Việt Nam dài bao nhiêu km?", ["bien gioi dat lien dai bao nhieu"]),
        _Doc("lao", "Đường biên giới Việt Nam – Lào dài bao nhiêu km?", ["biên giới việt nam lào dài bao nhiêu km"]),
    ]
    m = Matcher(docs)
    assert m.search("biên giới Việt Nam dài bao nhiêu km", 1)[0].entry_id == "tong"
    assert m.search("biên giới với lào dài bao nhiêu km", 1)[0].entry_id == "lao"
