"""Is a sentence about what the question asks: rules that set aside a sentence of the right kind
that speaks of something else. Another year or quarter than the one asked, another role than the
asked one (or none, for an acronym the passage never spells), another of a numbered series ("Nimbus
600" for the "Nimbus 800") or of a ranked one ("first burgess" for the second), no word of the death,
birth or marriage asked about, no word of negation where the question asks what is not so. Each
rule was checked against SQuAD's dev half and says how many of its answerable questions it touches
(and of SQuAD 2.0's unanswerable ones). Pure Python, on the query path.
"""

from __future__ import annotations

import re

from qa.answer.fit import MONTHS, WEEKDAYS
from qa.answer.question import ROLE_ACRONYMS, STOPWORDS


_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_QUARTER = re.compile(r"\b(?:(first|second|third|fourth|1st|2nd|3rd|4th)[\s-]+quarter|q([1-4]))\b", re.I)
_QUARTER_NUMBER = {"first": "1", "1st": "1", "second": "2", "2nd": "2", "third": "3", "3rd": "3", "fourth": "4", "4th": "4"}


def _quarters(text: str) -> set[str]:
    return {_QUARTER_NUMBER.get((m.group(1) or "").lower(), m.group(2) or "") for m in _QUARTER.finditer(text)}


def other_time(question: str, sentence: str, passage: str) -> bool:
    """Is ``sentence`` about another time than the one asked: the question names a year (or a
    quarter) its passage never mentions, and the sentence names another one. "What was the
    population in 1990?" is not answered by "…fell to 5,200 by 1970", nor "revenue in the second
    quarter" by the fourth quarter's guidance (a user's documents). On the dev half 2 of the 250
    questions with a year have their year nowhere in the paragraph and a year in the answer's sentence.

    >>> p = "The town grew to 9,000 by 1920. It fell to 5,200 by 1970."
    >>> other_time("What was the population in 1990?", "It fell to 5,200 by 1970.", p)
    True
    >>> other_time("What was the population in 1970?", "It fell to 5,200 by 1970.", p), other_time("What was it?", "It fell.", p)
    (False, False)
    >>> q = "What was revenue in the second quarter of 2025?"
    >>> other_time(q, "Fourth-quarter revenue should reach $450 million.", "In 2025 third-quarter revenue rose. Fourth-quarter revenue should reach $450 million.")
    True
    """
    years = set(_YEAR.findall(question))
    if years and not years & set(_YEAR.findall(passage)) and _YEAR.search(sentence):
        return True
    # a business quarter (with a year, or "Q2", "fiscal"), not a game's: "Early in the fourth quarter, the
    # Broncos drove to…" is answered by a sentence of the game that says "third quarter" just before
    quarters = _quarters(question) if years or re.search(r"\bq[1-4]\b|\bfiscal\b|\bfinancial\b", question, re.I) else set()
    return bool(quarters) and not quarters & _quarters(passage) and bool(_quarters(sentence))


#: the word a role's name ends on ("Chief Financial Officer", "Deputy Director", "Foreign Minister")
ROLE_HEAD = r"(?:Officer|President|Director|Minister|Secretary|Manager|Chair(?:man|woman|person)?|Treasurer|Counsel|Editor|Governor|Commander|Head)"
ROLE = re.compile(rf"\b(?:[A-Z][\w-]*\s+){{0,3}}{ROLE_HEAD}\b")
#: a role's acronym: "CFO", "COO", "CEO", "VP", "SVP"
_ROLE_ACRONYM = re.compile(r"\b(?:C[A-Z]{1,2}O|S?E?VP)\b")


def _initials(role: str) -> str:
    """"CFO" of "Chief Financial Officer", and of "CFO"."""
    return role if _ROLE_ACRONYM.fullmatch(role) else "".join(w[0] for w in role.split() if w[0].isupper())


