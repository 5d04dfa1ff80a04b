"""Dates that answer another question: a birth date is not when a lease was signed, and a figure of
31 March 2025 or of December 2025 is not the one asked for 31 March 2024 or November 2025 (users'
tenancy papers and a charity's minutes). Rules over the sentence, no model; part of
:meth:`qa.answer.asked.Asked.sets_aside`.
"""

from __future__ import annotations

import re

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december"
           "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
#: "31 March 2024", "March 31, 2024": (day, month, year)
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTHS})\.?,?\s+((?:19|20)\d\d)\b"
                             rf"|\b({_MONTHS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b", re.I)
#: "November 2025" (no day before it)
_MONTH_YEAR = re.compile(rf"(?<!\d\s)(?<!\d)\b({_MONTHS})\.?,?\s+((?:19|20)\d\d)\b", re.I)
#: a named thing's year: "Spring Season 2024", "Autumn Fair 2025" (capitalised words, then the year)
_NAMED_YEAR = re.compile(r"\b((?:[A-Z][\w-]*\s+){1,3})((?:19|20)\d\d)\b")
#: a financial year: "2024/25", "2024-25", "2024/2025"
_FINANCIAL_YEAR = re.compile(r"\b((?:19|20)\d\d)\s*[/–-]\s*(\d\d(?:\d\d)?)\b")
#: a birth date: "born 2 March 1991", "(born 2 March 1991", "date of birth: 2 March 1991", "b. 1991"
_BORN = re.compile(rf"(?:\bborn(?:\s+on|\s+in)?|\bdate\s+of\s+birth\s*:?|\bDOB\s*:?|\bb\.)\s*"
                   rf"((?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?(?:(?:{_MONTHS})\.?\s+)?(?:\d{{1,2}},?\s+)?\d{{3,4}})", re.I)
#: a month named alone ("In December we gave out …"); not "May", a verb as often
_BARE_MONTH = re.compile(r"\b(january|february|march|april|june|july|august|september|october|november|december)\b", re.I)
_ASKS_BIRTH = re.compile(r"\b(?:born|birth|birthday|age|old)\b", re.I)


def _days(text: str) -> set[tuple[str, str, str]]:
    found = set()
    for m in _DAY_MONTH_YEAR.finditer(text):
        day, month, year = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(5), m.group(4), m.group(6))
        found.add((day.lstrip("0"), month[:3].lower(), year))
    return found


def _months(text: str) -> set[tuple[str, str]]:
    return {(m.group(1)[:3].lower(), m.group(2)) for m in _MONTH_YEAR.finditer(text)}


def _financial_years(text: str) -> set[tuple[str, str]]:
    return {(m.group(1), m.group(2)[-2:]) for m in _FINANCIAL_YEAR.finditer(text) if int(m.group(2)[-2:]) == (int(m.group(1)) + 1) % 100}


def _years(text: str) -> set[str]:
    return set(re.findall(r"\b(?:19|20)\d\d\b", text))


def born_unasked(question: str, sentence: str, start: int, end: int) -> bool:
    """Is the span ``[start, end)`` (a part of) a birth date ("born 2 March 1991") while the question asks no birth or
    age? "When did Jane Roe sign the tenancy agreement?" got her date of birth (a user's lease). On
    SQuAD's dev half and train.json, no gold answer after "born" answers a question not about birth.

    >>> s = "Jane Roe, born 2 March 1991, of 27 Cotham Hill (the Tenant)."
    >>> born_unasked("When did Jane Roe sign the agreement?", s, 15, 27), born_unasked("When was Jane Roe born?", s, 15, 27)
    (True, False)
    >>> born_unasked("When did Jane Roe sign the agreement?", s, s.index("1991"), s.index("1991") + 4)
    True
    """
    born = any(start < m.end(1) and m.start(1) < end for m in _BORN.finditer(sentence))
    return born and not _ASKS_BIRTH.search(question)


def other_date(question: str, sentence: str, heading: str = "") -> bool:
    """Does ``sentence`` give its figure for another date than the question names, and not the asked
    one: the same day of another year ("31 March 2025" for "… on 31 March 2024?"), another month of a
    year ("December 2025" for "… in November 2025?"), another financial year ("2025/26" for "… for
    2024/25?")? A user's service-charge statement and a charity's minutes were answered so. A sentence
    naming no date of these kinds is dated by its ``heading`` (the title and section: a table row of a
    "Statement 2024/25").

    >>> other_date("How much was in the reserve fund on 31 March 2024?", "The reserve fund stood at £38,400 on 31 March 2025.")
    True
    >>> other_date("How many parcels were given out in November 2025?", "1,284 parcels were given out in December 2025.")
    True
    >>> other_date("How many parcels were given out in November 2025?", "In December we gave out 1,284 parcels.")
    True
    >>> other_date("What was the budget for 2024/25?", "The service charge budget for 2025/26 is £47,900.")
    True
    >>> other_date("How much was in the fund on 31 March 2025?", "The fund stood at £38,400 on 31 March 2025.")
    False
    >>> other_date("What happened in November 2025?", "It rained on 3 November 2025 and in December 2025.")
    False
    >>> other_date("What was the lift budget in 2025/26?", "Lift maintenance | £3,900 | £4,725", "Service Charge Statement 2024/25")
    True
    >>> other_date("Who won the Spring Season 2024?", "Hilltop Rangers won the Spring Season 2025.", "AGM minutes")
    True
    >>> other_date("Who won the Spring Season 2025?", "Hilltop Rangers won the Spring Season 2025.")
    False
    """
    if heading and not (_days(sentence) or _months(sentence) or _financial_years(sentence) or _BARE_MONTH.search(sentence)
                        or _NAMED_YEAR.search(sentence)):
        sentence = heading
    asked_days, said_days = _days(question), _days(sentence)
    if asked_days and said_days and not asked_days & said_days:
        if {d[:2] for d in asked_days} & {d[:2] for d in said_days}:  # the same day, another year
            return True
    asked_months = _months(question) - {d[1:] for d in asked_days}
    said_months = _months(sentence) | {d[1:] for d in said_days}
    if asked_months and said_months and not asked_months & said_months:
        if {y for _, y in asked_months} & {y for _, y in said_months}:  # another month of the asked year
            return True
    bare = {m.group(1)[:3].lower() for m in _BARE_MONTH.finditer(sentence)}  # "In December we gave out 1,284 parcels"
    if asked_months and bare and not {m for m, _ in asked_months} & bare and not _years(sentence) - {y for _, y in asked_months}:
        return True
    asked_years, said_years = _financial_years(question), _financial_years(sentence)
    if asked_years and said_years and not asked_years & said_years:
        return True
    # a named thing of another year: "Hilltop Rangers won the Spring Season 2025." for "… the Spring Season 2024?"
    named = {(m.group(1).lower(), m.group(2)) for m in _NAMED_YEAR.finditer(question)}
    said = {(m.group(1).lower(), m.group(2)) for m in _NAMED_YEAR.finditer(sentence)}
    return any(n == w and y != z for n, y in named for w, z in said) and not named & said
