"""Answering without an LLM: pick the sentence that answers, cut the short answer out of it.

The :class:`ExtractiveAnswerer` scores every sentence of the retrieved passages by

* meaning: cosine between the question and the sentence vector (computed at index time);
* shared terms: IDF-weighted share of the question's content words found in the sentence;
* answer type: whether the sentence holds the kind of thing asked for (a person for "who", a date
  for "when", a number for "how many", a place for "where", ...) *that is not already in the question*;
* passage rank: the retriever's fused rank of the chunk the sentence comes from.

The best sentence is quoted verbatim; a short answer span of the expected type is cut from it. When
the best score is under the refusal threshold the answer is "Not found in the documents." with the
nearest passages. Everything a user reads, apart from fixed framing (quote marks, [n] markers, the
refusal sentence), is a slice of a document.

>>> answerer = ExtractiveAnswerer(refusal_threshold=0.42)                      # doctest: +SKIP
>>> answer = answerer.answer(question, hits, question_vector, sentence_vectors)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qa.types import Answer, Citation, Hit, Sentence

REFUSAL = "Not found in the documents."


@runtime_checkable
class Answerer(Protocol):
    """Turns retrieved passages into a cited :class:`~qa.types.Answer`."""

    def answer(
        self,
        question: str,
        hits: Sequence[Hit],
        question_vector: np.ndarray | None,
        sentence_vectors: Mapping[tuple[str, int], np.ndarray],
    ) -> Answer:
        """Answer ``question`` from ``hits`` only."""


# --- question analysis ---------------------------------------------------------------------------

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom whose why will with would you
    your yours according said say says did does name named called happen happened kind sort whats""".split()
)
_TOKEN = re.compile(r"[\w’'\-]+", re.UNICODE)

PERSON, DATE, NUMBER, PLACE, ORG, QUOTE, REASON, ENTITY, OTHER = (
    "person", "date", "number", "place", "organisation", "quote", "reason", "entity", "other",
)

# "which U.S. official", "what kind of weapons": up to two words between the wh-word and its noun
_WH = r"(?:what|which)(?:\s+(?:kind|type|sort)\s+of)?(?:\s+(?!(?:is|was|are|were|did|does|do|has|had|have|will|would|can|could)\b)[\w.’'-]+){0,3}?\s+"
_QTYPE_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(how (many|much)|what (number|percentage|percent|amount|sum|share|proportion)|how (large|big|high|long|old|far))\b", re.I), NUMBER),
    (re.compile(rf"\b(when|{_WH}(year|date|day|month|time|decade|century)s?\b|since when|how long ago)", re.I), DATE),
    (re.compile(r"\bwhat (did|does|do|had|has)\b.*\b(say|said|warn|claim|declare|state|call|describe|tell|announce|write|tweet|assert|argue)\w*\b"
                r"|\bhow (did|does|do|has|have|had|was|were|is)\b.*\b(describe|characteri[sz]e|call|refer|label|dub|term)\w*\b"
                rf"|\b{_WH}(phrase|words?|term|slogan|expression)\b", re.I), QUOTE),
    (re.compile(rf"\b(where|{_WH}(city|country|countries|town|place|region|state|states|neighbou?rhood|location|district|island|continent|border|area|capital|cities|nation|nations)\b)", re.I), PLACE),
    (re.compile(rf"\b{_WH}(organi[sz]ation|agency|group|company|channel|account|network|party|department|body|bodies|institution|court|council|cartel|outlet|university|newspaper|team|unit|administration|tv|television|station|force|forces)s?\b", re.I), ORG),
    (re.compile(rf"\b(who|whom|whose|{_WH}(person|people|man|woman|leader|official|minister|president|figure|scholar|analyst|general|officer|politician|journalist|spokesman|spokeswoman)s?\b|name of the (person|man|woman|leader|official|minister|president))", re.I), PERSON),
    (re.compile(r"\b(why|how come|for what reason|what (caused|led to|prompted|motivated))\b", re.I), REASON),
    (re.compile(r"^\s*how\b", re.I), REASON),
    (re.compile(r"\b(what|which) (is|was|are|were) the name\b|\bwhat \w+ (is|was) named\b", re.I), ENTITY),
]

_STEM_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ies", "ied", "es", "ed", "ly", "s")


