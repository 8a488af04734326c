"""Deciding on the shipped bank (issue 13): answer the entry clearly asked about and offer a close
runner-up as a related question; suggest only for genuinely ambiguous questions; use what the
question asks for (a date, a number, a person) and the document number it names."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.answers import reply as answers
from bot.answers.asks import asked_parts, first_ask_entry, first_asked, sole_ask_fits
from bot.answers.bank import ContentBank
from bot.answers.matcher import Candidate, content_words, document_numbers, intents

ROOT = Path(__file__).resolve().parents[2]
ORG = {"ORG_NAME": "Hội", "ORG_PHONES": [], "ORG_EMAIL": "", "ORG_WEBSITE": ""}


@pytest.fixture(scope="module")
def bank() -> ContentBank:
    return ContentBank.load(ROOT / "content")


def ask(bank, text, answer_threshold=0.40, suggest_threshold=0.25):
    return answers.answer(text, bank, org=ORG, answer_threshold=answer_threshold, suggest_threshold=suggest_threshold)


def test_lanh_hai_is_answered_and_the_contiguous_zone_offered(bank):
    result = ask(bank, "Lãnh hải rộng bao nhiêu hải lý?")
    assert result.decision == answers.ANSWER and result.entry_id == "vung-bien-lanh-hai"
    assert "ENTRY:vung-bien-tiep-giap-lanh-hai" in [c.payload for c in result.reply.choices]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Chỉ thị 01/CT-TTg ban hành ngày nào?", {"phong-trao-chi-thi-01"}),  # not Hướng dẫn 7210
        ("Luật Biên giới quốc gia ban hành năm nào", {"phap-luat-luat-bien-gioi-2003"}),  # not Nghị quyết 33
        ("luật 06/2003/QH11 là luật gì", {"phap-luat-luat-bien-gioi-2003"}),
        ("Sự kiện Gạc Ma xảy ra năm nào?", {"hs-ts-gac-ma-1988", "ngay-14-3-gac-ma"}),
    ],
)
def test_clear_questions_are_answered_not_suggested(bank, question, expected):
    result = ask(bank, question)
    assert result.decision == answers.ANSWER and result.entry_id in expected, result.candidates


@pytest.mark.parametrize("question", ["biển", "biên giới"])
def test_a_word_that_fits_many_entries_is_still_a_suggestion(bank, question):
    result = ask(bank, question)
    assert result.decision == answers.SUGGEST
    assert [c.title[:3] for c in result.reply.choices[:3]] == ["1. ", "2. ", "3. "]


def test_what_the_question_asks_for():
    assert intents("Gạc Ma xảy ra năm nào?") == {"date"}
    assert intents("chi thi 01 ban hanh khi nao") == {"date"}
    assert intents("lãnh hải rộng bn hải lý") == {"number"}
    assert intents("ai tổ chức cuộc thi") == {"who"}
    assert intents("lãnh hải là gì") == frozenset()


def test_document_numbers():
    assert document_numbers("Chỉ thị 01/CT-TTg") == {("1", "")}
    assert document_numbers("Luật 06/2003/QH11") == {("6", "2003")}
    assert ("71", "2015") in document_numbers("nd 71/2015 la gi")
    assert ("7210", "") in document_numbers("hướng dẫn 7210")
    assert document_numbers("bờ biển dài 3.260 km") == frozenset()


def test_content_words_leave_out_question_words():
    assert content_words("biển") == 1
    assert content_words("lãnh hải rộng bao nhiêu") == 3


def test_a_fair_lead_answers_from_the_suggest_threshold():
    def leads(score, precision=0.5, margin=answers.LEAD_MARGIN):
        return answers._leads(Candidate("a", score, 0.0, 3.0, precision=precision), margin, suggest_threshold=0.25)

    assert leads(0.25)  # a message that would be a suggestion, with a fair lead and phrasing, is answered
    assert not leads(0.24)  # under the suggest threshold
    assert not leads(0.3, precision=0.45)  # it resembles none of the entry's phrasings closely enough
    assert not leads(0.3, margin=0.45)  # its lead is not clear


@pytest.mark.parametrize(
    "question",
    [
        # long member questions (dev split): the entry is named among many other words, with a fair lead
        (
            "Con em hỏi nước mình giáp mấy nước trên đất liền, mỗi đường biên dài bao nhiêu, ad liệt kê giúp em với, "
            "cảm ơn ad nhiều nha"
        ),
        (
            "chị ơi cho em hỏi với, mai em phải đi thi tìm hiểu pháp luật ở xã, có câu hỏi luật biên giới quốc gia "
            "được quốc hội thông qua năm nào, số hiệu là gì, em tìm hoài không ra, chị giúp em nha, em cảm ơn nhiều"
        ),
    ],
)
def test_a_long_question_with_a_fair_lead_is_answered(bank, question):
    result = ask(bank, question)
    assert result.decision == answers.ANSWER, result.candidates
    assert result.score < 0.40  # below the answer threshold: the lead and the phrasing decided


def _unlinked(bank, *dropped):
    """``bank``'s snapshot with the ``(entry, related)`` links in ``dropped`` removed (the matcher never reads them)."""
    snap = bank.snapshot()

    def without(entry):
        gone = {other for one, other in dropped if one == entry.id}
        return dataclasses.replace(entry, related=tuple(r for r in entry.related if r not in gone))

    return dataclasses.replace(snap, entries=[without(e) for e in snap.entries])


UNION, CITY = "dia-phuong-hoi-phu-nu-soc-trang", "dia-phuong-can-tho-moi"


def test_a_close_runner_up_that_is_related_is_offered_first_beside_the_answer(bank):
    # the question fits the city's phrasing better, but the union's entry ranks first and the two are related:
    # the union's answer is given and the city's entry offered first (its own related list starts elsewhere)
    result = ask(bank, "sóc trăng sáp nhập vào đâu vậy ad")
    assert (result.decision, result.entry_id) == (answers.ANSWER, UNION)
    assert result.reply.choices[0].payload == f"ENTRY:{CITY}"
    assert bank.get(UNION).related[0] != CITY