def other_role(question: str, sentence: str) -> bool:
    """Does ``sentence`` name a person by another role than the one asked? "Ingrid Halvorsen, Chief
    Executive Officer" does not answer "Who is the Chief Operating Officer?" nor "Who is the CFO?"
    (a user's earnings release: the chief executive was given for both). A sentence that also names
    the asked role, by its words or its acronym, may answer.

    >>> s = "“A strong quarter,” said Ingrid Halvorsen, Chief Executive Officer of Halvorsen Robotics."
    >>> other_role("Who is the Chief Operating Officer of Halvorsen Robotics?", s), other_role("Who is the CFO?", s)
    (True, True)
    >>> other_role("Who is the CEO?", s), other_role("Who is the Chief Executive Officer?", s), other_role("Who founded it?", s)
    (False, False, False)
    """
    asked = [m.group() for m in ROLE.finditer(question)] + _ROLE_ACRONYM.findall(question)
    asked = [a for a in asked if len(a.split()) > 1 or _ROLE_ACRONYM.fullmatch(a)]  # "President" alone is no role to compare
    if not asked:
        return False
    named = [m.group() for m in ROLE.finditer(sentence) if len(m.group().split()) > 1] + _ROLE_ACRONYM.findall(sentence)
    if not named:
        return False
    keys = {k for a in asked for k in (a.lower(), _initials(a))}
    return not any(n.lower() in keys or _initials(n) in keys for n in named)


def unnamed_role(question: str, passage: str) -> bool:
    """Does the question ask for the holder of a role by its acronym ("Who is the CTO?") that
    ``passage`` names neither as the acronym nor in words? A user's earnings release names no chief
    technology officer, and "ASA" of "Halvorsen Robotics ASA" was given. No question of the dev half
    asks for a role by such an acronym.

    >>> unnamed_role("Who is the CTO?", "Halvorsen Robotics ASA makes robots."), unnamed_role("Who is the CTO?", "Lena Park, Chief Technology Officer")
    (True, False)
    >>> unnamed_role("Who is the CTO?", "Lena Park (CTO) spoke."), unnamed_role("Who is the president?", "Robots.")
    (False, False)
    """
    asked = {a for a in _ROLE_ACRONYM.findall(question)}
    if not asked:
        return False
    named = {_initials(m.group()) for m in ROLE.finditer(passage)} | set(_ROLE_ACRONYM.findall(passage))
    return not asked & named

#: a model, flight, room or week named by a word and its number: "Nimbus 400", "Week 6", "UA 837", "AP-400"
NUMBERED = re.compile(r"\b([A-Z][\w-]*?)(?:\s+|-)([A-Z]?\d+[A-Za-z]?)\b")
_NOT_A_NAME = re.compile(rf"{MONTHS}|In|On|By|At|From|Since|Until|After|Before|During|Over|Under|About|Around|What|Which|How|When|AD|BC|CE|Q[1-4]", re.I)


#: items minutes, agendas, timetables and clubs number with a lower-case word or a hyphen ("motion
#: 2025-47", "agenda item 4", "the Under-18 team")
_KEYED = re.compile(r"\b(item|motion|resolution|room|gate|platform|route|step|point|section|chapter|article|clause|phase"
                    r"|stage|level|floor|unit|ward|ticket|lot|exhibit|appendix|annex|under|rule|week|day|module|lesson|part"
                    r"|task|exercise|error|code|fault)(?:\s+|-)(\d+(?:[-.]\d+)?[A-Za-z]?|(?-i:[A-Z]{1,3}\d{1,4})\b|(?-i:[A-Z])(?![\w’'-]))",
                    re.I)  # "Room 12", "Seminar Room C", "error code E24"


def numbered_items(question: str) -> list[tuple[str, str]]:
    """The numbered items a question names, (word in lower case, number): [("nimbus", "800")]; not "In
    2015", nor "under 18" (only "Under-18").

    >>> numbered_items("Who moved motion 2025-47?"), numbered_items("Who coaches the Under-14 team?")
    ([('motion', '2025-47')], [('under', '14')])
    """
    found = [(w.lower(), n) for w, n in _numbered(question) if not _NOT_A_NAME.fullmatch(w)]
    found += [(w.lower(), n) for w, n in _KEYED.findall(question)
              if (w.lower() != "under" or re.search(rf"\b{w}-{n}\b", question)) and not _YEAR.fullmatch(n)]
    return list(dict.fromkeys(found))


