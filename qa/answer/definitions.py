"""Questions that ask what someone is: "Who is Cilia Flores?" (:func:`defined_name`).

Their answer is a description standing beside the name ("his wife, Cilia Flores", "Foreign
Minister Yván Gil", "Warsz, a nobleman"), never another person's name from the same sentence:
the reader's spans are kept only beside the name (:func:`next_to`), not naming someone else
(:func:`names_another`), and cut to the part beside the name when the rest names someone else
(:func:`description_span`).
"""

from __future__ import annotations

import functools
import re
import unicodedata

_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][\w.'’-]*"
_CONNECTOR = r"(?:de|del|da|la|van|von|bin|al|of|the)"
_DEFINED = re.compile(rf"^\W*(?i:who\s+(?:is|was|are|were))\s+({_NAME_WORD}(?:\s+(?:{_CONNECTOR}\s+)?{_NAME_WORD})*)\s*\?*\s*$")
#: words of an office or rank: "Venezuelan Foreign Minister" describes someone, it names nobody
TITLES = frozenset("""president vice minister secretary general attorney governor senator representative director chief
king queen prince princess duke duchess emperor empress pope bishop archbishop cardinal chancellor mayor ambassador
commander officer judge justice chairman chairwoman chair ceo founder leader head spokesman spokeswoman spokesperson
deputy lord lady sir captain colonel admiral sergeant lieutenant marshal professor dr doctor sheikh emir sultan premier
councillor councilor speaker treasurer coordinator administrator manager editor correspondent agent analyst""".split())


def defined_name(question: str) -> str | None:
    """The X of "Who is X?" when X is a name: the question asks what X is, a description ("his
    wife", "a Polish composer"), never another name.

    >>> defined_name("Who is Cilia Flores?"), defined_name("Who was Boleslaw II of Masovia?")
    ('Cilia Flores', 'Boleslaw II of Masovia')
    >>> defined_name("Who is Denver's defensive coordinator?"), defined_name("Who is the president?")
    (None, None)
    """
    m = _DEFINED.match(question)
    return m.group(1) if m and not m.group(1).endswith(("'s", "’s")) else None


def names_another(span: str, name: str) -> bool:
    """Is ``span`` another name than ``name``: capitalised words only, none of ``name``'s, no
    leading article, and no office ("Foreign Minister", "Secretary of State") unless a name follows
    it ("President Nicolás Maduro")? For "Who is Cilia Flores?", "Venezuelan President Nicolás
    Maduro" and "Rodriguez" are; "his wife" and "Venezuelan Foreign Minister" are not.

    >>> names_another("Venezuelan President Nicolás Maduro", "Cilia Flores"), names_another("his wife", "Cilia Flores")
    (True, False)
    >>> names_another("Venezuelan Foreign Minister", "Yván Gil"), names_another("Secretary of State", "Marco Rubio")
    (False, False)
    >>> names_another("The Prince of Płock", "Boleslaw II"), names_another("Flores", "Cilia Flores")
    (False, False)
    """
    words = re.findall(r"[\w.'’-]+", span)
    if not words or words[0].lower() in {"the", "a", "an"}:
        return False
    own = {w.lower() for w in re.findall(r"[\w.'’-]+", name)}
    if not all(w[0].isupper() or re.fullmatch(_CONNECTOR, w) for w in words) or any(w.lower() in own for w in words):
        return False
    titles = [i for i, w in enumerate(words) if w.lower().rstrip(".") in TITLES]
    after = words[titles[-1] + 1:] if titles else words
    return bool(after) and not re.fullmatch(_CONNECTOR, after[0])


_LETTERS = str.maketrans("łŁøØđĐıß", "lLoOdDis")


@functools.lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """``text`` lower-cased without accents, one character for one ("Bolesław" and "Boleslaw"
    match), so that offsets into it are offsets into ``text``. Cached: a server folds the same
    sentences for question after question."""
    if text.isascii():  # nothing to decompose, and ASCII letters casefold to their lower case
        return text.lower()
    return "".join((unicodedata.normalize("NFKD", ch)[:1] or ch).casefold()[:1] for ch in text.translate(_LETTERS))


#: a title abbreviated before a name: "her long-time deputy, Dr. Wanjiru Kamau" describes Kamau
_ABBREVIATED_TITLE = r"(?:(?:dr|mr|mrs|ms|mx|prof|sir|dame|rev|gen|col|capt|lt|sgt|gov|sen|rep|st|hon)\.?\s+)?"


def next_to(sentence: str, start: int, end: int, name: str) -> bool:
    """Does the span ``sentence[start:end]`` stand right beside ``name`` (or its last word), as a
    description of it does: "his wife, Cilia Flores", "Foreign Minister Yván Gil", "Warsz, a
    nobleman", "Luis Ortega (chair)"? Only spaces, commas, dashes, brackets or an abbreviated title
    ("deputy, Dr. Wanjiru Kamau") may stand between.

    >>> s = "It captured Nicolás Maduro and his wife, Cilia Flores, at home."
    >>> next_to(s, 31, 39, "Cilia Flores"), next_to(s, 12, 26, "Cilia Flores")
    (True, False)
    >>> s = "Cabello is widely believed to lead them. The keeper is Arne Dahl."
    >>> next_to(s, 11, 26, "Cabello"), next_to(s, 41, 51, "Arne Dahl")
    (False, True)
    >>> s = "She was succeeded by her long-time deputy, Dr. Wanjiru Kamau. Present: Luis Ortega (chair)."
    >>> next_to(s, s.index("her"), s.index(", Dr"), "Wanjiru Kamau"), next_to(s, s.index("chair"), s.index(")."), "Luis Ortega")
    (True, True)
    """
    folded = fold(sentence)
    words = name.split()
    for needle in dict.fromkeys((name, words[0], words[-1])):
        for m in re.finditer(re.escape(fold(needle)), folded):
            before = sentence[end:m.start()] if end <= m.start() else "\0"
            after = sentence[m.end():start] if m.end() <= start else "\0"
            # "his wife, X" / "The lighthouse keeper is X"; "X, a nobleman" / "X is the mayor" (not
            # "X is widely believed": after "is", only a noun phrase describes)
            if re.fullmatch(rf"[\s,(\[—–-]{{0,4}}{_ABBREVIATED_TITLE}|\s+(?:is|was)\s+", before, re.I) \
                    or re.fullmatch(r"[\s,()\[\]—–-]{0,4}", after) \
                    or (re.fullmatch(r"\s+(?:is|was)\s+", after)
                        and re.match(r"(?:a|an|the|one|his|her|their|its)\b", sentence[start:end], re.I)):
                return True
    return False


_BREAK = re.compile(r",|\s(?:and|to|for|with|as|than)\s")


def description_span(sentence: str, start: int, end: int, name: str) -> tuple[int, int]:
    """The span cut to the part beside ``name`` when the rest names someone else: "Venezuelan
    President Nicolás Maduro and his wife" before "Cilia Flores" becomes "his wife"; a span that
    names nobody else is kept ("a Polish composer and pianist").

    >>> s = "It captured Venezuelan President Nicolás Maduro and his wife, Cilia Flores."
    >>> a, b = description_span(s, 12, 60, "Cilia Flores"); s[a:b]
    'his wife'
    """
    span = sentence[start:end]
    breaks = list(_BREAK.finditer(span))
    if not breaks:
        return start, end
    before = fold(sentence).find(fold(name.split()[-1]), end) >= 0  # the span stands before the name (as next_to finds it)
    cut = breaks[-1] if before else breaks[0]
    far, near = (span[:cut.start()], span[cut.end():]) if before else (span[cut.end():], span[:cut.start()])
    if not near.strip() or not any(w[0].isupper() and w.lower().rstrip(".") not in TITLES for w in re.findall(r"[\w.'’-]+", far)):
        return start, end
    lead = len(near) - len(near.lstrip())
    return (start + cut.end() + lead, end) if before else (start, start + len(near.rstrip()))