@pytest.mark.parametrize("dropped", [[(UNION, CITY)], [(CITY, UNION)]], ids=["city-lists-union", "union-lists-city"])
def test_one_entry_listing_the_other_is_enough(bank, dropped):
    result = ask(_unlinked(bank, *dropped), "sóc trăng sáp nhập vào đâu vậy ad")
    assert (result.decision, result.entry_id) == (answers.ANSWER, UNION)


def test_a_close_runner_up_whose_phrasing_fits_better_makes_a_suggestion(bank):
    # the same bank without the two links: the province or its women's union? The member chooses
    result = ask(_unlinked(bank, (UNION, CITY), (CITY, UNION)), "sóc trăng sáp nhập vào đâu vậy ad")
    assert result.decision == answers.SUGGEST
    payloads = [c.payload for c in result.reply.choices]
    assert f"ENTRY:{CITY}" in payloads and f"ENTRY:{UNION}" in payloads


@pytest.mark.parametrize("question", ["mai can tho co mua ko ad", "mấy giờ rồi ad", "hôm nay trời nắng không"])
def test_weather_and_time_questions_are_not_answered(bank, question):
    # "mai" is tomorrow, not half of "mai mối"; "mấy giờ rồi" names nothing
    assert ask(bank, question).decision != answers.ANSWER


def test_a_runner_up_all_but_tied_makes_a_suggestion(bank):
    # written for this test: the entry on the law's rights and the one on what the chatbot stores rank within 5%
    # (closer than the threshold of a tie of three, AMBIGUOUS_RATIO); answering either is a coin toss, so the
    # member chooses
    question = "du lieu ca nhan la nhung gi"
    result = ask(bank, question)
    ranked = bank.snapshot().matcher.search(question, 3)
    assert answers.NEAR_TIE_RATIO * ranked[0].rank <= ranked[1].rank < answers.AMBIGUOUS_RATIO * ranked[0].rank
    assert result.decision == answers.SUGGEST
    payloads = [c.payload for c in result.reply.choices]
    assert "ENTRY:bot-du-lieu-luu-tru" in payloads and "ENTRY:bot-quyen-du-lieu" in payloads
    # a runner-up further behind is offered beside the answer, as before
    result = ask(bank, "Lãnh hải rộng bao nhiêu hải lý?")
    assert result.decision == answers.ANSWER and result.entry_id == "vung-bien-lanh-hai"


def test_a_long_message_with_a_clear_lead_is_answered(bank):
    # written for this test: the question ("có số trung tâm cứu nạn trên biển ko") is a small part of the message,
    # which covers under half of the entry's closest phrasing, but no other entry comes near
    question = "chồng em đi ghe lưới ngoài khơi, lỡ ghe hư máy trôi giữa biển thì ở nhà báo ai, có số trung tâm cứu nạn trên biển ko chị"
    ranked = bank.snapshot().matcher.search(question, 2)
    assert answers.CLEAR_MIN_PRECISION <= ranked[0].precision < answers.LEAD_MIN_PRECISION
    assert ranked[0].rank - ranked[1].rank >= answers.CLEAR_MARGIN
    result = ask(bank, question)
    assert result.decision == answers.ANSWER and result.entry_id == "khan-cap-tren-bien"


def test_a_word_the_bank_has_nowhere_needs_a_strong_fit(bank):
    # "xổ số" (lottery) is nowhere in the bank: a lead on "Sóc Trăng" alone is not enough to answer
    question = "xổ số sóc trăng hôm nay ra số mấy"
    assert "xo" in bank.snapshot().matcher.unknown_words(question)
    assert ask(bank, question).decision != answers.ANSWER
    # the same unknown everyday word beside a question the bank fits well is still answered
    result = ask(bank, "ông ngoại em hỏi lãnh hải rộng bao nhiêu hải lý")
    assert result.decision == answers.ANSWER and result.entry_id == "vung-bien-lanh-hai"
    # a few such words in a long message ("hôm", "fb") are chatter around a question with a clear lead
    question = "hôm qua em thấy trên fb người ta nói về hải chiến Hoàng Sa, trận đó xảy ra ngày nào vậy chị"
    assert {"hom", "fb"} <= set(bank.snapshot().matcher.unknown_words(question))
    result = ask(bank, question)
    assert result.decision == answers.ANSWER and result.entry_id == "hs-ts-hai-chien-1974"


@pytest.mark.parametrize(
    "question",
    [
        "xổ số Sóc Trăng chiều nay ra số mấy",
        "chiều nay xổ số Sóc Trăng về số mấy",
        "kết quả xổ số Sóc Trăng",
        "dò vé số Sóc Trăng",
        # a vehicle's number plate after the merger shares "biển" and "sáp nhập" with the coastal entries
        "xe máy của em mang biển số xe Hậu Giang cũ, sáp nhập rồi có cần làm lại không chị",
        "bien so xe soc trang cu con dung duoc khong chi",
        # the weather: a place the bank knows (Cù Lao Dung, Vĩnh Châu) drew its entry
        "tối nay Cù Lao Dung có mưa không chị, em định đi đám giỗ",
        "tối nay cu lao dung co mua ko chi",
        "thời tiết Vĩnh Châu cuối tuần thế nào chị",
        "lương cơ sở năm nay là bao nhiêu tiền",  # the base salary: entries with "năm nay … bao nhiêu" suggested
    ],
)
def test_a_subject_the_bank_never_covers_gets_the_no_answer_reply(bank, question):
    # written for this test: "Sóc Trăng" and "số" (dân số) fit the old province's entry and "chiều" is a word the bank
    # has, so neither the unknown-word veto nor a low coverage keeps a lottery question from an answer or a suggestion
    result = ask(bank, question)
    assert result.decision == answers.FALLBACK and result.entry_id is None
    assert "chưa có câu trả lời" in result.reply.text