def stem(word: str) -> str:
    """A light suffix stripper: 'invaded'/'invades'/'invading' -> 'invad'. Good enough for overlap."""
    w = word.lower().replace("’", "'").strip("'-")
    if w.endswith("'s"):
        w = w[:-2]
    for suf in _STEM_SUFFIXES:
        if len(w) > len(suf) + 2 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def content_terms(text: str) -> list[str]:
    return [stem(t) for t in _TOKEN.findall(text) if t.lower() not in STOPWORDS and len(t) > 1]


_AUX = frozenset("is was are were did does do has had have can could will would should may might".split())
_HEAD = re.compile(r"\b(?:what|which|name of the|name of)(?:\s+(?:kind|type|sort)\s+of)?((?:\s+[\w.’'-]+){1,3})", re.I)


def head_noun(question: str) -> str | None:
    """The noun a which/what question asks for: "Which Telegram channel ..." -> "channel"."""
    named = re.search(r"\bname of (?:the |a |an )?([\w’'-]+)", question, re.I)
    if named:
        return stem(named.group(1))
    m = _HEAD.search(question)
    if not m:
        return None
    words = m.group(1).split()
    picked = None
    for w in words:
        # the noun phrase ends at the verb: an auxiliary, or a past form ("which channel cited")
        if w.lower() in _AUX or (picked is not None and w.lower().endswith("ed")):
            break
        picked = w
    if picked is None or picked.lower() in STOPWORDS:
        return None
    return stem(picked)


_FIRST_WH = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how|name of)\b", re.I)


def question_type(question: str) -> str:
    """The kind of answer asked for, read from the question's first wh-phrase.

    Only the first wh-word counts: in "What were they doing when the raid began?" the "when" is
    part of a clause, not the question.
    """
    first = _FIRST_WH.search(question)
    text = question[first.start() :] if first else question
    for pattern, qtype in _QTYPE_RULES:
        m = pattern.search(text)
        if m and (first is None or m.start() == 0 or pattern.pattern.startswith("^")):
            return qtype
    return OTHER


# --- span candidates -----------------------------------------------------------------------------

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE_PATTERNS = [
    rf"(?:{_WEEKDAY},?\s+)?{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?",
    rf"(?:{_WEEKDAY},?\s+)?(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?",
    rf"(?:(?:early|late|mid)[- ])?{_MONTH}(?:\s+(?:of\s+)?\d{{4}})?",
    rf"(?:(?:[Ll]ate|[Ee]arly)\s+)?{_WEEKDAY}(?:\s+(?:night|morning|evening|afternoon))?",
    r"(?:(?:in|since|by|until)\s+)?(?:1[5-9]\d\d|20\d\d)s?",
    r"(?i:(?:last|this|next|earlier this|later this)\s+(?:year|week|month|weekend))",
    r"(?i:(?:the\s+)?(?:early|late)\s+hours(?:\s+of\s+\w+)?)",
    r"(?i:yesterday|today|tonight|overnight)",
]
_DATE = re.compile(r"\b(?:" + "|".join(_DATE_PATTERNS) + r")\b")
_NUMWORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|dozen|dozens|billion)"
_NUMBER = re.compile(
    r"(?:(?:up to|about|around|nearly|almost|over|more than|at least|some|roughly)\s+)?"
    r"(?:(?:US)?\$\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion|trillion|thousand|[mb]n))?"
    r"|\b\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|per cent|million|billion|trillion|thousand|hundred))?"
    rf"|\b(?:a\s+)?{_NUMWORD}(?:[\s-]+{_NUMWORD})*)"
    r"(?:\s+(?:percent|per cent|dollars|euros|pounds))?\b",
    re.I,
)
# Capitalised name-like sequences, allowing particles ("Cartel de los Soles", "Catia La Mar").
_UPPER_WORD = r"(?:(?:[A-Z]\.){2,}|[A-ZÀ-ÖØ-Þ][\w’'\-.]*[\w]|[A-Z]\.)"
_CAPSEQ = re.compile(rf"{_UPPER_WORD}(?:\s+(?:(?:de|del|la|los|las|da|di|van|von|al|bin|of|the|and|for|y)\s+)*{_UPPER_WORD})*")
_QUOTED = re.compile(r"[“\"‘]([^“”\"]{3,}?)[”\"’](?!\w)")

