"""Vietnamese normalisation: folding, squeezing, abbreviations, filler, features."""

from __future__ import annotations

import unicodedata

import pytest

from bot.answers import normalize as textnorm
from bot.answers.normalize import (
    document_features,
    folded_text,
    is_diacritised,
    normalize,
    query_features,
    squeeze,
    tokenize,
)
from bot.core.text import fold, fold_words, has_diacritics, nfc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Biển Đông", "bien dong"),
        ("ĐẢO", "dao"),
        ("biên giới", "bien gioi"),
        ("Việt Nam, Trung Quốc", "viet nam, trung quoc"),
        ("nghiêng ngửa ỹ ự", "nghieng ngua y u"),  # stacked marks fold too
        ("đđ ĐĐ", "dd dd"),  # đ has no Unicode decomposition: folded explicitly
        ("abc 123", "abc 123"),
    ],
)
def test_fold(text, expected):
    assert fold(text) == expected


def test_nfc_makes_decomposed_input_equal():
    decomposed = unicodedata.normalize("NFD", "Trường Sa")
    assert decomposed != "Trường Sa"
    assert nfc(decomposed) == "Trường Sa"
    assert normalize(decomposed) == "trường sa"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("đâuuu", "đâu"),
        ("ạaaa", "ạ"),
        ("aạaa", "ạ"),  # the marked letter of the run is kept
        ("kooo", "ko"),
        ("xoong", "xoong"),  # a real double o stays
        ("2000", "2000"),  # digits are never squeezed
        ("biển", "biển"),
        ("nhiềuuuuu", "nhiều"),
    ],
)
def test_squeeze(word, expected):
    assert squeeze(word) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ko", "không"),
        ("hok", "không"),
        ("hông", "không"),
        ("sông hong", "sông hong"),  # unmarked "hong" may be the Red River: not expanded
        ("dc", "được"),
        ("đc", "được"),
        ("biên giới dài bn km", "biên giới dài bao nhiêu km"),
        ("dài nhiu km", "dài bao nhiêu km"),
        ("dài bao nhiu km", "dài bao nhiêu km"),  # not "bao bao nhiêu"
        ("là j", "là gì"),
        ("ntn", "như thế nào"),
        ("vn", "việt nam"),
        ("biên giới tq", "biên giới trung quốc"),
        ("biên giới cpc", "biên giới campuchia"),
        ("bđbp", "bộ đội biên phòng"),
        ("bdbp", "bộ đội biên phòng"),
        ("hlhpn tỉnh", "hội liên hiệp phụ nữ tỉnh"),
        ("lhq", "liên hợp quốc"),
        ("tp cần thơ", "thành phố cần thơ"),
        ("qđ hoàng sa", "quần đảo hoàng sa"),
        ("hs ts", "hoàng sa trường sa"),
        ("EEZ là gì", "vùng đặc quyền kinh tế là gì"),  # read before "eez" is squeezed
        ("eez rộng bao nhiêu", "vùng đặc quyền kinh tế rộng bao nhiêu"),
        ("câu này ez mà", "câu này ez mà"),  # "ez" is chat for "easy"
        ("hội mình có cuộc thi nào", "hội phụ nữ có cuộc thi nào"),
        ("chi hội mình", "chi hội phụ nữ"),
        ("hoi minh co cuoc thi nao", "hoi minh co cuoc thi nao"),  # unmarked: may be "hỏi mình"
        ("cho em hỏi mình đăng ký ở đâu", "mình đăng kí ở đâu"),  # "hỏi mình" is not the union
        ("vì sao", "vì sao"),  # "sao" is kept
        ("tui ở gần biển", "tôi ở gần biển"),  # the South's "tôi"
        ("bờ biển nc mình", "bờ biển nước mình"),
        ("biên phòg", "biên phòng"),
        ("viết dùm em cái đơn", "viết cái đơn"),  # "dùm em" is filler, as "giùm em"
    ],
)
def test_abbreviations(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cho em hỏi biên giới dài bao nhiêu ạ?", "biên giới dài bao nhiêu"),
        ("cho em hoi bien gioi dai bao nhieu a", "bien gioi dai bao nhieu"),
        ("ad ơi biển đông ở đâuuu vậy", "biển đông ở đâu"),
        ("Ad oi, Truong Sa o dau vay ad", "truong sa o dau"),
        ("mình muốn biết ngày biên phòng là ngày nào nhỉ", "ngày biên phòng là ngày nào"),
        ("biên giới với Lào dài bao nhiêu", "biên giới với lào dài bao nhiêu"),  # inner "với" kept
        ("giúp em với", ""),
        ("kinh phí cho hội phụ nữ", "kinh phí cho hội phụ nữ"),  # "cho hội" is not "cho hỏi"
        ("biên giới nước ta", "biên giới nước ta"),
    ],
)
def test_filler_is_dropped(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("old", "new"),
    [("hoà", "hòa"), ("Khánh Hoà", "khánh hòa"), ("thuỷ", "thủy"), ("uỷ ban", "ủy ban"), ("khoẻ", "khỏe")],
)
def test_old_tone_placement_matches_new(old, new):
    assert normalize(old) == new
    assert query_features(old) == query_features(new)