def test_a_scam_set_around_such_a_subject_is_decided_as_any_other(bank):
    # written for this test: a fake traffic fine is the scam entry's subject though the message fits it only fairly;
    # turned away as a number-plate question, she would get no warning
    from bot.answers.signals import unrelated_subject

    result = ask(bank, "có người gọi điện nói biển số xe 83 của em bị phạt, kêu chuyển tiền nộp phạt, có phải lừa không")
    assert result.decision == answers.ANSWER and result.entry_id == "lua-dao-dang-dien-ra"
    for sign in ("bị lừa", "lua dao", "bắt chuyển tiền", "kêu chuyển khoản", "yêu cầu chuyển tiền", "đóng phí nhận thưởng",
                 "có người giả danh công an", "mạo danh đại lý"):
        assert not unrelated_subject(f"trúng xổ số Sóc Trăng, {sign}"), sign
    # a payment alone is no scam, and unmarked "lua" may be "lúa"
    assert unrelated_subject("đại lý vé số chuyển khoản tiền thưởng cho em chưa")
    assert unrelated_subject("phơi lúa xong đi dò vé số") and unrelated_subject("phoi lua xong di do xo so")


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        # a plate is a detail of a report: only a plate changed after the merger, or named by a province's code or
        # name, is the subject of the message
        (
            "có xe máy biển số lạ hay chở người ra bến đò ban đêm, nghi vượt biên trái phép, báo đồn biên phòng được không",
            "phong-trao-bao-tin-vi-pham",
        ),
        (
            "em thấy một chiếc xe biển số lạ chở mấy cô gái đi làm việc nhẹ lương cao, nghi mua bán người thì báo ở đâu",
            "viec-nhe-luong-cao-dau-hieu",
        ),
        # rain and storms are the setting of questions the bank answers: only the forecast is a subject it never
        # covers, and a message asking for help in one is decided as any other
        ("có mưa bão thì gọi 112 được không", "khan-cap-112"),
        ("thời tiết xấu, tàu cá bị nạn gọi 112 được không", "khan-cap-tren-bien"),
        ("mai co mua ko chi, chong em tinh ra khoi, ghe gap nan thi goi so nao", "khan-cap-tren-bien"),
    ],
)
def test_such_a_subject_as_the_detail_or_setting_of_a_question_the_bank_answers(bank, question, entry):
    # written for this test (the plates and the first two weather questions a reviewer's)
    result = ask(bank, question)
    assert result.decision == answers.ANSWER and result.entry_id == entry, result.candidates


def test_a_question_that_fits_an_entry_clearly_is_answered_even_if_it_names_such_a_subject(bank):
    # written for this test: a lottery scam is the scam entry's
    result = ask(bank, "có người gọi điện báo em trúng xổ số, bắt chuyển tiền phí nhận thưởng thì phải làm gì")
    assert result.decision == answers.ANSWER and result.entry_id == "lua-dao-dang-dien-ra"
    # a clear lead on a weak fit is not enough: the lottery is what the message is about
    question = "xổ số kiến thiết gia đình 5 không 3 sạch là gì"
    top, second = bank.snapshot().matcher.search(question, 2)
    assert top.rank - second.rank >= answers.CLEAR_MARGIN and top.score < 0.40  # the answer threshold in ask()
    assert ask(bank, question).decision == answers.FALLBACK
    # "tự vệ số mấy" and the province's own figures are no lottery
    result = ask(bank, "luật dân quân tự vệ số mấy")
    assert result.decision == answers.ANSWER and result.entry_id == "phap-luat-dan-quan-tu-ve-2019"
    result = ask(bank, "dân số Sóc Trăng cũ bao nhiêu người")
    assert result.decision == answers.ANSWER and result.entry_id == "dia-phuong-soc-trang-truoc-2025"


@pytest.mark.parametrize(
    "question",
    ["xổ số hôm qua, Cần Thơ về số mấy", "em là ngư dân ở Trần Đề, xổ số Sóc Trăng hôm nay về số mấy"],
)
def test_a_message_about_such_a_subject_is_not_decided_on_its_other_clauses(bank, question):
    # written for this test: a place in another clause, or a sentence about herself, is no question of its own; decided
    # on alone they got a Sóc Trăng or Border Guard entry
    assert ask(bank, question).decision == answers.FALLBACK


