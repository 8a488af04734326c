"""Vietnamese text normalisation for matching: pure functions, no state.

Members type with or without diacritics, in chat shorthand ("bn", "ko", "ntn"),
with stretched letters ("đâuuu") and polite filler ("cho em hỏi", "ad ơi", "ạ").
:func:`analyze` turns such text into a list of :class:`Token`; :func:`features`
turns it into the index/query features used by :mod:`bot.answers.matcher`:

- folded syllables: lower-case, no diacritics, đ → d ("biển" → ``bien``);
- folded syllable bigrams joined with ``_`` (``bien_gioi``);
- accent-exact syllables and bigrams prefixed with ``_`` (``_biển``,
  ``_vùng_biển``), because folding makes different words collide (biển/biên,
  đại dương/dài đường).  Documents always get them; a query gets them only where
  the member typed diacritics, or typed a pair that only one word spells ("bien gioi").

The words (shorthand, filler, such pairs) are in :mod:`bot.answers.lexicon`.  The original
text is never changed by this module: callers keep it for display.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache

from bot.answers.lexicon import (
    ABBREVIATIONS,
    ACRONYMS,
    CASED_ABBREVIATIONS,
    FILLER_PHRASES,
    FILLER_WORDS,
    MARKED_PHRASES,
    OTHER_WORD_AFTER,
    PHRASE_ABBREVIATIONS,
    TRAILING_PARTICLES,
    UNAMBIGUOUS_COMPOUNDS,
)
from bot.core.text import fold, nfc

ACCENT_PREFIX = "_"  # accent-exact features: "_biển"; "_" is a token char of the FTS5 index

_WORD = re.compile(r"[^\W_]+")
_THOUSANDS_DOT = re.compile(r"(?<=\d)\.(?=\d{3}(?!\d))")  # 1.449,566 -> 1449,566
_SUPERSCRIPTS = str.maketrans("²³", "23")  # the bank writes "km²", members type "km2"
# oa, oe, uy at the end of a syllable: old style marks the second vowel, new style the first
_NEW_TONE = {
    "o" + second: first + plain
    for plain, marks in (("a", "àáảãạ"), ("e", "èéẻẽẹ"))
    for second, first in zip(marks, "òóỏõọ")
} | {"u" + second: first + "y" for second, first in zip("ỳýỷỹỵ", "ùúủũụ")}
_OLD_TONE = re.compile("(?:" + "|".join(_NEW_TONE) + ")$")


@dataclass(frozen=True)
class Token:
    """One syllable: as typed (NFC lower-case), folded, and whether the member typed it."""

    text: str
    folded: str
    typed: bool = True  # False when it came from an abbreviation expansion

    @property
    def marked(self) -> bool:
        """The syllable carries a diacritic (or đ)."""
        return self.text != self.folded


class WordSet:
    """Words matched exactly when typed with marks, by folded form when typed without; ``unmarked``, when
    given, limits the folded matches to those words (the others match only as spelled)."""

    def __init__(self, words: frozenset[str] | set[str], *, unmarked: frozenset[str] | set[str] | None = None):
        self.exact = frozenset(words)
        self.folded = frozenset(fold(w) for w in (words if unmarked is None else unmarked))

    def __contains__(self, token: Token) -> bool:
        return token.text in self.exact or (not token.marked and token.folded in self.folded)


_TRAILING = WordSet(TRAILING_PARTICLES)
_FILLER_BY_FIRST: dict[str, list[tuple[WordSet, ...]]] = {}
for _phrase in sorted(FILLER_PHRASES, key=len, reverse=True):  # longest first
    _FILLER_BY_FIRST.setdefault(fold(_phrase[0]), []).append(tuple(WordSet({w}) for w in _phrase))


@lru_cache(maxsize=4096)
def _base(ch: str) -> str:
    return fold(ch)


def squeeze(word: str) -> str:
    """Collapse stretched letters: "đâuuu" → "đâu", "ạaaa" → "ạ", but keep "xoong".

    A run of the same base letter (diacritics ignored) becomes one letter, the
    marked one if any; a run of exactly two "o" stays (xoong, boong, soóc).
    Digits are never squeezed (2000).
    """
    out: list[str] = []
    i = 0
    while i < len(word):
        ch = word[i]
        base = _base(ch)
        j = i + 1
        while j < len(word) and word[j].isalpha() and _base(word[j]) == base:
            j += 1
        run = word[i:j]
        if not ch.isalpha() or len(run) == 1 or (len(run) == 2 and base == "o"):
            out.append(run)
        else:
            marked = [c for c in run if _base(c) != c]
            out.append(marked[0] if marked else ch)
        i = j
    return "".join(out)


_CASED = re.compile(r"\b(" + "|".join(CASED_ABBREVIATIONS) + r")\b")


def tokenize(text: str) -> list[Token]:
    """NFC, lower-case, punctuation stripped, stretched letters squeezed."""
    text = _CASED.sub(lambda m: CASED_ABBREVIATIONS[m.group(1)], nfc(text))
    text = _THOUSANDS_DOT.sub("", text.lower()).translate(_SUPERSCRIPTS)
    tokens: list[Token] = []
    for word in _WORD.findall(text):
        tokens.extend(_expansion(ACRONYMS[word]) if word in ACRONYMS else [_token(word)])  # "eez" before squeezing
    return tokens


def tone_placement(word: str) -> str:
    """Old-style tone placement to the new style: "hoà" → "hòa", "thuỷ" → "thủy", "uỷ" → "ủy".

    Keyboards and writers differ; both spellings are correct, so accent-exact
    features must not tell them apart.  "quý" keeps its mark (the u belongs to qu).
    """
    m = _OLD_TONE.search(word)
    if m is None or word[: m.start()].endswith("q"):
        return word
    return word[: m.start()] + _NEW_TONE[m.group(0)]


# A final y after a consonant is also written i: "hải lý"/"hải lí", "hy sinh"/"hi sinh", "kỹ"/"kĩ",
# "Mỹ"/"Mĩ", "tỷ lệ"/"tỉ lệ".  Both spellings are correct; the i spelling is the one kept.
_FINAL_Y = re.compile(r"^(?:ngh|ch|gh|kh|nh|ng|ph|th|tr|[bcdđghklmnprstvx])([yýỳỷỹỵ])$")
_Y_TO_I = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")


def final_y(word: str) -> str:
    """ "lý" → "lí", "hy" → "hi"; "quý", "ý", "uy" keep their y."""
    m = _FINAL_Y.match(word)
    return word[: m.start(1)] + m.group(1).translate(_Y_TO_I) if m else word


@lru_cache(maxsize=200_000)
def _token(word: str) -> Token:
    """One word as a Token; cached: the vocabulary is small and bank texts repeat it."""
    word = (word.lstrip("0") or "0") if word.isdigit() else final_y(tone_placement(squeeze(word)))  # 09/01 = 9/1
    return Token(sys.intern(word), sys.intern(fold(word)))


_PHRASE_FIRST = frozenset(k[0] for k in PHRASE_ABBREVIATIONS)
_MARKED_FIRST = frozenset(k[0] for k in MARKED_PHRASES)
_PHRASE_LONGEST = max(len(k) for k in (*PHRASE_ABBREVIATIONS, *MARKED_PHRASES))


def _expansion(text: str) -> list[Token]:
    return [Token(w, fold(w), typed=False) for w in text.split()]


def expand_abbreviations(tokens: list[Token]) -> list[Token]:
    """Replace chat shorthand by full words ("bn" → "bao nhiêu", "ntn" → "như thế nào")."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        phrase = tokens[i].folded in _PHRASE_FIRST or tokens[i].text in _MARKED_FIRST
        for size in range(_PHRASE_LONGEST, 1, -1) if phrase else ():
            part = tokens[i : i + size]
            marked = MARKED_PHRASES.get(tuple(t.text for t in part))
            if marked:  # matched on the member's marks: read as typed with them
                out.extend(Token(w, fold(w)) for w in marked.split())
            elif len(part) == size and (key := tuple(t.folded for t in part)) in PHRASE_ABBREVIATIONS:
                out.extend(_expansion(PHRASE_ABBREVIATIONS[key]))
            else:
                continue
            i += size
            break
        else:
            token = tokens[i]
            expansion = ABBREVIATIONS.get(token.text)
            if expansion is None or expansion == token.text:
                out.append(token)
            else:
                out.extend(_expansion(expansion))
            i += 1
    return out