@pytest.mark.parametrize("word", ["quý", "hoàng", "khuỷu", "hòa"])
def test_tone_placement_leaves_other_words(word):
    assert textnorm.tone_placement(word) == word


def test_numbers_lose_thousand_dots_and_leading_zeros():
    assert [t.text for t in tokenize("1.449,566 km ngày 09/01/2015")] == ["1449", "566", "km", "ngày", "9", "1", "2015"]


def test_folded_text():
    assert folded_text("Biển Đông ở đâuuu ạ") == "bien dong o dau"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("biển đảo", True),
        ("bien dao", False),
        ("dc", False),
        ("đc", True),
        ("vn có bao nhiêu tỉnh ven biển", True),
    ],
)
def test_has_diacritics(text, expected):
    assert has_diacritics(text) is expected


def test_features_have_folded_syllables_and_bigrams():
    # (an unmarked compound with a single reading is the one exception: see below)
    feats = query_features("bo bien viet lao")
    assert feats == ["bo", "bien", "viet", "lao", "bo_bien", "bien_viet", "viet_lao"]


def test_query_without_diacritics_gets_no_accent_features():
    assert not [f for f in query_features("vung bien gom nhung gi") if f.startswith("_")]


def test_query_with_diacritics_gets_accent_features():
    feats = query_features("vùng biển gồm những gì")
    assert "_biển" in feats and "_vùng_biển" in feats
    assert "_biên" not in feats


def test_accent_features_tell_colliding_words_apart():
    sea, border = set(query_features("vùng biển")), set(query_features("vùng biên"))
    folded = {f for f in sea if not f.startswith("_")}
    assert folded == {f for f in border if not f.startswith("_")}  # folding alone collides
    assert "_biển" in sea - border and "_biên" in border - sea


def test_partly_diacritised_query_gets_accent_features_only_where_typed():
    tokens = textnorm.analyze("vn co bao nhieu tinh ven biển")
    assert not is_diacritised(tokens)
    accents = [f for f in query_features("vn co bao nhieu tinh ven biển") if f.startswith("_")]
    assert accents == ["_biển"]  # not "_việt": the member typed "vn", not its spelling


def test_an_unmarked_compound_with_one_reading_gets_its_spelling():
    feats = query_features("sap nhap xong con may tinh co bien gioi")
    assert {"_biên", "_giới", "_biên_giới"} <= set(feats)
    assert "_biển" not in feats and "_nhập" not in feats  # only the compound is spelled
    assert "_biên_phòng" in query_features("don bien phong o dau")
    # "bien" alone may be either word: it stays unspelled
    assert not [f for f in query_features("tinh nao giap bien") if f.startswith("_")]