def test_an_unrelated_subject_is_its_phrase_as_typed_within_one_clause():
    from bot.answers.signals import unrelated_subject

    assert unrelated_subject("Xổ số Sóc Trăng hôm nay") and unrelated_subject("XO SO CAN THO HOM NAY")
    assert unrelated_subject("dò vé số đài Hậu Giang")
    assert unrelated_subject("Biển số xe 83 đổi ở đâu") and unrelated_subject("bien so xe 95")
    assert unrelated_subject("xe máy biển số 83 còn dùng được không") and unrelated_subject("có phải đổi biển số không")
    assert unrelated_subject("doi bien so o dau") and unrelated_subject("biển số xe Hậu Giang cũ")
    assert not unrelated_subject("xe máy biển số lạ chở người ra bến")  # a plate as a detail
    assert not unrelated_subject("Luật Biển số 18/2012/QH13 có hiệu lực khi nào")  # the bank's own laws
    assert not unrelated_subject("luat canh sat bien so may")
    assert not unrelated_subject("ve so may")  # unmarked "ve so" may be "về số"
    assert not unrelated_subject("tau ca bi song xo, so ngu dan mat tich")  # two clauses: "xo, so" is no "xo so"
    assert not unrelated_subject("lò xo số 5")  # typed with marks: this "xo" is no "xổ"
    assert not unrelated_subject("xơ sợi")
    # the weather forecast: "co mua" typed bare is one only before "không", which the member may abbreviate ("ko" is
    # not a mark she typed); marked, "có mua" is buying
    assert unrelated_subject("mai có mưa không") and unrelated_subject("du bao thoi tiet vinh chau")
    assert unrelated_subject("mai co mua ko chi") and unrelated_subject("mai co mua khong")
    assert not unrelated_subject("co mua ban nguoi o vung bien khong")  # "có mua bán người …", trafficking
    assert not unrelated_subject("có mua bán người không") and not unrelated_subject("mai can tho mua ko")
    # rain and storms as the setting of a question the bank answers (a reviewer's): no forecast asked, or an emergency
    for setting in ("có mưa bão thì gọi 112 được không", "khi có mưa bão, ngư dân cần báo tin cho ai",
                    "thẻ vàng IUU là gì, thời tiết xấu có được miễn nhật ký khai thác không",
                    "thoi tiet xau ghe bi chim thi goi so nao", "ghe bi troi mua bao lon goi so nao",
                    "mai có mưa không, ghe gặp nạn thì gọi số nào", "mai co mua ko, co bão ko chi",
                    "mùa mưa bão nhà sập thì gọi số nào"):
        assert not unrelated_subject(setting), setting
    assert unrelated_subject("luong co so nam nay bao nhieu")
    assert not unrelated_subject("việc nhẹ lương cao ở Campuchia")


def test_no_entry_is_about_an_unrelated_subject(bank):
    # an entry phrased with one would be reachable only through a clear lead: the subject belongs in the bank then,
    # not in lexicon.UNRELATED_SUBJECTS
    from bot.answers.signals import unrelated_subject

    for entry in bank.snapshot().approved:
        for text in (entry.question, *entry.variants, *entry.keywords):
            assert not unrelated_subject(text), (entry.id, text)


@pytest.mark.parametrize("question", ["trước kia hoàng sa do tỉnh nào quản lý", "hoang sa do tinh nao quan ly vay ad"])
def test_a_question_naming_hoang_sa_does_not_get_a_truong_sa_entry(bank, question):
    # "Trường Sa thuộc tỉnh nào" shares every other word; an entry that names only the other
    # archipelago is not about this one
    top = bank.snapshot().matcher.search(question, 1)[0]
    entry = bank.snapshot().entry(top.entry_id)
    named = " ".join((entry.question, *entry.keywords))
    assert "Hoàng Sa" in named or "Trường Sa" not in named, top.entry_id


def test_named_contrasts_skip_false_friends():
    from bot.answers import normalize as textnorm
    from bot.answers.signals import named_contrasts

    def named(text):
        return [sorted(asked) for asked, _ in named_contrasts(frozenset(textnorm.query_features(text)))]

    assert named("biên giới với lào dài bao nhiêu") == [["lao"]]
    assert named("xuất khẩu lao động có an toàn không") == []  # work, not Laos
    assert named("hoàng sa và trường sa") == [["hoang_sa", "truong_sa"]]


def test_a_message_that_names_nothing_gets_no_suggestions(bank):
    assert ask(bank, "mấy giờ rồi ad").decision == answers.FALLBACK


def test_what_a_count_question_counts(bank):
    from bot.answers.signals import counted

    assert counted("Trước năm 2025 cả nước có mấy huyện đảo vậy ạ") == ("huyen", "huyen_dao")
    assert counted("lãnh hải rộng bn hải lý") == ("hai", "hai_li")  # lý is read as lí
    assert counted("mấy giờ rồi") == ()  # "giờ" is a function word here
    assert counted("luật đó là luật số mấy, quốc hội thông qua khi nào") == ()  # a count ends with its clause
    assert counted("ghe chết máy giữa biển thì gọi số nào") == ()  # "máy" is a machine, not "mấy"
    assert counted("diện tích bao nhiêu luôn ạ") == ()
    assert counted("may huyen dao") == ("huyen", "huyen_dao")  # "mấy" typed without marks still counts
    assert counted("sóc trăng có mâý huyện") == ("huyen",)  # and "mấy" with its tone misplaced
    assert counted("Cù Lao Dung có bao nhiêu ha rừng ngập mặn")[0] == "ha"  # hectares, not the particle "hả"


@pytest.mark.parametrize(
    "question",
    [
        # everyday questions written for this test (not from an evaluation set): their words reach the
        # answer threshold against some entry without resembling any of its phrasings
        "ly hôn thì con ở với ai",
        "bây giờ là mấy giờ",
        "điện thoại bị nóng máy phải làm sao",
        "chồng em nhậu hoài phải làm sao chị",
        "đăng ký kết hôn cần giấy tờ gì",
        "mai có bão không chị",
    ],
)
def test_everyday_questions_are_not_answered(bank, question):
    assert ask(bank, question).decision != answers.ANSWER


def test_a_count_question_skips_multipliers_and_classifiers():
    from bot.answers.signals import counted

    assert counted("nước mình có mấy ngàn hòn đảo vậy")[0] == "dao"


@pytest.mark.parametrize(
    "text",
    [
        # "those" before people; typed without marks, only pronouns no count noun shares a spelling with
        "mấy chị trong tổ nói lãnh hải rộng 12 hải lý",
        "may ong trong ap noi vay",
        "mấy thằng nhỏ trong xóm hỏi",
        "mấy con nhỏ trong xóm hỏi",  # a classifier before the person
        # "these" in a time phrase
        "mấy hôm nay ghe không ra khơi được",
        "mấy nay ghe không ra khơi được",
        "mấy ngày qua biển động",
        # "máy" typed without marks
        "ghe bi hu may ngoai khoi",
        "tau em mat may dinh vi",
        "tau hu may phat roi",
        "ghe nha em bi hu may",
        # "those things"
        "mấy cái kia em quên rồi",
    ],
)
def test_mấy_that_asks_nothing(text):
    from bot.answers.asks import asks
    from bot.answers.signals import counted, intents

    assert (counted(text), intents(text), asks(text)) == ((), frozenset(), False)