_TITLES = re.compile(
    r"^(?:(?:Former|Socialist|Venezuelan|U\.S\.|US|American|Acting|Interim|Deputy|Vice|Foreign|Interior|Defense|Defence|"
    r"Prime|Attorney|Secretary|General|Chief|Senior|Supreme|Opposition|President|Minister|Leader|Dr\.?|Mr\.?|Mrs\.?|Ms\.?|"
    r"Sen\.?|Gov\.?|Rep\.?|Gen\.?|Col\.?|Pope|King|Queen|Prince|Judge|Justice|Ambassador|Commander|Director|Spokesman|Spokeswoman|"
    r"Governor|Senator|Mayor|Chancellor|Officer|of|State|Administration)\s+)+"
)
_ORG_WORDS = re.compile(
    r"\b(?:Council|Forces|Force|Department|Ministry|University|Nations|Organi[sz]ation|Court|House|Party|Army|Guard|Report|News|"
    r"Channel|Agency|Bureau|Office|Administration|Government|Cartel|Commission|Committee|Union|Bank|Group|Institute|Association|"
    r"Navy|Pentagon|Congress|Senate|Assembly|Command|Corporation|Company|Inc|Ltd|Times|Post|Network|Service|Services|Telegram|Fox|Security)\b"
)
_PLACE_PREP = re.compile(r"\b(?:in|at|near|from|to|into|across|toward|towards|outside|inside|around|of)\s+(?:the\s+)?$", re.I)
_NOT_NAMES = re.compile(rf"^(?:{_MONTH}|{_WEEKDAY}|The|A|An|This|That|These|Those|It|He|She|They|We|I|But|And|Yet|As|In|On|At|For|If|While|When|After|Before|Meanwhile|However|According|BREAKING|URGENT|UPDATE|EXCLUSIVE|NOW)$")


# Countries and a few other well-known places: capitalised names that are places, not people.
_PLACES = frozenset(
    """afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas bahrain
    bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei bulgaria burkina
    burundi cambodia cameroon canada chad chile china colombia comoros congo croatia cuba cyprus czechia denmark
    djibouti dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland france gabon gambia georgia germany
    ghana greece grenada guatemala guinea guyana haiti honduras hungary iceland india indonesia iran iraq ireland
    israel italy jamaica japan jordan kazakhstan kenya kiribati kosovo kuwait kyrgyzstan laos latvia lebanon lesotho
    liberia libya liechtenstein lithuania luxembourg madagascar malawi malaysia maldives mali malta mauritania
    mauritius mexico micronesia moldova monaco mongolia montenegro morocco mozambique myanmar namibia nauru nepal
    netherlands nicaragua niger nigeria norway oman pakistan palau palestine panama paraguay peru philippines poland
    portugal qatar romania russia rwanda samoa senegal serbia seychelles singapore slovakia slovenia somalia spain
    sudan suriname sweden switzerland syria taiwan tajikistan tanzania thailand togo tonga trinidad tunisia turkey
    turkmenistan tuvalu uganda ukraine uruguay uzbekistan vanuatu venezuela vietnam yemen zambia zimbabwe america
    europe africa asia caribbean florida washington caracas london paris moscow beijing havana bogotá bogota
    u.s. us usa u.k. uk""".split()
) | frozenset({"united states", "united kingdom", "latin america", "south america", "north america", "u.s.", "u.s", "usa", "us", "uk", "u.k."})


# Capitalised at the start of a sentence or clause, but never the start of a name.
_LEADING_WORDS = frozenset(
    """since although though despite during following amid among amidst under unless whereas whether yet so thus
    hence also still even earlier later last now then here there instead meanwhile moreover furthermore indeed
    nevertheless nonetheless besides today tonight yesterday""".split()
)


@dataclass(frozen=True)
class Span:
    start: int  # relative to the sentence
    end: int
    kind: str

    def text(self, sentence: str) -> str:
        return sentence[self.start : self.end]


def _trim(sentence: str, start: int, end: int) -> tuple[int, int]:
    while start < end and sentence[start] in " \t,;:.–—-(\"“‘'":
        start += 1
    while end > start and sentence[end - 1] in " \t,;:–—-)\"”’'":
        end -= 1
    # a trailing period belongs to the span only for abbreviations like "U.S." / "Jr."
    if end > start and sentence[end - 1] == "." and not re.search(r"(?:\b[A-Z]\.|Jr\.|Sr\.|Inc\.)$", sentence[start:end]):
        end -= 1
    return start, end


def is_title_case(sentence: str) -> bool:
    """Headline Case Or ALL CAPS: capitals there say nothing about names."""
    words = [w for w in re.findall(r"[^\W\d_][\w’'-]*", sentence) if len(w) > 3]
    return len(words) >= 4 and sum(w[0].isupper() for w in words) / len(words) > 0.7


