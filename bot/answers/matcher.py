"""Rank content-bank entries for a member's question, and say how sure we are.

Ranking uses an in-memory SQLite FTS5 index over the features of
:mod:`bot.answers.normalize` (folded syllables and bigrams, accent-exact syllables and
bigrams).  The question, its variants and keywords are the main column; the
answer is a second column with a low weight and folded features only.  This
index is a search structure rebuilt from the content bank at every load, not
app storage, so its SQL lives here and not in ``storage.py``.

Raw BM25 scores grow with the bank and cannot say "I don't know" (see
the matching notes in the project's shared material), so each candidate also gets a scale-free
*coverage*: the IDF-weighted share of the query's features found in the entry's
question, variants and keywords.  The answer engine decides on coverage.

A search runs in two steps:

1. FTS5 BM25 over the query's features, leaving out features that more than
   ``COMMON_SHARE`` of the entries have (in a big bank they make FTS5 score most
   rows: 12 ms instead of 1 ms per question at 10,000 entries), gives a pool of
   ``POOL`` entries;
2. the pool is re-ranked by ``bm25 / best bm25 + COVERAGE_WEIGHT * coverage +
   PRECISION_WEIGHT * precision``, where coverage counts every feature, common ones
   included, and precision is how much of the entry's closest phrasing the question
   covers (it separates an entry from a longer sibling that contains its words).

The rank also uses what the question says besides its words (:mod:`bot.answers.signals`):
what it asks for (a date, a number, a person), what a "bao nhiêu / mấy" question counts, the
document number it names; the share of the question found in the entry's answer; and the thing
of a kind it names (Hoàng Sa or Trường Sa; Lào, Campuchia or Trung Quốc): an entry that names only
another thing of that kind drops down.  Two
kinds of accidental match are left out of coverage and precision: a word the member typed with
marks that the entry spells otherwise (biển / biên), and an everyday word that the entry has
only inside a compound the question lacks ("mai" = tomorrow / "mai mối").

Held-out phrasings of the shipped bank (each variant removed from the index in
turn and asked): BM25 alone 0.763, the mix 0.764; with the bank padded to 10,000
synthetic entries: BM25 alone 0.65, pruned BM25 alone 0.51, pruned + mix 0.76.  Issue 13 (five folds of
the bank's variants held out in turn: the index is built without them and they are asked): 0.746 before the
signals above, 0.760 with them.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.answers import normalize as textnorm
from bot.answers.signals import (  # noqa: F401  (content_words, intents, document_numbers: the matcher's API)
    DOC_BONUS,
    DOC_OTHER_PENALTY,
    ERA_PENALTY,
    FUNCTION_SYLLABLES,
    INTENT_BONUS,
    UNIT_BONUS,
    WITHHELD_MIN_PRECISION,
    bound_syllable,
    content_words,
    contrast_penalty,
    counted,
    document_numbers,
    era,
    feature_weight,
    intents,
    main_document,
    marked_forms,
    named_contrasts,
    same_document,
    single_names,
    unnamed_kinds,
    withholds_figures,
)

logger = logging.getLogger(__name__)

MAIN_WEIGHT = 1.0
ANSWER_WEIGHT = 0.35  # the answer helps rank (held-out phrasings: +4 points); question and phrasings lead
POOL = 30  # entries re-ranked per question
COVERAGE_WEIGHT = 2.0  # λ in bm25/best + λ·coverage + μ·precision
PRECISION_WEIGHT = 1.0  # μ: chosen on the dev split (acc@1 0.936 -> 0.945; 0.5-1.5 alike)
COMMON_SHARE = 0.10  # features in more entries than this share are left out of the FTS5 query...
COMMON_MIN_DF = 50  # ...but never in a small bank
MIN_QUERY_TERMS = 4  # keep at least this many (the rarest) features even if all are common
MAX_QUERY_TERMS = 24  # the rarest features of a very long message are enough to rank
ANSWER_COVERAGE_WEIGHT = 0.5
CONFLICT_WEIGHT = 1.0  # a word the member spelled with marks that the entry spells otherwise counts against it
_TOKENIZER = "unicode61 remove_diacritics 0 tokenchars '_'"

class Indexable(Protocol):
    """What the matcher needs from an entry (``bot.answers.bank.Entry`` has it)."""

    id: str
    question: str
    variants: Sequence[str]
    keywords: Sequence[str]
    answer: str


@dataclass(frozen=True)
class Candidate:
    """One ranked entry: ``score`` is the coverage (0..1), ``bm25`` the FTS5 score,
    ``rank`` the re-ranking score the list is sorted by (higher is better for all)."""

    entry_id: str
    score: float
    bm25: float
    rank: float = 0.0
    named: bool = False  # the question names the document this entry is about ("01/CT-TTg")
    precision: float = 0.0  # how much of the entry's closest phrasing the question covers (0..1)
    # the question counts something ("bao nhiêu dân") that the entry names nowhere, answer included, and the
    # answer does not say that a figure is not officially known
    uncounted: bool = False


def phrasing_features(entry: Indexable) -> list[frozenset[str]]:
    """The features of each phrasing (the question and each variant) on its own."""
    return [frozenset(map(sys.intern, textnorm.document_features(text))) for text in (entry.question, *entry.variants)]


def spelled_features(feature_set: frozenset[str]) -> frozenset[str]:
    """The folded features whose marked spelling the entry knows: "luat_bien" for "_luật_biên".
    A phrasing written without marks in the bank ("luat bien phong") is read with them."""
    prefix = len(textnorm.ACCENT_PREFIX)
    out = set()
    for f in feature_set:
        if f.startswith(textnorm.ACCENT_PREFIX):
            folded = textnorm.fold(f[prefix:])
            if folded != f[prefix:]:
                out.add(folded)
    return frozenset(out)


def entry_features(entry: Indexable) -> tuple[list[str], list[str]]:
    """(main features, answer features) of an entry.

    Each text is analysed on its own, so bigrams never join the end of one phrasing
    to the start of the next.  Strings are interned: 10,000 entries share them.
    """
    main: list[str] = []
    for text in (entry.question, *entry.variants, *entry.keywords):
        main.extend(map(sys.intern, textnorm.document_features(text)))
    answer = list(map(sys.intern, textnorm.features(entry.answer, accents="never")))
    return main, answer


class Matcher:
    """BM25 ranking plus coverage over a fixed set of entries; safe to share between threads."""

    def __init__(self, entries: Iterable[Indexable]):
        started = time.perf_counter()
        self.ids: list[str] = []
        self._feature_sets: list[frozenset[str]] = []
        self._phrasings: list[list[frozenset[str]]] = []
        self._intents: list[frozenset[str]] = []  # what the entry's own phrasings ask for
        self._documents: list[frozenset[tuple[str, str]]] = []  # document numbers in its phrasings and keywords
        self._main_documents: list[frozenset[tuple[str, str]]] = []  # ...in its canonical question
        self._answer_sets: list[frozenset[str]] = []  # folded features of its answer
        self._withheld: list[bool] = []  # its answer says a figure is not officially known
        self._eras: list[str | None] = []  # the side of the 2025 reform its canonical question is about
        self._singles: list[frozenset[int]] = []  # the CONTRASTS kinds its canonical question names one of
        self._spelled: list[frozenset[str]] = []  # folded features it also has written with marks
        self._df: Counter[str] = Counter()  # entries whose main column has the feature
        self._postings: Counter[str] = Counter()  # entries that have it in either column
        # contentless: the index keeps no copy of the text, which is never read back
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.execute(
            f"CREATE VIRTUAL TABLE idx USING fts5(main, answer, content='', tokenize = \"{_TOKENIZER}\")"
        )
        with self._conn:
            for rowid, entry in enumerate(entries):
                main, answer = entry_features(entry)
                feature_set = frozenset(main)
                self.ids.append(entry.id)
                self._feature_sets.append(feature_set)
                self._phrasings.append(phrasing_features(entry))
                self._intents.append(intents(" . ".join((entry.question, *entry.variants))))
                self._documents.append(document_numbers(" . ".join((entry.question, *entry.variants, *entry.keywords))))
                self._main_documents.append(main_document(entry.question, entry.keywords))
                self._eras.append(era(entry.question))
                self._singles.append(single_names(self._phrasings[-1][0]))
                self._spelled.append(spelled_features(feature_set))
                self._answer_sets.append(frozenset(answer))
                self._withheld.append(withholds_figures(entry.answer))
                self._df.update(feature_set)
                self._postings.update(feature_set.union(answer))
                self._conn.execute(
                    "INSERT INTO idx (rowid, main, answer) VALUES (?, ?, ?)", (rowid, " ".join(main), " ".join(answer))
                )
            self._conn.execute("INSERT INTO idx (idx) VALUES ('optimize')")
        self._common = max(COMMON_MIN_DF, COMMON_SHARE * len(self.ids))
        # IDF of every indexed feature and the IDF mass of each phrasing, computed once
        self._idf = {f: self.idf(f) * feature_weight(f) for f in self._df}
        self._phrasing_mass = [[sum(self._idf[f] for f in p) for p in entry] for entry in self._phrasings]
        self._index = {entry_id: i for i, entry_id in enumerate(self.ids)}
        self._lock = threading.Lock()
        self.build_seconds = time.perf_counter() - started
        logger.info("matcher: indexed %d entries in %.2f s", len(self.ids), self.build_seconds)

    def __len__(self) -> int:
        return len(self.ids)

    def idf(self, feature: str) -> float:
        """BM25-style IDF over the entries' main features; a feature no entry has gets the most."""
        n = len(self.ids)
        d = self._df.get(feature, 0)
        return math.log(1.0 + (n - d + 0.5) / (d + 0.5))

    def coverage(self, query_features: Iterable[str], entry_id: str) -> float:
        """IDF-weighted share of ``query_features`` that the entry's main features contain."""
        i = self._index.get(entry_id)
        if i is None:
            return 0.0
        return self._coverage(self._weights(list(dict.fromkeys(query_features))), self._feature_sets[i])

    def _weights(self, feats: list[str]) -> list[tuple[str, float]]:
        idf = self._idf
        return [(f, idf[f] if f in idf else self.idf(f) * feature_weight(f)) for f in feats]

    @staticmethod
    def _coverage(
        weights: list[tuple[str, float]],
        entry_set: frozenset[str],
        ignored: frozenset[str] = frozenset(),
        against: frozenset[str] = frozenset(),
    ) -> float:
        """Coverage without the ``ignored`` features; the ``against`` ones (the entry spells the
        member's word another way) count CONFLICT_WEIGHT times against it."""
        total = sum(w for _, w in weights)
        covered = sum(w for f, w in weights if f in entry_set and f not in ignored)
        covered -= CONFLICT_WEIGHT * sum(w for f, w in weights if f in against)
        return max(0.0, covered) / total if total else 0.0

    def _unsupported(
        self, rowid: int, marked: dict[str, set[str]], bound: dict[str, list[str]]
    ) -> tuple[frozenset[str], frozenset[str]]:
        """Query features the entry has only by accident, left out of its coverage and precision:

        - a folded feature the member typed with marks that the entry has only as another word
          ("luật biển" typed, the entry says "luật biên phòng": ``luat_bien`` is not shared);
          an entry whose unmarked phrasing has ``bien`` but never spells it is given the benefit;
        - an everyday syllable that the entry has only inside a compound the question lacks
          ("mai" = tomorrow against "mai mối": no query bigram with "mai" is in the entry).
        """
        entry_set = self._feature_sets[rowid]
        misspelled = frozenset(
            f
            for f, forms in marked.items()
            if f in entry_set and f in self._spelled[rowid] and forms.isdisjoint(entry_set)
        )
        alone = [f for f, bigrams in bound.items() if f in entry_set and not any(b in entry_set for b in bigrams)]
        return misspelled, misspelled.union(alone)

    def _precision(self, query: frozenset[str], rowid: int) -> float:
        """How much of the entry's closest phrasing the question covers (IDF-weighted).

        Coverage alone cannot tell "lãnh hải rộng bao nhiêu" from "vùng tiếp giáp lãnh
        hải rộng bao nhiêu": both contain every word of the question.  The phrasing
        with the fewest words the member did not type is the closer match.
        """
        idf = self._idf
        best = 0.0
        for phrasing, total in zip(self._phrasings[rowid], self._phrasing_mass[rowid]):
            if total:
                best = max(best, sum(idf[f] for f in phrasing & query) / total)
        return best

    def unknown_words(self, text: str) -> list[str]:
        """The syllables of ``text`` that name something and that the bank has nowhere, answers
        included ("xổ số"): a question about something the bank does not cover."""
        return [
            t.folded
            for t in textnorm.analyze(text)
            if t.folded not in FUNCTION_SYLLABLES and t.folded not in self._postings and not t.folded.isdigit()
        ]

    def search(self, text: str, k: int = 5) -> list[Candidate]:
        """The ``k`` best entries for ``text``, best first (empty when nothing matches)."""
        return self.search_features(
            list(dict.fromkeys(textnorm.query_features(text))),
            k,
            asks=intents(text),
            documents=document_numbers(text),
            units=counted(text),
            asked_era=era(text),
        )

    def search_features(
        self,
        feats: list[str],
        k: int = 5,
        *,
        asks: frozenset[str] = frozenset(),
        documents: frozenset[tuple[str, str]] = frozenset(),
        units: tuple[str, ...] = (),
        asked_era: str | None = None,
    ) -> list[Candidate]:
        """Like :meth:`search`, for query features already computed (unique, in order)."""
        known = sorted((f for f in feats if f in self._postings), key=self._postings.__getitem__)
        if not known:
            return []
        known = [f for f in known if not bound_syllable(f)] or known  # "mai" alone finds "mai mối": not a term
        rare = [f for f in known if self._postings[f] <= self._common]
        terms = (rare if len(rare) >= MIN_QUERY_TERMS else known[:MIN_QUERY_TERMS])[:MAX_QUERY_TERMS]
        expr = " OR ".join(f'"{f}"' for f in terms)  # features are word characters and "_": safe to quote
        with self._lock:
            rows = self._conn.execute(
                "SELECT rowid, bm25(idx, ?, ?) AS r FROM idx WHERE idx MATCH ? ORDER BY r LIMIT ?",
                (MAIN_WEIGHT, ANSWER_WEIGHT, expr, max(k, POOL)),
            ).fetchall()
        if not rows:
            return []
        weights = self._weights(feats)
        folded_weights = [(f, w) for f, w in weights if not f.startswith(textnorm.ACCENT_PREFIX)]
        query = frozenset(feats)
        best = -min(r for _, r in rows) or 1.0  # FTS5 bm25 is negative: lower is better
        marked, bound = marked_forms(feats), _bound_bigrams(feats)
        contrasts, unnamed = named_contrasts(query), unnamed_kinds(query)
        pool = []
        for rowid, r in rows:
            against, ignored = self._unsupported(rowid, marked, bound) if marked or bound else (frozenset(), frozenset())
            coverage = self._coverage(weights, self._feature_sets[rowid], ignored, against)
            precision = self._precision(query - ignored, rowid)
            rank = -r / best + COVERAGE_WEIGHT * coverage + PRECISION_WEIGHT * precision
            if ANSWER_COVERAGE_WEIGHT:  # members ask about facts they read: the answer's words count a little
                rank += ANSWER_COVERAGE_WEIGHT * self._coverage(folded_weights, self._answer_sets[rowid], ignored)
            entry_set = self._feature_sets[rowid]
            rank -= contrast_penalty(contrasts, entry_set, unnamed & self._singles[rowid])
            if asked_era and self._eras[rowid] not in (None, asked_era):
                rank -= ERA_PENALTY  # the other side of the 2025 reform
            if asks & self._intents[rowid]:
                rank += INTENT_BONUS
            if units:  # what a "bao nhiêu / mấy" question counts, named in the entry's phrasings
                rank += UNIT_BONUS * sum(u in self._feature_sets[rowid] for u in units) / len(units)
            named = bool(documents) and same_document(documents, self._main_documents[rowid])
            if named:
                rank += DOC_BONUS
            elif documents and self._main_documents[rowid]:
                rank -= DOC_OTHER_PENALTY  # about another document, which it may only mention
            uncounted = (
                bool(units) and units[0] not in self._feature_sets[rowid] and units[0] not in self._answer_sets[rowid]
            ) and not (self._withheld[rowid] and precision >= WITHHELD_MIN_PRECISION)
            pool.append(Candidate(self.ids[rowid], coverage, -r, rank, named, precision, uncounted))
        pool.sort(key=lambda c: c.rank, reverse=True)
        return pool[:k]