@pytest.mark.parametrize(
    "text, counts",
    [
        ("tàu ra đảo một ngày mấy chuyến", ("chuyen",)),  # "ngày mấy" asks a date only at a clause's end
        ("Quảng Nam mấy huyện đảo", ("huyen", "huyen_dao")),
        ("co may chuong", ("chuong",)),
        ("tinh co may cau cang", ("cau", "cau_cang")),  # "cau" typed without marks is not "cậu"
        ("may thang thi het han", ("thang",)),  # nor "thang" "thằng"
        ("phải đăng ký mấy ngày trước khi ra khơi", ("ngay", "ngay_truoc")),
        ("vu chim tau chet may nguoi", ("nguoi",)),  # "chết máy" only before no classifier or "người"
        ("bao lam hu may chiec tau", ("tau",)),
        ("vu do chet may", ()),  # nothing named to count, but a count question all the same
        ("ngoài đó cách bờ mấy trăm cây số", ("km",)),
    ],
)
def test_mấy_that_counts(text, counts):
    from bot.answers.asks import asks
    from bot.answers.signals import counted, intents

    assert counted(text) == counts
    assert "number" in intents(text) and asks(text)


def test_mấy_before_a_noun_spelt_like_a_pronoun_counts():
    from bot.answers.asks import asks
    from bot.answers.signals import intents

    assert "number" in intents("co may chi thi ve chong khai thac iuu") and asks("co may chi thi ve chong khai thac iuu")
    assert "number" in intents("co may dinh muc phat")  # "định mức", not "định vị": a count


def test_mấy_that_asks_which():
    from bot.answers.signals import counted, intents

    assert counted("hải quân thành lập ngày mấy tháng mấy") == ()  # counted "tháng" before
    assert intents("hải quân thành lập ngày mấy tháng mấy") == {"date"}
    assert intents("luật dân quân tự vệ là năm mấy dị ad") == {"date"}  # "dị" is "vậy"
    assert intents("nghị quyết số mấy") == frozenset()  # which number: not a date, not a count
    assert intents("tàu đóng được 3 năm, mấy tháng nữa thì đăng kiểm lại") == {"number"}  # a clause ends a reading
    assert intents("ngày mấy là ngày truyền thống hải quân") == {"date"}  # before a function word


def test_a_sentence_of_context_with_mấy_is_not_an_ask():
    from bot.answers.asks import asks

    assert not asks("mấy chị trong chi hội nhờ em hỏi giùm")
    assert not asks("mấy bữa nay em lo quá")
    assert asks("huyện đảo có mấy xã")
    assert asks("luật đó ban hành năm mấy")


@pytest.mark.parametrize(
    "question, entry",
    [
        # written for this test: the context around the question names people or days with "mấy"
        ("mấy bữa nay em nghe nói nhiều, hải quân nhân dân việt nam thành lập năm mấy vậy", "ngay-7-5-hai-quan"),
        ("may ong trong ap hoi vung tiep giap lanh hai rong bn hai ly", "vung-bien-tiep-giap-lanh-hai"),
        ("mấy đứa nhỏ trong xóm hỏi hải quân nhân dân việt nam thành lập ngày nào", "ngay-7-5-hai-quan"),
        ("mấy anh biên phòng nói phải có thiết bị giám sát hành trình, tàu cá nào phải lắp vậy", "iuu-thiet-bi-giam-sat"),
    ],
)
def test_mấy_around_a_question_does_not_stop_its_answer(bank, question, entry):
    result = ask(bank, question)
    assert (result.decision, result.entry_id) == (answers.ANSWER, entry)


def test_a_count_of_something_the_entry_never_names_is_not_answered(bank):
    # the land-border entry with China matches "trung quốc … bao nhiêu", but says nothing of its people
    assert ask(bank, "trung quốc có bao nhiêu dân").decision != answers.ANSWER
    # the islands entry names what is counted, with "ngàn hòn" in between
    assert ask(bank, "mọi người ơi nước mình có mấy ngàn hòn đảo vậy").decision == answers.ANSWER


def test_an_answer_that_says_the_figure_is_not_known_answers_a_count_question(bank):
    # written for this test: the ten-year review entry never names "mô hình" but says the national figures are not
    # officially known yet ("Hội sẽ cập nhật"), which is the answer to "bao nhiêu mô hình tự quản"
    from bot.answers.signals import withholds_figures

    entry = bank.snapshot().entry("phong-trao-tong-ket-10-nam")
    assert withholds_figures(entry.answer) and "mô" not in entry.answer.lower().split()
    result = ask(bank, "tổng kết 10 năm chỉ thị 01 thì cả nước có bao nhiêu mô hình tự quản vậy chị")
    assert result.decision == answers.ANSWER and result.entry_id == "phong-trao-tong-ket-10-nam"
    assert not withholds_figures(bank.snapshot().entry("bien-gioi-viet-trung").answer)
    # only for a question that fits one of the entry's phrasings closely: the old province's entry says its exact
    # census figure is not officially known, which does not answer the price of a lottery ticket
    assert withholds_figures(bank.snapshot().entry("dia-phuong-soc-trang-truoc-2025").answer)
    assert ask(bank, "vé số sóc trăng bao nhiêu tiền một tờ").decision != answers.ANSWER