def _items_in(text: str) -> list[tuple[str, str]]:
    """Every numbered item ``text`` names, (word in lower case, number): not "In 2015", but "Motion 2025-45"."""
    return [(w.lower(), n) for w, n in _numbered(text)] + [(w.lower(), n) for w, n in _KEYED.findall(text)]


def _numbered(text: str) -> list[tuple[str, str]]:
    """:data:`NUMBERED`'s (word, number) pairs, less years ("In 2015"); a number a code joins with a
    hyphen is no year ("the DW-1000", "Route-1066").

    >>> _numbered("Is the DW-1000 quieter than the Nimbus 2000 in 2015? Who owns AP6?")
    [('DW', '1000'), ('AP', '6')]
    """
    return [(m.group(1), m.group(2)) for m in NUMBERED.finditer(text)
            if not _YEAR.fullmatch(m.group(2)) or text[m.end(1)] == "-"] + _CODED.findall(text)


#: an item coded by capitals and its number with nothing between: "AP6" (action point 6), "WP3"
_CODED = re.compile(r"\b([A-Z]{2,3})(\d{1,2})\b")


def other_numbered(question: str, sentence: str, passage: str, heading: str = "") -> bool:
    """Does ``sentence`` speak of another of a numbered series than the one asked, which its passage
    never names? "How much does the Nimbus 800 cost?" is not answered by "$69 for the Nimbus 600" (a
    user's manual lists the Nimbus 200, 400 and 600), nor "Who teaches in Week 7?" by Week 6's
    lecturer; nor, whatever the passage names, by a line labelled with another ("Day 4: product demo
    …" for Day 3). A year is no such number (:func:`other_time` handles years).

    >>> s = "Filters cost $49 for the Nimbus 400 and $69 for the Nimbus 600."
    >>> other_numbered("How much does the Nimbus 800 cost?", s, s), other_numbered("How much does the Nimbus 400 cost?", s, s)
    (True, False)
    >>> other_numbered("Who won Super Bowl 50?", "Super Bowl XLIX was won by New England.", "")
    False
    >>> p = "Day 3: meet your team lead. Day 4: product demo with the Solutions team."
    >>> other_numbered("Who gives the demo on Day 3?", "Day 4: product demo with the Solutions team.", p)
    True
    >>> other_numbered("Which hotel is it on day 3?", "Hotel: Infante Sagres", "Day 2 — Lisbon. Day 3 — Sintra.", "Day 2 — Lisbon")
    True
    >>> m = "Motion 2025-45: To close the pool. Moved by Councillor Tomas Lindqvist."
    >>> other_numbered("Who moved motion 2025-47?", m, m), other_numbered("Who moved motion 2025-45?", m, m)
    (True, False)
    """
    asked = numbered_items(question)
    if not asked:
        return False
    here = _items_in(sentence) + _items_in(heading)
    # a line labelled with a sibling ("Day 4: product demo …"), or under its heading ("## Day 2 — Lisbon"),
    # is that one's, whatever else the passage names
    line = re.sub(r"^\W+", "", sentence.rsplit("\n", 1)[-1])
    labels = [x for x in _items_in(line.split(":", 1)[0]) if ":" in line][:1] + _items_in(heading)[:1]
    row = " | " in line  # a table's row is one record: "10:20 | Seminar Room B | Jonas Lindqvist" is Room B's, whatever else
    return any(((row and (w, n) not in here) or not re.search(rf"\b{re.escape(w)}(?:\s+|-){re.escape(n)}\b", passage, re.I)
                or any(lw == w and ln != n for lw, ln in labels))
               and any(w2 == w and n2 != n for w2, n2 in here) for w, n in asked)


_ORDINAL_WORDS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
                  "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