def spans_of(sentence: str) -> list[Span]:
    """Typed candidate spans in a sentence (offsets relative to it)."""
    out: list[Span] = []
    headline = is_title_case(sentence)
    for m in _DATE.finditer(sentence):
        s, e = _trim(sentence, m.start(), m.end())
        if e > s:
            out.append(Span(s, e, DATE))
    date_cover = [(x.start, x.end) for x in out]
    for m in _NUMBER.finditer(sentence):
        s, e = _trim(sentence, m.start(), m.end())
        if e <= s or any(a <= s and e <= b for a, b in date_cover):
            continue
        if re.fullmatch(r"(?:a\s+)?(?:one|a)", sentence[s:e], re.I):  # "one of", "a": rarely an answer
            continue
        out.append(Span(s, e, NUMBER))
    for m in _QUOTED.finditer(sentence):
        s, e = _trim(sentence, m.start(1), m.end(1))
        if e > s:
            out.append(Span(s, e, QUOTE))
    date_cover = [(x.start, x.end) for x in out if x.kind == DATE]
    for m in ([] if headline else _CAPSEQ.finditer(sentence)):
        s, e = _trim(sentence, m.start(), m.end())
        # trailing particles ("of", "the") are not part of a name
        while True:
            t = re.search(r"\s+(?:of|the|and|for|de|del|la|los|y)$", sentence[s:e])
            if not t:
                break
            e = s + t.start()
        # leading function words and sentence-initial verbs/adverbs: "On January", "Adding", "Early"
        while True:
            t = re.match(r"(\S+)\s+", sentence[s:e])
            first = t.group(1) if t else sentence[s:e]
            if first.lower() in STOPWORDS or first.lower() in _LEADING_WORDS or _NOT_NAMES.match(first) or (
                s == 0 and re.fullmatch(r"[A-Z][a-z]+(?:ing|ly|ed)", first)
            ):
                if not t:
                    e = s
                    break
                s += t.end()
                continue
            break
        if e <= s or any(a <= s < b for a, b in date_cover):
            continue
        text = sentence[s:e]
        words = text.split()
        if len(words) == 1 and _NOT_NAMES.match(words[0]):
            continue
        if _DATE.fullmatch(text) or text.isupper() and len(text) > 6:
            continue
        before = sentence[max(0, s - 30) : s]
        if _ORG_WORDS.search(text) or re.fullmatch(r"[A-Z]{2,6}", text):
            out.append(Span(s, e, ORG))
            continue
        # drop leading titles: "Interior Minister Diosdado Cabello" -> "Diosdado Cabello"
        t = _TITLES.match(text)
        if t and t.end() < len(text):
            s += t.end()
            text = sentence[s:e]
            out.append(Span(s, e, PERSON))
            continue
        if t:  # only a title ("Vice President")
            continue
        kind = PLACE if _PLACE_PREP.search(before) or text.lower() in _PLACES or text.lower().removeprefix("the ") in _PLACES else ENTITY
        out.append(Span(s, e, kind))
    return out


_TYPE_ACCEPTS = {
    PERSON: {PERSON: 1.0, ENTITY: 0.8, ORG: 0.4},
    DATE: {DATE: 1.0},
    NUMBER: {NUMBER: 1.0},
    PLACE: {PLACE: 1.0, ENTITY: 0.7, ORG: 0.2},
    ORG: {ORG: 1.0, ENTITY: 0.6},
    ENTITY: {ENTITY: 1.0, PERSON: 0.9, ORG: 0.9, PLACE: 0.9},
    QUOTE: {QUOTE: 1.0},
}


# --- scoring ------------------------------------------------------------------------------------


@dataclass
class Candidate:
    hit_rank: int
    hit: Hit
    index: int
    sentence: Sentence
    semantic: float = 0.0
    lexical: float = 0.0
    type_fit: float = 0.0
    score: float = 0.0
    span: Span | None = None
    span_fit: float = 0.0
    matched: set[str] = field(default_factory=set)
    #: the reader's span score (start + end logit) for its best span in this sentence, if read
    reader_score: float | None = None