def test_a_compound_typed_with_marks_keeps_the_member_s_spelling():
    assert "_biên" not in query_features("bien giới")  # the member spelled one syllable: nothing is guessed


@pytest.mark.parametrize(
    "text",
    ["vung bien gioi han bao nhieu hai ly", "tai nguyen bien phong phu", "moi truong bien phong chong o nhiem"],
)
def test_a_pair_that_starts_another_word_is_not_spelled(text):
    # "biển giới hạn", "biển phong phú", "biển phòng chống": the second syllable belongs to the next word
    assert "_biên" not in query_features(text)


def test_documents_always_get_accent_features():
    assert "_bien" in document_features("bien gioi")
    assert "_biển" in document_features("Bờ biển")


def test_empty_and_filler_only_text_have_no_features():
    assert query_features("") == []
    assert query_features("ad ơi ạ") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("truong sa o dau", "truong sa o dau"),  # unmarked "o" is "ở", not the filler "ờ"
        ("vn da ky luat bien", "việt nam da ki luat bien"),  # unmarked "da" may be "đã"; final y after a consonant is kept as i
    ],
)
def test_unmarked_words_are_not_taken_for_filler(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("DỪNG!!", "dung"), ("  Xóa   dữ-liệu ", "xoa du lieu"), ("Đăng ký nhận tin.", "dang ky nhan tin"), ("hái hoa", "hai hoa")],
)
def test_fold_words_for_commands(text, expected):
    assert fold_words(text) == expected


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [("hải lí", "hải lý"), ("hi sinh", "hy sinh"), ("kĩ thuật", "kỹ thuật"), ("tỉ lệ", "tỷ lệ"), ("hai li", "hai ly")],
)
def test_final_y_and_i_spellings_are_one_word(typed, same_as):
    assert textnorm.features(typed, accents="always") == textnorm.features(same_as, accents="always")


def test_final_y_after_a_vowel_or_alone_stays():
    assert textnorm.normalize("quý ý uy") == "quý ý uy"


@pytest.mark.parametrize(
    ("written", "slashed"),
    [
        ("ngày 3 tháng 3 là ngày gì", "ngày 3/3 là ngày gì"),
        ("ngay 14 thang 3 nam 1988", "ngay 14/3/1988"),
        ("Ngày 30 tháng 4 năm 1975", "Ngày 30/4/1975"),
    ],
)
def test_dates_written_out_read_like_dates_with_slashes(written, slashed):
    assert textnorm.folded_text(written) == textnorm.folded_text(slashed)


@pytest.mark.parametrize("text", ["tháng 3 năm nay", "3 tháng nữa", "sau 3 tháng 15 ngày"])
def test_months_that_are_not_dates_keep_their_words(text):
    assert "thang" in textnorm.folded_text(text).split()


def test_archipelago_initials_in_capitals_are_read_and_lower_case_ones_are_not():
    assert normalize("HS cách bờ bn km vậy ad") == "hoàng sa cách bờ bao nhiêu km"
    assert normalize("TS có bn đảo") == "trường sa có bao nhiêu đảo"
    assert normalize("hs lớp 9 thi được ko") == "hs lớp 9 thi được không"  # học sinh, maybe


def test_km2_reads_as_km_squared():
    assert [t.folded for t in textnorm.analyze("1 triệu km²")] == [t.folded for t in textnorm.analyze("1 triệu km2")]


def test_a_word_set_can_limit_which_words_match_without_marks():
    people = textnorm.WordSet({"anh", "cậu"}, unmarked={"anh"})
    cau_unmarked, cau, anh = textnorm.analyze("cau cậu anh")
    assert cau in people and anh in people  # "cậu" as spelled; "anh" has no marks to type
    assert cau_unmarked not in people  # "cau" typed without marks may be "cầu"
    assert cau_unmarked in textnorm.WordSet({"anh", "cậu"})  # without the limit it matches