_ORDINAL = re.compile(rf"\b(?:({'|'.join(_ORDINAL_WORDS)})|(\d{{1,3}})(?:st|nd|rd|th))\b[\s-]+((?:[\w’'-]+\s+)?[\w’'-]+)", re.I)
#: what an ordinal counts that other rules judge or that says nothing alone ("third quarter": other_time)
_NOT_COUNTED = frozenset("quarter quarters half down most largest time times".split()) | STOPWORDS


def _ordinals(text: str) -> set[tuple[int, str]]:
    """(rank, word) for each word of the one or two after an ordinal: "the second burgess" ->
    {(2, "burgess")}; "5th president" -> {(5, "president")}."""
    found = set()
    for m in _ORDINAL.finditer(text):
        rank = _ORDINAL_WORDS.index(m.group(1).lower()) + 1 if m.group(1) else int(m.group(2))
        found |= {(rank, w.lower()) for w in m.group(3).split() if w.lower() not in _NOT_COUNTED}
    return found


def other_ordinal(question: str, sentence: str, passage: str) -> bool:
    """Does ``sentence`` speak of another of a ranked series than the one asked, which its passage
    never names? "Who was the second burgess?" is not answered by "Its first burgess was Samuel
    Whitcombe" (a user's town history), nor "When was the third German empire founded?" by the
    first's date. "Last" and "final" rank nothing (the last of three may be the only one named).
    On the dev half's gold paragraphs 6 of the 204 questions that name a rank have a paragraph that
    gives it only to another of the same kind, against 31 of SQuAD 2.0's 117 unanswerable ones.

    >>> s = "Its first burgess was Samuel Whitcombe, a lawyer."
    >>> other_ordinal("Who was the second burgess?", s, s), other_ordinal("Who was the first burgess?", s, s)
    (True, False)
    >>> other_ordinal("Who was the 5th president?", "Its fifth president was Lee.", ""), other_ordinal("Who won?", s, s)
    (False, False)
    """
    asked = _ordinals(question)
    if not asked:
        return False
    here, named = _ordinals(sentence), _ordinals(passage)
    return any((rank, word) not in named and any(w == word and r != rank for r, w in here) for rank, word in asked)


#: a life event a question asks about, and the words a sentence that dates or places it uses
_LIFE_EVENTS = (
    (re.compile(r"\b(?:die|died|dies|dying|(?<![Bb]lack )death)\b"),  # lower case: "the Black Death" is a plague
     re.compile(r"\b(?:die[ds]?|dying|death|dead|deceased|kill(?:ed|s)?|passed away|perish(?:ed)?|murder(?:ed)?|"
                r"assassinat\w*|executed|suicide|obituary|fatal\w*|lost (?:his|her|their) li(?:fe|ves))\b|\d{3,4}\s*[-–]\s*\d{3,4}", re.I)),
    (re.compile(r"\b(?:born|birth)\b"), re.compile(r"\b(?:born|birth\w*|b\.|native|n[ée]e)|\d{3,4}\s*[-–]\s*\d{3,4}", re.I)),
    (re.compile(r"\b(?:marry|married|marriage|wed)\b"), re.compile(r"\b(?:marr\w+|wed\w*|wife|husband|spouse|bride|groom)\b", re.I)),
)


def other_event(question: str, sentence: str) -> bool:
    """Does the question ask about a death, a birth or a marriage that ``sentence`` does not speak
    of? "When did Jacob Hartmann die?" is not answered by "Jacob Hartmann … arrived in 1794" (a
    user's town history), nor "How many people died in the closure?" by a population figure. On the
    dev half's gold paragraphs 4 of the 64 such questions have none of the event's words in the
    whole paragraph, against 14 of SQuAD 2.0's 41 unanswerable ones.

    >>> s = "The first settler was Jacob Hartmann, who arrived in 1794."
    >>> other_event("When did Jacob Hartmann die?", s), other_event("When did Hartmann die?", "Hartmann died in 1841.")
    (True, False)
    >>> other_event("When did Hartmann arrive?", s), other_event("When was Ada born?", "Ada Lovelace (1815–1852) wrote it.")
    (False, False)
    """
    return any(asks.search(question) and not says.search(sentence) for asks, says in _LIFE_EVENTS)