@pytest.mark.parametrize(
    ("question", "first", "second"),
    [
        # written for this test, not taken from an evaluation set; the whole message ranks the second ask's
        # entry first by a clear margin
        ("Trường Sa gồm bao nhiêu đảo, cách Cam Ranh bao xa vậy chị", "hs-ts-truong-sa-quy-mo",
         "hs-ts-truong-sa-khoang-cach"),
        ("Sóc Trăng cũ mấy huyện giáp biển vậy chị, Cù Lao Dung có tính ko", "dia-phuong-soc-trang-truoc-2025",
         "can-tho-cu-lao-dung"),
        # three asks; the top entry is the middle one's, not the last one's
        ("Công ước Luật biển năm 1982 được ký ở đâu vậy chị, nước mình phê chuẩn khi nào, có phải năm 1994 ko",
         "phap-luat-unclos-1982", "phap-luat-viet-nam-phe-chuan-unclos"),
    ],
)
def test_a_message_asking_two_things_is_answered_for_the_first(bank, question, first, second):
    """The whole message fits the second ask's entry best; the member's first question is answered
    and the second ask's entry is offered first beside it."""
    whole = bank.snapshot().matcher.search(question, 5)
    assert whole[0].entry_id == second  # what the ranking alone would answer
    result = ask(bank, question)
    assert result.decision == answers.ANSWER and result.entry_id == first
    assert result.candidates[0]["entry_id"] == first  # logged as answered
    assert result.reply.choices[0].payload == f"ENTRY:{second}"


def test_a_context_part_is_not_an_ask(bank):
    """A sentence of context with a word that folds to a question word ("đầu" is not "đâu") does not
    make a second ask; the one question is answered."""
    question = "nhà em ở đầu cồn Cù Lao Dung, cho em hỏi lãnh hải rộng bao nhiêu hải lý"
    assert asked_parts(question) == ["cho em hỏi lãnh hải rộng bao nhiêu hải lý"]
    result = ask(bank, question)
    assert result.decision == answers.ANSWER and result.entry_id == "vung-bien-lanh-hai"
    result = ask(bank, "Chào ad, em ở Vĩnh Châu cũ. Cho em hỏi lãnh hải rộng bao nhiêu hải lý, cảm ơn ad")
    assert result.decision == answers.ANSWER and result.entry_id == "vung-bien-lanh-hai"
    # "phải" = must: read as a question, the context would be answered with the entry on the main laws
    result = ask(bank, "mai em phải đi thi tìm hiểu pháp luật ở xã, cho em hỏi luật biên giới quốc gia được thông qua năm nào")
    assert result.decision == answers.ANSWER and result.entry_id == "phap-luat-luat-bien-gioi-2003"
    # "không" as a negation is context; read as a question, the first part would be answered
    question = "Tàu chồng em không lắp thiết bị giám sát hành trình, ra khơi có bị phạt không"
    assert asked_parts(question) == ["ra khơi có bị phạt không"]
    result = ask(bank, question)  # all but tied with the monitoring entry: the member chooses, the fine first
    assert result.decision == answers.SUGGEST or (result.decision == answers.ANSWER and result.entry_id == "iuu-thao-thiet-bi-phat")
    assert result.candidates[0]["entry_id"] == "iuu-thao-thiet-bi-phat"


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        ("Hoàng Sa cách Lý Sơn bao xa vậy ad? vùng biển Hoàng Sa rộng bn km2",
         ["Hoàng Sa cách Lý Sơn bao xa vậy ad", "vùng biển Hoàng Sa rộng bn km2"]),
        # a quoted name keeps its comma, as written
        ("chương trình 'Vì biển, đảo quê hương' là gì, xã em có làm không",
         ["chương trình 'Vì biển, đảo quê hương' là gì", "xã em có làm không"]),
        # a closing particle asks, whatever follows it; a line break ends a part
        ("lãnh hải rộng bn hải lý\ncòn đặc quyền kinh tế là 200 hải lý hả ad ơi 😊",
         ["lãnh hải rộng bn hải lý", "còn đặc quyền kinh tế là 200 hải lý hả ad ơi 😊"]),
        ("Cho em hỏi TP. Cần Thơ có biển không", ["Cho em hỏi TP. Cần Thơ có biển không"]),  # not cut after "TP."
        ("không gian biển là gì, không quân có tuần tra không", ["không gian biển là gì", "không quân có tuần tra không"]),
        ("lãnh hải rộng bn hải lý, ở đâu vậy ad", ["lãnh hải rộng bn hải lý"]),  # a part naming no topic
        # "phải" asks only as "có phải": "em phải đi thi" is context
        ("mai em phải đi thi tìm hiểu pháp luật ở xã, luật biên giới quốc gia thông qua năm nào",
         ["luật biên giới quốc gia thông qua năm nào"]),
        ("có phải Trường Sa thuộc Khánh Hòa, cách Cam Ranh bao xa", ["có phải Trường Sa thuộc Khánh Hòa", "cách Cam Ranh bao xa"]),
        ("phải chăng Trường Sa thuộc Khánh Hòa, cách Cam Ranh bao xa",
         ["phải chăng Trường Sa thuộc Khánh Hòa", "cách Cam Ranh bao xa"]),
        ("co phải Trường Sa thuộc Khánh Hòa, cách Cam Ranh bao xa", ["co phải Trường Sa thuộc Khánh Hòa", "cách Cam Ranh bao xa"]),
        ("Trường Sa thuộc Khánh Hòa phải hem, cách Cam Ranh bao xa", ["Trường Sa thuộc Khánh Hòa phải hem", "cách Cam Ranh bao xa"]),
        ("Trường Sa thuộc Khánh Hòa phải ad, cách Cam Ranh bao xa", ["Trường Sa thuộc Khánh Hòa phải ad", "cách Cam Ranh bao xa"]),
        ("cần thơ có biển hok, bờ biển dài bao nhiêu km", ["cần thơ có biển hok", "bờ biển dài bao nhiêu km"]),
        # "không" and "chưa" ask at the end of a part or beside "hay", not as a negation
        ("tàu em không lắp thiết bị giám sát, ra khơi có bị phạt không vậy ad", ["ra khơi có bị phạt không vậy ad"]),
        ("hội phụ nữ tỉnh Sóc Trăng còn không hay đã nhập, chủ tịch hội là ai",
         ["hội phụ nữ tỉnh Sóc Trăng còn không hay đã nhập", "chủ tịch hội là ai"]),
        ("Luật Biển có hiệu lực từ bao giờ, Trường Sa thuộc Khánh Hòa à",
         ["Luật Biển có hiệu lực từ bao giờ", "Trường Sa thuộc Khánh Hòa à"]),
        # a later ask needs one content syllable ("gỡ"), the first two
        ("thẻ vàng thủy sản bị từ năm nào vậy ad, nay gỡ chưa", ["thẻ vàng thủy sản bị từ năm nào vậy ad", "nay gỡ chưa"]),
        ("gỡ chưa ad, thẻ vàng thủy sản bị từ năm nào", ["thẻ vàng thủy sản bị từ năm nào"]),
    ],
)
def test_the_parts_that_ask(message, parts):
    assert asked_parts(message) == parts