@dataclass
class ExtractiveAnswerer:
    """The default answerer: sentence ranking plus rule-based short-answer cutting (no LLM)."""

    refusal_threshold: float = 0.35
    corroboration_margin: float = 0.08
    max_citations: int = 3
    w_semantic: float = 0.55
    w_lexical: float = 0.30
    w_type: float = 0.10
    w_rank: float = 0.05
    headline_penalty: float = 0.05
    w_unseen: float = 0.15

    def answer(
        self,
        question: str,
        hits: Sequence[Hit],
        question_vector: np.ndarray | None,
        sentence_vectors: Mapping[tuple[str, int], np.ndarray],
    ) -> Answer:
        qtype = question_type(question)
        cands = self.rank(question, qtype, hits, question_vector, sentence_vectors)
        return self.compose(question, hits, cands)

    def compose(self, question: str, hits: Sequence[Hit], cands: Sequence[Candidate]) -> Answer:
        """The cited answer from ranked candidates (best first): refusal, short answer, corroboration."""
        if not cands or cands[0].score < self.refusal_threshold:
            return Answer(question=question, text=REFUSAL, refused=True, passages=tuple(hits),
                          confidence=cands[0].score if cands else 0.0)
        best = cands[0]
        chosen = [best]
        for c in cands[1:]:
            if len(chosen) >= self.max_citations or c.score < best.score - self.corroboration_margin:
                break
            if any(c.sentence.start == x.sentence.start and c.hit.chunk.doc_id == x.hit.chunk.doc_id for x in chosen):
                continue
            # corroboration: another document that states an answer of the asked type. A *different*
            # answer must be as well supported by the question's own words, or "Who is the foreign
            # minister?" would also offer the interior minister.
            if c.hit.chunk.doc_id == best.hit.chunk.doc_id or (best.span is not None and c.span is None):
                continue
            if best.span is not None and c.span is not None:
                same = _norm(c.span.text(c.sentence.text)) == _norm(best.span.text(best.sentence.text))
                if not same and c.lexical < best.lexical - 0.05:
                    continue
            chosen.append(c)
        citations = []
        for n, c in enumerate(chosen, 1):
            ch = c.hit.chunk
            a_start = a_end = None
            if c.span is not None:
                a_start, a_end = c.sentence.start + c.span.start, c.sentence.start + c.span.end
            citations.append(Citation(
                n=n, doc_id=ch.doc_id, title=ch.title, start=c.sentence.start, end=c.sentence.end,
                quote=c.sentence.text, score=c.score, chunk_id=ch.chunk_id, answer_start=a_start, answer_end=a_end,
            ))
        short = best.span.text(best.sentence.text) if best.span else None
        lines = []
        if short:
            others = []
            for cit, c in zip(citations[1:], chosen[1:]):
                if c.span is not None:
                    alt = c.span.text(c.sentence.text)
                    if _norm(alt) != _norm(short) and alt not in others:
                        others.append(f"{alt} [{cit.n}]")
            lines.append(short + (" [1]; " + "; ".join(others) if others else ""))
            lines.append("")
        lines += [f"“{c.quote}” [{c.n}]" for c in citations]
        return Answer(
            question=question, text="\n".join(lines), short_answer=short, refused=False, citations=tuple(citations),
            passages=tuple(hits), answer_doc_id=best.hit.chunk.doc_id if short else None,
            answer_start=citations[0].answer_start, answer_end=citations[0].answer_end, confidence=best.score,
        )

    def rank(
        self,
        question: str,
        qtype: str,
        hits: Sequence[Hit],
        question_vector: np.ndarray | None,
        sentence_vectors: Mapping[tuple[str, int], np.ndarray],
    ) -> list[Candidate]:
        """Every sentence of ``hits`` with its features and score, best first."""
        q_terms = set(content_terms(question))
        q_lower = question.lower()
        head = head_noun(question)
        cands: list[Candidate] = []
        for r, hit in enumerate(hits):
            for i, s in enumerate(hit.chunk.sentences):
                if len(s.text.split()) < 3:
                    continue
                cands.append(Candidate(r, hit, i, s))
        if not cands:
            return []
        # IDF over the candidate pool: a word in every retrieved sentence says little. Only sentences
        # sharing a word with the question count, so passages of unrelated documents that retrieval
        # brings along (a recipe beside the news) cannot shift the scores that decide refusals
        df: dict[str, int] = {}
        sent_terms = []
        n = 0
        for c in cands:
            terms = set(content_terms(c.sentence.text))
            sent_terms.append(terms)
            n += bool(terms & q_terms)
            for t in terms & q_terms:
                df[t] = df.get(t, 0) + 1
        idf = {t: math.log(1 + (n + 1) / (df.get(t, 0) + 0.5)) for t in q_terms}
        q_weight = sum(idf.values()) or 1.0
        # question words found nowhere in the retrieved passages: the documents may not know this
        seen = set()
        for hit in hits:
            seen |= set(content_terms(hit.chunk.title + " " + hit.chunk.text))
        unseen = sum(idf[t] for t in q_terms - seen) / q_weight
        # the rank prior counts only hits that share a word with the question, for the same reason
        related_rank, k = {}, 0
        for r, hit in enumerate(hits):
            related_rank[r] = k
            k += bool(q_terms & set(content_terms(hit.chunk.title + " " + hit.chunk.text)))
        for c, terms in zip(cands, sent_terms):
            vec = sentence_vectors.get((c.hit.chunk.chunk_id, c.index))
            c.semantic = float(np.dot(question_vector, vec)) if question_vector is not None and vec is not None else 0.0
            c.matched = terms & q_terms
            c.lexical = sum(idf[t] for t in c.matched) / q_weight
            c.span, c.span_fit = self._best_span(c.sentence.text, qtype, q_lower, q_terms, head)
            c.type_fit = c.span_fit if qtype in _TYPE_ACCEPTS else 0.5
            prior = 1.0 / (1 + related_rank[c.hit_rank])
            c.score = (
                self.w_semantic * c.semantic + self.w_lexical * c.lexical + self.w_type * c.type_fit
                + self.w_rank * prior - self.w_unseen * unseen
            )
            # a headline summarises the article and so resembles many questions, but rarely answers one
            if c.sentence.text.strip() == c.hit.chunk.title.strip() or is_title_case(c.sentence.text):
                c.score -= self.headline_penalty
        cands.sort(key=lambda c: (-c.score, c.hit_rank, c.index))
        return cands

    def _best_span(self, sentence: str, qtype: str, q_lower: str, q_terms: set[str], head: str | None = None) -> tuple[Span | None, float]:
        accepts = _TYPE_ACCEPTS.get(qtype)
        if not accepts:
            return None, 0.0
        # where the question's words sit in the sentence: the answer is usually close to them
        anchors = [m.start() for m in _TOKEN.finditer(sentence) if stem(m.group()) in q_terms]
        best: tuple[float, Span | None] = (0.0, None)
        for sp in spans_of(sentence):
            fit = accepts.get(sp.kind)
            if not fit:
                continue
            text = sp.text(sentence)
            words = [stem(w) for w in _TOKEN.findall(text)]
            # an answer does not repeat the question ("Who is Maduro?" is not answered by "Maduro")
            if text.lower() in q_lower or (words and all(w in q_terms or w in STOPWORDS for w in words)):
                continue
            overlap = sum(1 for w in words if w in q_terms) / max(1, len(words))
            # a possessive ("Maduro’s security detail") modifies the answer; it is rarely the answer
            if sp.kind in (PERSON, ENTITY, ORG, PLACE) and re.search(r"[’']s$", text):
                fit *= 0.5
            dist = min((abs(a - sp.start) for a in anchors), default=len(sentence))
            proximity = 1.0 / (1.0 + dist / 40.0)
            score = fit * (0.6 + 0.4 * proximity) * (1.0 - 0.5 * overlap)
            # the noun asked for names the span: "the Telegram channel Tupy Report", "Cartel de los Soles"
            if head and (head in words or head in [stem(w) for w in _TOKEN.findall(sentence[max(0, sp.start - 25) : sp.start])]):
                score = min(1.0, score * 1.3)
            if score > best[0]:
                best = (score, sp)
        return best[1], best[0]


