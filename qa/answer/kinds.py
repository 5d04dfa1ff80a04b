"""More answers of the wrong kind, found in users' documents: an age is no calendar date, a door code
is a code, "Ltd" alone names nobody, and a company's registration number is no phone number. Rules
over the span (and the words before it), no model; part of :func:`qa.answer.fit.wrong_kind` and
:meth:`qa.answer.asked.Asked.sets_aside`.
"""

from __future__ import annotations

import re

_HOW_OLD = re.compile(r"^\W*how\s+old\b", re.I)
#: a calendar date: "14 February 2026", "February 14", "14/02/2026"
_CALENDAR_DATE = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b"
                            r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b", re.I)
#: "What is the door code?", "the access code", "the PIN": a code is letters and digits, not words
_ASKS_CODE = re.compile(r"\b(?:door|access|entry|gate|key|alarm|security|wi-?fi)\s+(?:code|pin|password)\b|\bpin\s+(?:code|number)\b", re.I)
#: a company's legal form, alone no name: "Ltd", "LLP", "GmbH"
_LEGAL_FORM = re.compile(r"(?:ltd|limited|llp|llc|plc|inc|incorporated|gmbh|ag|sa|s\.?r\.?l|b\.?v|co|corp)\.?", re.I)
#: a question asking for a phone number ("What is her phone number?", "the number to call")
ASKS_PHONE = re.compile(r"\b(?:phone|telephone|fax|mobile|cell)\s+number\b|\bnumber\s+to\s+call\b", re.I)
#: the words before a number that make it another kind of number than a phone's
_OTHER_NUMBER_BEFORE = re.compile(r"\b(?:registered|registration|company|charity|account|vat|policy|reference|ref|invoice|order"
                                  r"|ticket|case|customer|membership|licen[cs]e|serial)\b[^.;]{0,40}?(?:\bnumber|\bno\.?|\bnr\.?|#|:)\s*$", re.I)


#: a question asking when a place is open, and the days that answer it without a time
_ASKS_HOURS = re.compile(r"\bopening\s+(?:times|hours)\b|\bhours\s+of\s+opening\b", re.I)
_DAYS = r"mon|tue|wed|thu|fri|sat|sun|week|weekend|every|all\s+day"
#: a letter's greeting, no one's name: "Sir", "Madam", "Sir or Madam", "all"
_SALUTATION = re.compile(r"(?:dear\s+)?(?:sir|madam|sir\s+or\s+madam|madam\s+or\s+sir|sirs|all|colleagues|everyone)", re.I)
#: "How is the rent paid?": the means (by standing order, through taxes), never the amount
_HOW_PAID = re.compile(r"^\W*how\s+(?:is|are|was|were|do|does|did|can|could|should|must|will)\b.*\b(?:paid|pay|payable|funded|financed)\W*$", re.I)
_AMOUNT = re.compile(r"[$€£¥]\s?\d|\d\s?(?:%|per\s?cent|euros?|pounds?|dollars?)\b|\b(?:EUR|USD|GBP|CHF)\s?\d", re.I)


def other_kind(question: str, span: str) -> bool:
    """Is ``span`` of a kind the question does not ask for: a calendar date for "How old …?" ("14
    February 2026" for "How old is Janet Ogunleye?"), words for a door code ("every quarter"), a legal
    form alone for anything ("Ltd"), an amount for how something is paid ("£1,350 per calendar month" for "How
is the rent paid?")? On SQuAD's dev half no "how old" gold answer is a calendar date.

    >>> other_kind("How old is Janet Ogunleye?", "14 February 2026"), other_kind("How old is she?", "71")
    (True, False)
    >>> other_kind("What is the door code for the bin store?", "every quarter"), other_kind("What is the door code?", "4711#")
    (True, False)
    >>> other_kind("Who is the engineer?", "Ltd"), other_kind("Who maintains the lift?", "Apex Lifts Ltd")
    (True, False)
    >>> other_kind("What is her husband's name?", "Madam"), other_kind("Who wrote?", "Sophie Lambert")
    (True, False)
    >>> other_kind("What are the opening times of the café?", "sports centre"), other_kind("What are the opening hours?", "daily 9:00 to 17:00")
    (True, False)
    >>> other_kind("What are the opening times of the café?", "3 hours in the car park")
    True
    >>> other_kind("How is the rent paid?", "£1,350 per calendar month"), other_kind("How is the rent paid?", "by standing order")
    (True, False)
    >>> other_kind("What is Sam Okafor's job title?", "sam.okafor@tessera.example"), other_kind("What is his e-mail?", "sam@x.example")
    (True, False)
    """
    if "@" in span and not re.search(r"\b(?:e-?mail|address|contact|reach|write|send|sent|who)\b", question, re.I):
        return True  # "sam.okafor@tessera.example" is no job title (a user's support thread)
    if _SALUTATION.fullmatch(span.strip(" .,")):  # "Madam" of "Dear Sir or Madam," names nobody
        return True
    if _ASKS_HOURS.search(question) and not re.search(rf"\d{{1,2}}[:.]\d\d|\d\s?(?:am|pm|a\.m|p\.m)\b|\b(?:closed|daily|{_DAYS})",
                                                      span, re.I):
        return True  # "sports centre" of "Opening times of the sports centre:" gives no time
    if _LEGAL_FORM.fullmatch(span.strip(" .,")) or (_HOW_PAID.match(question) and _AMOUNT.search(span)):
        return True  # (on SQuAD's five "how is it paid/funded" questions every answer is a means)
    if _HOW_OLD.match(question) and _CALENDAR_DATE.search(span) and not re.search(r"\b(?:years?|months?|weeks?|days?)\s+old\b", span):
        return True
    return bool(_ASKS_CODE.search(question)) and not re.search(r"\d", span)


def another_number(question: str, sentence: str, start: int, end: int) -> bool:
    """Is the number at ``start`` another kind of number than the phone number asked for: a company's
    registration number ("registered … under number 08813467", given for a user's "What is Martin
    Okafor's phone number?"), an account, a policy, a reference?

    >>> s = "Harbour Lets Ltd, a company registered in England under number 08813467, acting by Martin Okafor"
    >>> another_number("What is Martin Okafor's phone number?", s, s.index("number 0881"), s.index(", acting"))
    True
    >>> another_number("What is the phone number?", "Call 0117 496 0321.", 5, 18)
    False
    """
    digit = re.search(r"\d", sentence[start:end])  # the span may hold the word before the number ("number 08813467")
    return bool(ASKS_PHONE.search(question)) and bool(_OTHER_NUMBER_BEFORE.search(sentence[: start + (digit.start() if digit else 0)]))