@dataclass
class _Found:
    entry_id: str
    rank: float
    score: float = 0.6
    uncounted: bool = False
    precision: float = 0.5


class _Stub:
    """A matcher that ranks each part of a message as told."""

    def __init__(self, parts):
        self.parts = parts

    def search(self, text, k=5):
        return self.parts[text][:k]


TWO_ASKS = "Trường Sa gồm bao nhiêu đảo, cách Cam Ranh bao xa vậy chị"
FIRST = "Trường Sa gồm bao nhiêu đảo"


@pytest.mark.parametrize(
    ("first_part", "whole", "expected"),
    [
        ([_Found("a", 3.0), _Found("x", 2.4)], [_Found("b", 4.0), _Found("c", 3.0), _Found("a", 2.0)], 2),
        # the first ask's entry ranks under half the top rank for the whole message
        ([_Found("a", 3.0), _Found("x", 2.4)], [_Found("b", 4.0), _Found("a", 1.9)], None),
        # it does not lead the first ask clearly
        ([_Found("a", 3.0), _Found("x", 2.6)], [_Found("b", 4.0), _Found("a", 3.9)], None),
        # it fits the first ask poorly, or counts something it never names
        ([_Found("a", 3.0, score=0.2)], [_Found("b", 4.0), _Found("a", 3.9)], None),
        ([_Found("a", 3.0, uncounted=True)], [_Found("b", 4.0), _Found("a", 3.9)], None),
        # the top entry need not be the last ask's ("c" shares words with both asks)
        ([_Found("a", 3.0)], [_Found("c", 4.0), _Found("a", 3.9)], 1),
        # the first ask's entry is the top entry already
        ([_Found("b", 3.0)], [_Found("b", 4.0), _Found("a", 3.9)], None),
        # it is not among the message's candidates
        ([_Found("z", 3.0)], [_Found("b", 4.0), _Found("a", 3.9)], None),
    ],
)
def test_when_the_first_ask_is_answered(first_part, whole, expected):
    matcher = _Stub({FIRST: first_part})  # only the first ask is searched: a search of another part fails
    assert first_asked(first_ask_entry(matcher, TWO_ASKS, min_score=0.25), whole) == expected


def test_a_later_ask_of_one_word_makes_two_asks():
    # "nay gỡ chưa" names one thing (lifting the yellow card): the message asks two things, the first answered
    first = "thẻ vàng thủy sản bị từ năm nào vậy ad"
    matcher = _Stub({first: [_Found("iuu-the-vang", 3.5), _Found("iuu-go-the-vang", 2.9)]})
    whole = [_Found("iuu-go-the-vang", 3.7), _Found("iuu-the-vang", 3.5)]
    assert first_asked(first_ask_entry(matcher, f"{first}, nay gỡ chưa", min_score=0.25), whole) == 1


def test_one_ask_is_never_reordered():
    matcher = _Stub({})  # never searched
    wanted = first_ask_entry(matcher, "lãnh hải rộng bao nhiêu hải lý", min_score=0.25)
    assert wanted is None and first_asked(wanted, [_Found("b", 4.0)]) is None


@pytest.mark.parametrize(
    ("first_part", "expected"),
    [
        ([_Found("a", 3.0), _Found("x", 2.4)], True),
        ([_Found("a", 3.0)], True),  # nothing else fits the first ask
        ([_Found("a", 3.0), _Found("x", 2.5)], True),  # a lead of exactly FIRST_ASK_LEAD
        ([_Found("a", 3.0), _Found("x", 2.6)], False),  # under it
        ([_Found("b", 3.0)], False),  # the first ask names another entry (the runner-up)
        ([_Found("a", 3.0, score=0.2)], False),  # it fits the ask poorly
        ([_Found("a", 3.0, uncounted=True)], False),  # it counts something the entry never names
        ([], False),
    ],
)
def test_when_the_first_ask_names_the_top_entry(first_part, expected):
    # the whole message's top entry is "a": a runner-up all but tied with it is left to a later ask when the first
    # ask names "a" clearly on its own
    matcher = _Stub({FIRST: first_part})
    assert (first_ask_entry(matcher, TWO_ASKS, min_score=0.25) == "a") is expected


def test_one_ask_names_no_first_ask_entry():
    matcher = _Stub({})  # never searched
    assert first_ask_entry(matcher, "lãnh hải rộng bao nhiêu hải lý", min_score=0.25) is None


def test_a_near_tie_on_the_shipped_bank_is_answered_for_the_first_ask(bank):
    # written for this test: the yellow card and its lifting rank all but tied for the whole message; its first ask
    # names the card clearly, so the card is answered and its lifting offered beside it
    question = "thẻ vàng IUU là gì vậy chị, bao giờ gỡ được"
    top, second = bank.snapshot().matcher.search(question, 2)
    assert second.rank >= answers.NEAR_TIE_RATIO * top.rank and top.entry_id == "iuu-the-vang"
    result = ask(bank, question)
    assert result.decision == answers.ANSWER and result.entry_id == "iuu-the-vang"
    assert "ENTRY:iuu-go-the-vang" in [c.payload for c in result.reply.choices]