_NEGATED = re.compile(r"\b(?:not|never|neither|nor|no longer)\b(?<!\bnot only)|n't\b", re.I)
_NOT_A_NEGATION = re.compile(r"\b(?:not (?:only|just|merely)|(?:whether|if) or not|or not)\b", re.I)
#: what a passage says a negated question's answer with: a negation, an exclusion, a refusal, a loss
_NEGATING = re.compile(r"\b(?:not|never|no|none|neither|nor|nobody|nothing|without|cannot|unable|fail(?:ed|s|ure)?|lack\w*|"
                       r"refus\w*|declin\w*|den(?:y|ied|ies)|instead|rather|except\w*|against|lost|absent|exclud\w*|"
                       r"reject\w*|oppos\w*|prevent\w*|avoid\w*|ban|banned|prohibit\w*|forb[ia]d\w*|unlike|non|"
                       r"escap\w*|spared|survived|cancel\w*|abandon\w*|omit\w*|missing|unsuccessful\w*|unknown|unclear|unaware)\b|n't\b|\bnon-", re.I)


def negation_unmet(question: str, passage: str) -> bool:
    """Does the question ask what is *not* so ("Which cities were not destroyed?") of a passage
    with no word that negates, excludes or refuses anything? Such a passage states what is so, and
    its answer would be the opposite of the one asked (SQuAD 2.0 makes many unanswerable questions
    so). On the gold paragraphs 9 of the dev half's 111 negated questions (141 of train.json's
    1,544) have such a paragraph, against 130 of SQuAD 2.0's 434 negated unanswerable ones.

    >>> negation_unmet("Which team did not score?", "The Broncos scored twice."), negation_unmet("Which team did not score?", "The Panthers never scored.")
    (True, False)
    >>> negation_unmet("Which team scored?", "The Broncos scored."), negation_unmet("Who is not only a singer but a poet?", "Ann sings.")
    (False, False)
    """
    return bool(_NEGATED.search(_NOT_A_NEGATION.sub("", question))) and not _NEGATING.search(passage)


#: a release's number: "2.4.1", "version 3.2", "v1.8"
_VERSION = re.compile(r"\b(\d+\.\d+\.\d+)\b|\b(?:version|release|v)\s?(\d+(?:\.\d+)+)\b", re.I)


def other_version(question: str, sentence: str, passage: str) -> bool:
    """Does ``sentence`` give another version than the one asked, which its passage never names?
    "When was version 2.5.0 released?" is not answered by "The latest release is version 2.4.1,
    published on 18 November 2024" (a user's README). No question of the dev half names a version.

    >>> s = "The latest release is version 2.4.1, published on 18 November 2024."
    >>> other_version("When was version 2.5.0 released?", s, s), other_version("When was 2.4.1 released?", s, s)
    (True, False)
    """
    asked = {a or b for a, b in _VERSION.findall(question)}
    if not asked:
        return False
    named = {a or b for a, b in _VERSION.findall(passage)}
    here = {a or b for a, b in _VERSION.findall(sentence)}
    return bool(here) and not asked & named


_PLACE_NAME = r"[A-Z][\w'’.-]*(?:\s+(?:of\s+)?[A-Z][\w'’.-]*){0,3}"
#: "manager for Europe", "leave in the Lisbon office", and in a sentence also "Manager (Rotterdam)"
_QUALIFIED = re.compile(rf"\b([A-Za-z]+)\s+(?:(for|in|at)\s+(?:the\s+)?|\()({_PLACE_NAME})")
_NO_PLACE = re.compile(rf"^(?:{MONTHS}|{WEEKDAYS}|The|A|An|[A-Z]{{1,3}}|[A-Z](?:\.[A-Z])+\.?)$")