def drop_filler(tokens: list[Token]) -> list[Token]:
    """Remove polite filler: "cho em hỏi", "ad ơi", "ạ", and final particles ("vậy", "nhỉ")."""
    kept: list[Token] = []
    i = 0
    while i < len(tokens):
        for phrase in _FILLER_BY_FIRST.get(tokens[i].folded, ()):
            window = tokens[i : i + len(phrase)]
            if len(window) == len(phrase) and all(t in w for t, w in zip(window, phrase)):
                i += len(phrase)
                break
        else:
            if tokens[i].text not in FILLER_WORDS:
                kept.append(tokens[i])
            i += 1
    while kept and kept[-1] in _TRAILING:
        kept.pop()
    return kept


def _day_or_month(token: Token) -> bool:
    return token.folded.isdigit() and 1 <= int(token.folded) <= 31


def date_forms(tokens: list[Token]) -> list[Token]:
    """Dates written out read like dates with slashes: "3 tháng 3" → "3 3" (as "3/3" is read), and
    "14 tháng 3 năm 1988" → "14 3 1988" (as "14/3/1988")."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if (
            token.folded == "thang"
            and out
            and _day_or_month(out[-1])
            and i + 1 < len(tokens)
            and _day_or_month(tokens[i + 1])
            and int(tokens[i + 1].folded) <= 12
        ):
            out.append(tokens[i + 1])
            i += 2
            if i + 1 < len(tokens) and tokens[i].folded == "nam" and len(tokens[i + 1].folded) == 4 and tokens[i + 1].folded.isdigit():
                i += 1  # "năm" before the year goes too; the year stays
            continue
        out.append(token)
        i += 1
    return out


def analyze(text: str) -> list[Token]:
    """The full pipeline: tokenize, expand abbreviations, read written-out dates, drop filler."""
    return drop_filler(date_forms(expand_abbreviations(tokenize(text))))


def normalize(text: str) -> str:
    """Normalised text with diacritics kept, for logs and grouping: "Bn km vậy ad?" → "bao nhiêu km"."""
    return " ".join(t.text for t in analyze(text))


def folded_text(text: str) -> str:
    """Normalised and folded: "Biển Đông ở đâuuu ạ" → "bien dong o dau"."""
    return " ".join(t.folded for t in analyze(text))


def is_diacritised(tokens: list[Token]) -> bool:
    """The member wrote with diacritics: at least 40% of the typed syllables carry a mark.

    Plenty of correct syllables carry no mark (ba, hai, em, theo), so a fully
    diacritised text is still only ~60-80% marked; a text typed without marks is 0%.
    """
    words = [t for t in tokens if t.typed and not t.folded.isdigit()]
    if not words:
        return False
    return sum(t.marked for t in words) >= 0.4 * len(words)


def features_of_tokens(tokens: list[Token], *, accents: str = "auto", diacritised: bool | None = None) -> list[str]:
    """Features of analysed tokens, in order, repeats kept (term frequency matters to BM25).

    Folded syllables and bigrams always; accent-exact syllables and bigrams
    (``_biển``, ``_vùng_biển``) where spelling is known.  ``accents``: ``"always"``
    (documents), ``"never"``, or ``"auto"`` (queries): every syllable when the text
    is diacritised, otherwise only syllables typed with marks (expansions are then
    left out: "ko" says nothing about how the member spells "không") and the unmarked pairs
    whose spelling only one word has ("bien gioi": ``_biên_giới``; see the lexicon).
    """
    folded = [t.folded for t in tokens]
    feats = list(folded)
    feats.extend(f"{a}_{b}" for a, b in zip(folded, folded[1:]))
    if accents == "always":
        exact = [True] * len(tokens)
    elif accents == "auto":
        every = is_diacritised(tokens) if diacritised is None else diacritised
        exact = [every or (t.typed and t.marked) for t in tokens]
    else:
        return feats
    texts = [t.text for t in tokens]
    if accents == "auto":
        _restore_compounds(tokens, texts, exact)
    exact = [e and not t.isdigit() for e, t in zip(exact, texts)]
    feats.extend(ACCENT_PREFIX + t for t, e in zip(texts, exact) if e)
    feats.extend(
        f"{ACCENT_PREFIX}{a}_{b}"
        for a, b, ea, eb in zip(texts, texts[1:], exact, exact[1:])
        if ea and eb
    )
    return feats


def _restore_compounds(tokens: list[Token], texts: list[str], exact: list[bool]) -> None:
    """Give the unmarked pairs of :data:`UNAMBIGUOUS_COMPOUNDS` their spelling, in place."""
    for i in range(len(tokens) - 1):
        a, b = tokens[i], tokens[i + 1]
        spelled = UNAMBIGUOUS_COMPOUNDS.get((a.folded, b.folded))
        if not spelled or a.marked or b.marked:
            continue
        after = tokens[i + 2].folded if i + 2 < len(tokens) else ""
        if after not in OTHER_WORD_AFTER.get(b.folded, ()):
            texts[i], texts[i + 1] = spelled
            exact[i] = exact[i + 1] = True


# Clause breaks: a bigram never joins the last word of one clause to the first of the next
# ("… hồi năm nào vậy ad, hoàng sa hay …": no "ad_hoang" / "nao_hoang").  A dot or comma
# between digits is part of a number (1.449,566 km; 14.3).
_CLAUSE = re.compile(r"(?<!\d)[,.;:?!…\n]+|[,.;:?!…\n]+(?!\d)")


def features(text: str, *, accents: str = "auto") -> list[str]:
    """Index/query features of ``text``: folded syllables, folded bigrams, accent-exact syllables;
    bigrams within a clause.  Whether the text is diacritised is judged on the whole text."""
    clauses = [tokens for tokens in map(analyze, _CLAUSE.split(text)) if tokens]
    if len(clauses) <= 1:
        return features_of_tokens(clauses[0] if clauses else [], accents=accents)
    every = is_diacritised([t for tokens in clauses for t in tokens])
    return [f for tokens in clauses for f in features_of_tokens(tokens, accents=accents, diacritised=every)]


def query_features(text: str) -> list[str]:
    """Features of a member's question (accent-exact only where diacritics were typed)."""
    return features(text, accents="auto")


def document_features(text: str) -> list[str]:
    """Features of bank text (questions, variants, keywords, answers): accent-exact always."""
    return features(text, accents="always")