class _Rigged:
    """The shipped bank's entries, ranked as told for each text searched (a near-tie the bank may drift out of)."""

    def __init__(self, bank, ranks):
        self._snap = bank.snapshot()
        self.matcher = _Stub(ranks)

    def snapshot(self):
        return self

    def __getattr__(self, name):
        return getattr(self._snap, name)


NEAR_TIE = "lãnh hải là gì vậy chị, rộng bao nhiêu hải lý"
LANH_HAI, TIEP_GIAP, CO_SO = "vung-bien-lanh-hai", "vung-bien-tiep-giap-lanh-hai", "vung-bien-duong-co-so"


def _near_tie(first_part):
    whole = [Candidate(LANH_HAI, 0.74, 0.0, 4.18, precision=0.71), Candidate(TIEP_GIAP, 0.77, 0.0, 4.10, precision=0.48)]
    return {NEAR_TIE: whole, "lãnh hải là gì vậy chị": first_part}


def test_a_near_tie_is_answered_when_the_first_ask_names_the_top_entry(bank):
    # the runner-up ranks within NEAR_TIE_RATIO of the top entry, which alone would make the member choose; the
    # first ask, searched alone, names the top entry clearly: it is answered and the runner-up offered beside it
    rigged = _Rigged(bank, _near_tie([Candidate(LANH_HAI, 0.6, 0.0, 3.4), Candidate(CO_SO, 0.5, 0.0, 2.6)]))
    result = ask(rigged, NEAR_TIE)
    assert result.decision == answers.ANSWER and result.entry_id == LANH_HAI
    assert f"ENTRY:{TIEP_GIAP}" in [c.payload for c in result.reply.choices]


@pytest.mark.parametrize(
    "first_part",
    [
        [Candidate(LANH_HAI, 0.6, 0.0, 3.0), Candidate(TIEP_GIAP, 0.6, 0.0, 2.9)],  # the first ask is a tie too
        [Candidate(CO_SO, 0.6, 0.0, 3.4), Candidate(LANH_HAI, 0.5, 0.0, 2.6)],  # it names another entry
    ],
)
def test_a_near_tie_the_first_ask_does_not_settle_is_a_suggestion(bank, first_part):
    result = ask(_Rigged(bank, _near_tie(first_part)), NEAR_TIE)
    assert result.decision == answers.SUGGEST


CONTEXT = "số gọi xe cấp cứu là số mấy vậy chị? ba em lớn tuổi hay mệt, em sợ lúc gấp lại quên"
ITS_ASK = "số gọi xe cấp cứu là số mấy vậy chị"


@pytest.mark.parametrize(
    ("ranked", "expected"),
    [
        ([_Found("a", 3.0), _Found("x", 2.4)], True),
        ([_Found("a", 3.0)], True),  # nothing else fits the ask
        ([_Found("x", 3.0), _Found("a", 2.4)], False),  # another entry leads the ask
        ([_Found("a", 3.0), _Found("x", 2.5)], True),  # a lead of exactly SOLE_ASK_LEAD
        ([_Found("a", 3.0), _Found("x", 2.6)], False),  # a lead under it
        ([_Found("a", 3.0, score=0.35, precision=0.9)], False),  # it covers under the answer threshold
        ([_Found("a", 3.0, score=0.45, precision=0.2)], False),  # and fits none of the entry's phrasings closely
        ([_Found("a", 3.0, uncounted=True)], False),  # it counts something the entry never names
    ],
)
def test_when_a_message_s_one_ask_fits_alone(ranked, expected):
    matcher = _Stub({ITS_ASK: ranked})
    assert sole_ask_fits(matcher, CONTEXT, "a", min_score=0.4, min_fit=0.75) is expected


@pytest.mark.parametrize(
    "message",
    [
        "số gọi xe cấp cứu là số mấy vậy chị",  # nothing but its ask: the whole message is decided as it is
        "Chị ơi, số gọi xe cấp cứu là số mấy vậy chị?!",  # its ask and greetings, punctuation: nothing else named
        "số gọi xe cấp cứu là số mấy, còn số cứu hỏa là số nào vậy chị",  # two asks
        "gỡ chưa ad? số gọi xe cấp cứu là số mấy vậy chị, ba em lớn tuổi hay mệt",  # a short ask is an ask too
        "ba em lớn tuổi hay mệt, em sợ lúc gấp lại quên",  # no ask
    ],
)
def test_only_one_ask_wrapped_in_context_is_searched_alone(message):
    matcher = _Stub({})  # never searched
    assert sole_ask_fits(matcher, message, "a", min_score=0.4, min_fit=0.75) is False


def test_a_question_wrapped_in_context_is_answered_when_its_ask_fits_clearly(bank):
    result = ask(bank, CONTEXT)
    assert result.decision == answers.ANSWER and result.entry_id == "khan-cap-115", result.candidates


def test_a_message_that_fits_no_entry_as_a_whole_is_not_answered_for_its_ask(bank):
    # its ask ("có cần chở vô bệnh viện không") fits the ambulance entry, but the message is about a sick child
    result = ask(bank, "bé nhà em sốt cao từ sáng, uống thuốc rồi chưa hạ, có cần chở vô bệnh viện không chị")
    assert result.decision == answers.FALLBACK


def test_words_the_bank_has_nowhere_still_veto_an_answer_on_the_ask_alone(bank):
    result = ask(bank, "số gọi xe cấp cứu là số mấy vậy chị? tiktok livestream karaoke pickleball zumba")
    assert result.decision != answers.ANSWER, result.candidates