def _bound_bigrams(feats: list[str]) -> dict[str, list[str]]:
    """Each everyday syllable of the query (:data:`bot.answers.signals.BOUND_SYLLABLES`, folded or
    accent-exact) → the query's folded bigrams that contain it."""
    bigrams = [f for f in feats if "_" in f and not f.startswith(textnorm.ACCENT_PREFIX)]
    out = {}
    for f in feats:
        if bound_syllable(f):
            word = textnorm.fold(f.lstrip(textnorm.ACCENT_PREFIX))
            out[f] = [b for b in bigrams if word in b.split("_")]
    return out


def grouping_features(text: str) -> frozenset[str]:
    """Folded syllables and bigrams of ``text``: spelling-blind, for grouping questions."""
    return frozenset(textnorm.features(text, accents="never"))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b|; two empty sets are alike."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def group_similar(texts: Sequence[str], threshold: float = 0.4) -> list[list[int]]:
    """Group texts that ask the same thing: greedy clustering on Jaccard similarity.

    Each text joins the most similar existing group (compared with the group's
    first text) if the similarity reaches ``threshold``, else starts a new group.
    Returns groups of indices into ``texts``, largest first, each in input order.
    """
    seeds: list[frozenset[str]] = []
    groups: list[list[int]] = []
    for i, text in enumerate(texts):
        feats = grouping_features(text)
        best, best_sim = -1, -1.0
        for g, seed in enumerate(seeds):
            sim = jaccard(feats, seed)
            if sim > best_sim:
                best, best_sim = g, sim
        if best_sim < threshold:
            seeds.append(feats)
            groups.append([i])
        else:
            groups[best].append(i)
    return sorted(groups, key=lambda g: (-len(g), g[0]))