def _norm(s: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", s)
    return re.sub(r"\W+", " ", "".join(ch for ch in s if not unicodedata.combining(ch))).strip().lower()


# --- the trained reader ---------------------------------------------------------------------------


_WHY = re.compile(r"\b(?:why|how come|for what reason)\b", re.I)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


_SAID_BY = re.compile(
    r"\bwhat\s+(?:did|does|do|has|have|had)\s+(.+?)\s+(?:say|said|tell|told|claim|write|wrote|post|announce|declare|warn|add)\b",
    re.I,
)
_SPEECH = re.compile(r"[“\"”]|\b(?:said|says|told|tells|stated|wrote|writes|posted|announced|declared|warned|added|claimed|according to)\b", re.I)


def speaker_of(question: str) -> str | None:
    """The X of "What did X say ...?" (its last word, which a quote names), or None.

    >>> speaker_of("What did Trump say about the operation?")
    'Trump'
    >>> speaker_of("What did the foreign minister of Venezuela say?") is None
    False
    >>> speaker_of("Who was sworn in?") is None
    True
    """
    m = _SAID_BY.search(question)
    if not m:
        return None
    words = [w for w in re.findall(r"[\w.'’-]+", m.group(1)) if w.lower() not in ("the", "a", "an", "of", "u.s.")]
    return words[-1] if words else None


def restates(q_terms: set[str], span: str) -> bool:
    """Is ``span`` mostly the question's own words (at least two, and half of them)? Such a span
    answers nothing: "just hours after Delcy Rodríguez was sworn in" for "When was Delcy Rodríguez
    sworn in?".

    >>> q = set(content_terms("When was Delcy Rodríguez sworn in?"))
    >>> restates(q, "just hours after Delcy Rodríguez was formally sworn in"), restates(q, "on Monday")
    (True, False)
    """
    hits = len(q_terms & set(content_terms(span)))
    return hits >= 2 and hits * 2 >= len(q_terms)


_CONTINUES = re.compile(r"^\W*(?:he|she|they|the president|[“\"])", re.I)


def quotes_speaker(speaker: str, sentence: str, previous: str = "") -> bool:
    """Does ``sentence`` report speech by ``speaker``: named in it, or named in the ``previous``
    sentence that this one continues ("He added ...", an opening quote)?

    >>> quotes_speaker("Trump", "Trump said the operation was a success.")
    True
    >>> quotes_speaker("Trump", "The foreign minister said it was an act of aggression.")
    False
    >>> quotes_speaker("Trump", "He added that oil would flow.", "Trump spoke on Saturday.")
    True
    """
    if not _SPEECH.search(sentence):
        return False
    pat = re.compile(rf"\b{re.escape(speaker)}\b", re.I)
    return bool(pat.search(sentence) or (previous and pat.search(previous) and _CONTINUES.search(sentence)))


@dataclass
class ReaderAnswerer(ExtractiveAnswerer):
    """Sentence ranking as in :class:`ExtractiveAnswerer`, short answers cut by a trained span reader.

    The best ``read_top`` sentences are read with ``context_sentences`` neighbours on each side (a
    window, not the whole passage, to stay fast). A reader trained with "no answer" windows
    (``reader.knows_no_answer()``) scores each span by its *margin* over the window's no-answer
    score, so a passage on the topic that does not hold the answer scores low:
    ``score = sentence score + w_reader * sigmoid((evidence - reader_mid) / reader_temp)``, where
    evidence is the margin (or the span logit for an older reader), and the refusal threshold
    applies to that sum. Answers keep the asked type: for "when", "who" and "how many" only spans
    that look like a time, a name or a number count (:func:`qa.answer_types.looks_like`); a sentence
    without one loses ``type_penalty``. "What did X say?" is answered only by a sentence that
    reports X's words. The citation is the sentence holding the span; the span's offsets are the
    answer's offsets.

    >>> from qa.reader.model import load_reader
    >>> answerer = ReaderAnswerer(reader=load_reader("packaged"))            # doctest: +SKIP
    """

    reader: Any = None
    read_top: int = 4
    context_sentences: int = 1
    w_reader: float = 0.4
    reader_mid: float = 2.0
    reader_temp: float = 4.0
    # w_reader, reader_mid, reader_temp, type_penalty and the refusal threshold (config
    # reader_refusal_threshold 0.61): calibrated for the packaged reader's no-answer margin by
    # benchmarks/calibrate_reader.py (benchmarks/calibration-reader.json)
    #: keep the rules' typed span (a person for "who", a date for "when", ...) where it found one:
    #: on typed questions the rules are precise, and the reader then only scores the sentence
    prefer_typed_rules: bool = True
    #: under this span score the reader is unsure of its cut: quote the sentence, give no short answer
    span_min: float = -1e9
    #: "why" questions are answered by the sentence: a reason is a clause, and the reader (trained on
    #: SQuAD, where few answers are reasons) cuts a noun phrase out of it
    quote_reasons: bool = True
    #: spans read per window: enough that one of the asked type is usually among them
    read_spans: int = 8
    #: what a sentence loses when it holds no span of the asked type (or is not the asked speaker's)
    type_penalty: float = 0.3

    def reader_confidence(self, logit: float) -> float:
        return _sigmoid((logit - self.reader_mid) / self.reader_temp)

    def _uses_margin(self) -> bool:
        knows = getattr(self.reader, "knows_no_answer", None)
        return bool(knows()) if callable(knows) else False

    def _windows(self, cands: Sequence[Candidate]) -> list[tuple[Candidate, int, int, str]]:
        windows: list[tuple[Candidate, int, int, str]] = []
        seen = set()
        for c in cands[: self.read_top]:
            ch = c.hit.chunk
            lo = max(0, c.index - self.context_sentences)
            hi = min(len(ch.sentences) - 1, c.index + self.context_sentences)
            if (ch.chunk_id, lo, hi) in seen:
                continue
            seen.add((ch.chunk_id, lo, hi))
            start, end = ch.sentences[lo].start, ch.sentences[hi].end
            windows.append((c, lo, start, ch.text[start - ch.start : end - ch.start]))
        return windows

    def rank(
        self,
        question: str,
        qtype: str,
        hits: Sequence[Hit],
        question_vector: np.ndarray | None,
        sentence_vectors: Mapping[tuple[str, int], np.ndarray],
    ) -> list[Candidate]:
        from qa.answer_types import ALIASES, CHECKED, question_word
        from qa.answer_types import plausible as looks_like

        cands = super().rank(question, qtype, hits, question_vector, sentence_vectors)
        if not cands or self.reader is None:
            return cands
        by_key = {(c.hit.chunk.chunk_id, c.index): c for c in cands}
        windows = self._windows(cands)
        rules_span = {id(c): c.span for c in cands}
        typed = qtype in _TYPE_ACCEPTS
        kind = ALIASES.get(qtype) or (question_word(question) if question_word(question) in CHECKED else None)
        margin = self._uses_margin()
        q_terms = set(content_terms(question))
        read = self.reader.read(question, [w[3] for w in windows], top=self.read_spans)
        for (c, lo, w_start, _), spans in zip(windows, read):
            ch = c.hit.chunk
            for sp in spans:
                a, b = w_start + sp.start, w_start + sp.end
                # the sentence holding the span's start; a span running past its end is cut there
                idx = next((i for i in range(lo, len(ch.sentences)) if ch.sentences[i].start <= a < ch.sentences[i].end), None)
                owner = by_key.get((ch.chunk_id, idx)) if idx is not None else None
                if owner is None:
                    continue
                sent = ch.sentences[idx]
                rs, re_ = _trim(sent.text, a - sent.start, min(b, sent.end) - sent.start)
                if re_ <= rs or (kind and not looks_like(kind, sent.text[rs:re_])) or restates(q_terms, sent.text[rs:re_]):
                    continue
                evidence = sp.margin if margin and sp.margin is not None else sp.score
                if owner.reader_score is None or evidence > owner.reader_score:
                    owner.reader_score = evidence
                    owner.span = Span(rs, re_, "reader")
        read_keys = {(w[0].hit.chunk.chunk_id, i) for w in windows
                     for i in range(w[1], min(len(w[0].hit.chunk.sentences), w[1] + 1 + 2 * self.context_sentences))}
        read_cands = [c for c in cands if (c.hit.chunk.chunk_id, c.index) in read_keys]
        if not any(c.reader_score is not None for c in read_cands):
            if not kind:
                return cands
        speaker = speaker_of(question)
        for c in read_cands:
            rules = rules_span[id(c)]
            if c.reader_score is None:
                # nothing of the asked type here (or the reader found nothing): keep a typed rules span
                # if there is one, and score the sentence as no reader evidence
                c.span = rules if (typed and rules is not None and (not kind or looks_like(kind, rules.text(c.sentence.text)))) else None
                c.score -= self.type_penalty if kind and c.span is None else 0.0
                continue
            c.score = c.score + self.w_reader * self.reader_confidence(c.reader_score)
            if self.prefer_typed_rules and typed and rules is not None and (not kind or looks_like(kind, rules.text(c.sentence.text))):
                c.span = rules
            elif c.reader_score < self.span_min or (self.quote_reasons and qtype == REASON and _WHY.search(question)):
                c.span = None
        if speaker:
            for c in read_cands:
                prev = c.hit.chunk.sentences[c.index - 1].text if c.index > 0 else ""
                if not quotes_speaker(speaker, c.sentence.text, prev):
                    c.score -= self.type_penalty
        read_cands.sort(key=lambda c: (-c.score, c.hit_rank, c.index))
        return read_cands