def _qualified(text: str) -> list[tuple[str, str, str]]:
    """(head, preposition or "" for brackets, name): "claims manager for Europe" -> ("manag", "for", "Europe")."""
    return [(head.lower()[:5], prep.lower(), name) for head, prep, name in _QUALIFIED.findall(text) if not _NO_PLACE.match(name)]


def _unnamed(name: str, passage: str) -> bool:
    """Does ``passage`` name none of ``name``'s words (by their first five letters) nor its initials?"""
    low = passage.lower()
    initials = "".join(w[0] for w in name.split() if w[:1].isupper())
    return not any(w[:5].lower() in low for w in re.findall(r"[A-Za-z]{3,}", name)) and not (len(initials) > 1 and initials in passage)


def other_place(question: str, sentence: str, passage: str) -> bool:
    """Does ``sentence`` qualify the asked thing by another name than the question's, which its
    passage never names? "Who is the claims manager for Europe?" is not answered by "The claims
    manager for North America is Priya Raman", nor "the Facilities Manager for Leeds" by "Samuel
    Achterberg, Facilities Manager (Rotterdam)" (a user's warranty and onboarding guide). The word
    qualified must be the same ("manager for"); short capitals (US, EU) are left alone. On the dev
    half's gold paragraphs 1 of its 4,961 questions finds such a sentence anywhere in its paragraph.

    >>> s = "The claims manager for North America is Priya Raman."
    >>> other_place("Who is the claims manager for Europe?", s, s), other_place("Who is the claims manager for North America?", s, s)
    (True, False)
    >>> other_place("Who is the Facilities Manager for Leeds?", "Sam Berg, Facilities Manager (Rotterdam), is new.", "")
    True
    """
    asked = [(h, p, n) for h, p, n in _qualified(question) if p and _unnamed(n, passage)]
    return bool(asked) and any(h2 == h and p2 in (p, "") and n2.lower() != n.lower()
                               for h, p, n in asked for h2, p2, n2 in _qualified(sentence))


_ASKS_EMPLOYER = re.compile(r"\b(?:which|what) (?:company|firm|organi[sz]ation|employer|business|agency|university|institution)\b"
                            r"|\bwork(?:s|ed|ing)? (?:for|at)\b|\bemploy(?:s|ed)?\b", re.I)


def role_for_employer(question: str, span: str) -> bool:
    """A role ("CISO", "Chief Financial Officer") where the question asks for whom someone works: in
    "Fatima Zahra El Idrissi (CISO, Tryghed Forsikring)" the company is the answer (a user's
    programme). No question of the dev half asks for an employer with a role as its gold answer.

    >>> role_for_employer("Which company does Fatima work for?", "CISO"), role_for_employer("Which company does Fatima work for?", "Tryghed Forsikring")
    (True, False)
    """
    role = span.strip()
    return bool(_ASKS_EMPLOYER.search(question)) and bool(_ROLE_ACRONYM.fullmatch(role) or ROLE.fullmatch(role) or role in ROLE_ACRONYMS)


_COLOURS = "red|orange|yellow|green|blue|purple|violet|pink|brown|black|white|grey|gray|silver|gold"
_COLOURED = re.compile(rf"\b({_COLOURS})\s+([a-z]+)", re.I)


def other_colour(question: str, sentence: str, passage: str) -> bool:
    """Does ``sentence`` speak of a thing of another colour than the one asked, which its passage never
    names? "What goes in the purple bin?" is not answered by "- General waste: black bin" (a user's
    recycling guide).

    >>> s = "- General waste: black bin, collected every Friday"
    >>> other_colour("What goes in the purple bin?", s, s), other_colour("What goes in the black bin?", s, s)
    (True, False)
    """
    asked = {(c.lower(), n.lower()) for c, n in _COLOURED.findall(question)}
    here = {(c.lower(), n.lower()) for c, n in _COLOURED.findall(sentence)}
    low = passage.lower()
    return any(f"{c} {n}" not in low and any(n2 == n and c2 != c for c2, n2 in here) for c, n in asked)
