"""Does a span fit the question beyond its type: rules that set aside a span of the right type that
still cannot answer. A place is never a date, a length of time never a bare calendar day, a price
never a length of time or a volume, a count never a measured amount, and a who-question's answer is
never the one joined to the person asked about. (Whether the sentence is about the asked thing
at all is :mod:`qa.answer.about`'s.) Each rule was checked against SQuAD's dev half (and
train.json): most set aside none of its gold answers, and each function says how many it does.
Pure Python, on the query path.
"""

from __future__ import annotations

import functools
import re

from qa.answer.kinds import ASKS_PHONE as _ASKS_PHONE
from qa.answer.kinds import other_kind
from qa.answer.money import A_NUMBER, costs_in_other_units
from qa.answer.question import ROLES, content_terms

#: month names (capitalised: the regexes that want any case say re.I)
MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
#: weekday names (capitalised, as MONTHS)
WEEKDAYS = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
#: a calendar day ("January 3, 2026", "3 January"), where a length of time cannot start, unless a
#: range follows ("4 August 1915 until November 1918"); a year alone may ("since 1957": "1957")
_DAY = re.compile(rf"^\W*(?:(?:on|in)\s+)?(?:{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\d{{1,2}}\s+{MONTHS}\b)", re.I)
_RANGE = re.compile(r"\b(?:to|until|till|through|thru)\b|[–-]\s*\d", re.I)
_STARTS_WITH_DATE = re.compile(rf"^\W*(?:{MONTHS}\b|\d{{4}}\b|\d{{1,2}}\s+{MONTHS}\b)", re.I)
_WHERE = re.compile(r"^\W*where\b", re.I)
_HOW_LONG = re.compile(r"^\W*how\s+long\b(?!\s+ago)", re.I)
#: a year alone ("1644", "in 1644", Markdown's "**1644**"): when, never how long
#: a time of day and nothing else: "14:00", "9:30 a.m."
_CLOCK_TIME = re.compile(r"(?:at\s+)?\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*(?:-|–|to)\s*\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)?", re.I)
_SINCE_WHEN = re.compile(r"^\W*how\s+long\s+(?:has|have|had)\b", re.I)
_BARE_YEAR = re.compile(r"[\W_]*(?:in\s+)?(?:1\d{3}|20\d{2})[\W_]*")


#: a role noun alone: who someone is, never where
_ONLY_A_ROLE = re.compile(rf"\W*(?:(?:the|a|an|our|my|their|his|her)\s+)?{ROLES}s?\W*", re.I)


#: a question asking a population: a number answers it (so do all 147 of SQuAD's such gold answers, dev half and train.json)
_POPULATION = re.compile(r"^\W*(?:what\s+(?:is|was|are|were)\s+(?:the\s+)?(?:(?:total|estimated|approximate|current)\s+)?population\b"
                         r"(?!.*\b(?:called|named|referred|defined|known|made)\b)|how\s+many\s+people\s+live)", re.I)


def wrong_kind(question: str, span: str) -> bool:
    """A span of the wrong kind for a "where", "how long", "what time", cost (:func:`costs_in_other_units`)
    or contact question (:func:`not_the_contact_asked`): a place is never a date
    ("January 3, 2026, has escalated tensions…" for "Where did the raid take place?"), a length of
    time never a calendar day without a range ("January 3, 2026" for "How long did the raid
    last?"). On the dev half no "how long" gold answer is one, and 2 of 177 "where" questions have,
    beside place answers, a date some annotator gave.

    >>> wrong_kind("Where did the raid take place?", "January 3, 2026, has escalated tensions")
    True
    >>> wrong_kind("How long did the raid last?", "January 3, 2026"), wrong_kind("How long did it last?", "three hours")
    (True, False)
    >>> wrong_kind("How long did it run?", "1961 to 1972"), wrong_kind("How long was it occupied?", "4 August 1915 until 1918")
    (False, False)
    >>> wrong_kind("How long did the troops stay?", "**1644**"), wrong_kind("How long did they stay?", "1644 weeks")
    (True, False)
    >>> wrong_kind("How much extra is a guided tour?", "14:00"), wrong_kind("How much is a guided tour?", "£2.00")
    (True, False)
    >>> wrong_kind("Where did it happen?", "Caracas"), wrong_kind("When did it happen?", "January 3")
    (False, False)
    >>> wrong_kind("Where does Margaret Ellison live?", "landlord"), wrong_kind("Where does she live?", "the landlord's flat")
    (True, False)
    >>> wrong_kind("What was the population of Wrenford in 1931?", "woman mayor of Wrenford")
    True
    >>> wrong_kind("Who is the venue contact?", "Lake Starnberg"), wrong_kind("Who is the venue contact?", "Anna Berg")
    (True, False)
    >>> wrong_kind("What time should I arrive?", "30 minutes before your appointment time"), wrong_kind("What time?", "at 8:30")
    (True, False)
    >>> wrong_kind("What time does the Nativity finish?", "Tuesday 9 December"), wrong_kind("What time?", "Tuesday 9 December, 2:00pm")
    (True, False)
    """
    if costs_in_other_units(question, span) or counts_in_units(question, span) or not_the_contact_asked(question, span) \
            or other_kind(question, span):  # an age no date, a door code no words, "Ltd" nobody
        return True
    if _POPULATION.match(question) and not A_NUMBER.search(span):  # "woman mayor of Wrenford" is no population
        return True
    if _WHAT_TIME.match(question):  # a time of day (or a time standard), not "Friday" (a user's itinerary),
        return not _CLOCK.search(span) or bool(_RELATIVE_TIME.match(span)) \
            or bool(_CALENDAR_DAY.match(span) and not _RANGE.search(span))  # nor "30 minutes before …", nor "Tuesday 9 December"
    if _WHERE.match(question):  # nor a person's role ("landlord" of "Margaret Ellison (landlord)")
        return bool(_STARTS_WITH_DATE.match(span)) or bool(_ONLY_A_ROLE.fullmatch(span))
    if _WHO.match(question) and _A_PLACE.search(span):  # "Lake Starnberg" is nobody (a user's venue list)
        return True
    if _HOW_MUCH.search(question) and _CLOCK_TIME.fullmatch(span.strip()):  # "How much extra is a guided tour?" "14:00"
        return True
    if _HOW_LONG.match(question):
        year = bool(_BARE_YEAR.fullmatch(span)) and not _SINCE_WHEN.match(question)  # "How long has it run?" "1951": since then
        return (bool(_DAY.match(span)) or year) and not _RANGE.search(span)
    return False


_WHO_ALONE = re.compile(r"^\W*(?:who|whom)\b(?!.*\b(?:with|along|alongside|besides|both|together|other|another|also|two|three)\b)", re.I)
_JOINED_BEFORE = r"{name}[\w'’.-]*(?:\s+[\w'’.-]+){{0,2}}\s*,?\s+(?:and|&)\s+(?:(?:his|her|their|the)\s+[\w'’-]+,?\s+)?$"
_JOINED_AFTER = r"^\s*,?\s*(?:and|&)\s+(?:[\w'’.-]+\s+){{0,2}}{name}\b"
_JOINED_INSIDE = r"\b{name}[\w'’.-]*\s*,?\s+(?:and|&)\s|\b(?:and|&)\s+(?:[\w'’.-]+\s+){{0,2}}{name}\b"


def joined_to_asked(question: str, sentence: str, start: int, end: int) -> bool:
    """Is the span ``sentence[start:end]`` joined by "and" to a name the who-question asks about? Then
    it is that name's companion, not who did it to them: "Maduro and Flores" does not answer "Who
    captured Maduro?", nor does a span joining the name itself ("Nicolás Maduro and his wife").
    A question asking for a companion ("with", "besides", "both", …) or a relation ("Maduro's wife")
    is exempt. No gold answer on the dev half is joined so.

    >>> s = "The capture of Maduro and Flores marked a turning point."
    >>> joined_to_asked("Who captured Maduro?", s, s.index("Flores"), s.index("Flores") + 6)
    True
    >>> joined_to_asked("Who was captured with Maduro?", s, s.index("Flores"), s.index("Flores") + 6)
    False
    >>> s = "It seized Nicolás Maduro and his wife, Cilia Flores, at dawn."
    >>> joined_to_asked("Who seized Nicolás Maduro?", s, s.index("Cilia"), s.index("Cilia") + 12)
    True
    >>> joined_to_asked("Who seized Nicolás Maduro?", s, s.index("Nicolás"), s.index("wife") + 4)
    True
    >>> joined_to_asked("Who is Maduro's wife?", s, s.index("Cilia"), s.index("Cilia") + 12)
    False
    >>> s = "Halvorsen Robotics was founded by Ingrid Halvorsen and Tor Lunde."
    >>> joined_to_asked("Who founded Halvorsen Robotics?", s, s.index("Ingrid"), len(s) - 1)
    False
    """
    if not _WHO_ALONE.match(question):
        return False
    # a possessive asks for the name's relation ("Who is Maduro's wife?": joined to him, rightly)
    # a name is its run's last word ("Maduro" of "Nicolás Maduro"): "Halvorsen" of "Halvorsen Robotics"
    # is the company, and the founder "Ingrid Halvorsen and Tor Lunde" is not joined to it
    runs = re.findall(r"\b[A-Z][\w-]+(?:\s+[A-Z][\w-]+)*\b(?![’']s\b)", question.split(None, 1)[-1])
    names = [r.split()[-1] for r in runs if len(r.split()[-1]) > 2]
    before, span, after = sentence[max(0, start - 60) : start], sentence[start:end], sentence[end : end + 60]
    return any(re.search(_JOINED_BEFORE.format(name=re.escape(n)), before) or re.match(_JOINED_AFTER.format(name=re.escape(n)), after)
               or re.search(_JOINED_INSIDE.format(name=re.escape(n)), span) for n in names)


_HOW_MANY = re.compile(r"^\W*(?:.*\b)?how many\b", re.I)
#: a number measured in a unit of mass, volume, length or temperature ("1 kg", "190°C"), not "of" something
_MEASURED = re.compile(r"\d\s?(?:m²|km²|sq\.? ?m|square (?:metres|meters|feet|miles)|kg|g|mg|lbs?|oz|ml|l|litres?|liters?|cl|dl|cm|mm|km|(?-i:m)|metres?|meters?|kilograms?|grams?|ounces?|"
                       r"tons?|tonnes?|feet|ft|inch(?:es)?|miles?|degrees?|°\s*[CF]?)(?![\w°])(?!\s+of\b)", re.I)
#: the units themselves, in a question that counts them ("How many grams …?")
_UNIT_WORDS = re.compile(r"\b(?:kgs?|kilo\w*|grams?|mg|lbs?|pounds|ounces?|oz|ml|millilit\w+|millimet\w+|tones?|lit(?:re|er)s?|cm|centimet\w+|mm|km|"
                         r"metres?|meters?|tons?|tonnes?|feet|foot|inch(?:es)?|miles?|degrees?|cups?|spoons?|tablespoons?|teaspoons?)\b", re.I)


#: a length of time ("21 days"), not "3 days of talks"
_TIMED = re.compile(r"\d\s?(?:days?|weeks?|months?|years?|hours?|hrs|minutes?|mins)\b(?!\s+of\b)", re.I)
#: a question counting times or spells of time ("How many years …", "How many times …")
_TIME_COUNTED = re.compile(r"\b(?:days?|weeks?|months?|years?|hours?|minutes?|seconds?|decades?|century|centuries|nights?|times?"
                           r"|terms?|seasons?|periods?|eras?|generations?|mornings?|evenings?|weekends?)\b", re.I)


#: a question counting money ("How many dollars …", "how many fees were paid")
_MONEY_COUNTED = re.compile(r"\b(?:dollars?|euros?|pounds?|cents?|yen|francs?|marks?|rupees?|yuan|pesos?|money|fees?|costs?|prices?)\b|\$", re.I)


def counts_in_units(question: str, span: str) -> bool:
    """A measured amount for a question that counts things: "1 kg" (of pumpkin) does not answer "How
    many people does the soup serve?" (a user's recipes), nor "21 days" (the loan) "How many books can I
    borrow?" (a user's library). A question counting the unit itself ("How many grams …?", "How many
    days …?") takes it. On train.json and the dev half, of the ~5,000 "how many" questions one has its
    gold answer set aside ("about how many tone of opium", a typo for the unit; "1,000 tons of bombs"
    keeps its "of" and is not set aside); none of the 4,565 counting no time has a length of time for gold,
    and 2 of the 5,256 counting no money have an amount of money ("how many investment banking fees").

    >>> counts_in_units("How many people does the soup serve?", "1 kg"), counts_in_units("How many people does it serve?", "4")
    (True, False)
    >>> counts_in_units("How many grams of sugar?", "225 g"), counts_in_units("How many bombs hit?", "1,000 tons of bombs")
    (False, False)
    >>> counts_in_units("How many books can I borrow?", "21 days"), counts_in_units("How many days can I keep a book?", "21 days")
    (True, False)
    >>> counts_in_units("How many items can be collected per booking?", "$35"), counts_in_units("How many dollars?", "$35")
    (True, False)
    """
    if not _HOW_MANY.match(question):
        return False
    return (not _UNIT_WORDS.search(question) and bool(_MEASURED.search(span))) \
        or (not _TIME_COUNTED.search(question) and bool(_TIMED.search(span))) \
        or (not _MONEY_COUNTED.search(question) and bool(re.search(r"[$€£¥₹¢]", span)))



_WHO = re.compile(r"^\W*(?:who|whom)\b", re.I)
#: a place's name: "Lake Starnberg", "Mount Hood", "Baker Street", "Gatwick Airport"
_A_PLACE = re.compile(r"^(?:Lake|River|Mount|Mt\.?|Cape|Isle|Bay|Gulf|Port)\s+[A-Z]|\b[A-Z]\w*\s+(?:Street|Road|Avenue|Lane|Square|"
                      r"Airport|Station|Lake|River|Island|Mountains?|Valley|Bay)$")
_AT_A_PLACE = re.compile(r"\b(?:in|at|near)\s+$", re.I)


def placed_for_who(question: str, sentence: str, start: int) -> bool:
    """Is the span at ``start`` a place answering a who-question: "in Mombasa" for "Who founded the
    institute?" (a user's biography: "she moved to Kenya and founded the institute in Mombasa").
    No dev-half who-question has a gold answer right after "in", "at" or "near" (train.json: 36 of
    8,210, mostly places such as "held in Nagano").

    >>> s = "In 2004 she founded the Coral Futures Institute in Mombasa."
    >>> placed_for_who("Who founded the institute?", s, s.index("Mombasa")), placed_for_who("Where was it founded?", s, s.index("Mombasa"))
    (True, False)
    """
    return bool(_WHO.match(question)) and bool(_AT_A_PLACE.search(sentence[max(0, start - 8) : start]))


_WEEKDAY_ALONE = re.compile(rf"{WEEKDAYS}(?:\s+(?:morning|afternoon|evening|night))?")
_DATE_AFTER = re.compile(rf",?\s+(?:the\s+)?(?:{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"
                         rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\b(?:,?\s+\d{{4}}\b)?)")


_DAY_RANGE_NEXT = re.compile(rf"s?\s*(?:to|through|-|–|and|&)\s*{WEEKDAYS}s?\b")


def day_range(sentence: str, start: int, end: int) -> int:
    """The end of a span that is one weekday of a range or pair the sentence goes on with: "Wednesday"
    becomes "Wednesday to Sunday", "Tuesdays" "Tuesdays and Thursdays" (users' museum guide and club
    FAQ: "Which days is the museum open in winter?"). No dev-half or train.json gold weekday stands
    before "to", "and" or a dash and another.

    >>> s = "From October to March it is open Wednesday to Sunday."
    >>> s[s.index("Wednesday"):day_range(s, s.index("Wednesday"), s.index(" to Sunday"))]
    'Wednesday to Sunday'
    """
    if not _WEEKDAY_ALONE.fullmatch(sentence[start:end].rstrip("s")) and not _WEEKDAY_ALONE.fullmatch(sentence[start:end]):
        return end
    m = _DAY_RANGE_NEXT.match(sentence, end)
    return m.end() if m else end


def whole_day(question: str, sentence: str, start: int, end: int) -> int:
    """The end of a when-answer that names a weekday the sentence dates right after it: "Saturday"
    becomes "Saturday, April 26" (a user's minutes: "When is the spring planting day?"). Not for
    "what day of the week", the only questions whose SQuAD gold answer is such a weekday alone.

    >>> s = "Spring planting day is Saturday, April 26, at the garden."
    >>> s[s.index("Saturday"):whole_day("When is planting day?", s, s.index("Saturday"), s.index(", April"))]
    'Saturday, April 26'
    """
    if not re.match(r"^\W*when\b", question, re.I) or not _WEEKDAY_ALONE.fullmatch(sentence[start:end]):
        return end
    m = _DATE_AFTER.match(sentence, end)
    return m.end() if m else end


_DAY_BEFORE = re.compile(rf"\b{WEEKDAYS}s?(?:\s+(?:morning|afternoon|evening))?\s+at\s+$")


def day_before(question: str, sentence: str, start: int, end: int) -> int:
    """The start of a when-answer that is a time of day the sentence dates by the weekday right before
    it: "11:00" becomes "Wednesday at 11:00" (a user's SOP: "When is chemical waste collected?" of
    "… every Wednesday at 11:00"). No dev-half or train.json gold time of day stands after a weekday.

    >>> s = "Waste is collected every Wednesday at 11:00 from Room C3.04."
    >>> s[day_before("When is waste collected?", s, s.index("11:00"), s.index(" from")):s.index(" from")]
    'Wednesday at 11:00'
    """
    if not re.match(r"^\W*when\b", question, re.I) or not _CLOCK_TIME.fullmatch(sentence[start:end]):
        return start
    m = _DAY_BEFORE.search(sentence, 0, start)
    return m.start() if m and m.end() == start else start


#: "What time does the flight leave?", not "what time of year" / "what time period"
_WHAT_TIME = re.compile(r"^\W*(?:at\s+)?what\s+time\b(?!\s+(?:of|period|frame|span|zone|scale))", re.I)
_RELATIVE_TIME = re.compile(r"^\W*(?:about\s+|at\s+least\s+)?\d+\s*(?:minutes?|mins?|hours?|hrs?)\s+(?:before|after|prior|ahead)\b", re.I)
#: a calendar day and no time of it: "Tuesday 9 December", "March 3" (a user's newsletter gave one for "what time")
_CALENDAR_DAY = re.compile(rf"^\W*(?:on\s+)?(?:{WEEKDAYS},?\s+)?(?:{MONTHS}\s+\d{{1,2}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS})\b[^:]*$", re.I)
_CLOCK = re.compile(r"\d|\b(?:noon|midnight|midday|dawn|dusk|sunrise|sunset|morning|afternoon|evening|night|time)\b", re.I)
_ASKS_EMAIL = re.compile(r"\b(?:what|which)\b[^?]*\be-?mail\s+address", re.I)


#: a place's address asked for ("the address of the museum", "its address"), not an IP's, nor the verb
_ASKS_ADDRESS = re.compile(r"^\W*(?:what|which)(?:\s+(?:is|was)\s+(?:the|its|their|his|her|your|our|(?:the\s+)?[\w’'-]+[’']s))?\s+"
                           r"(?:postal\s+|street\s+|home\s+|office\s+|mailing\s+|full\s+)?address\b", re.I)


def not_the_contact_asked(question: str, span: str) -> bool:
    """A phone number asked for and no phone number given (under six digits: "17", a parking space),
    or an e-mail address asked for and none given ("Priya Raman"); from a user's documents.

    >>> not_the_contact_asked("What is the tenants' phone number?", "17"), not_the_contact_asked("What is her phone number?", "+47 32 21 45 00")
    (True, False)
    >>> not_the_contact_asked("What is the office's phone number?", "Strandveien 44, 1366")
    True
    >>> not_the_contact_asked("What is the phone number of the night porter?", "22:00 to 07:00")
    True
    >>> not_the_contact_asked("What is the agent's email address?", "Priya Raman"), not_the_contact_asked("Who sent the email?", "Ann")
    (True, False)
    >>> not_the_contact_asked("What is the address of the museum?", "1093377"), not_the_contact_asked("What is its address?", "12 Market Square")
    (True, False)
    >>> not_the_contact_asked("What is the address of the museum?", "visit@museum.example")
    True
    """
    if _ASKS_EMAIL.search(question):
        return "@" not in span
    if _ASKS_ADDRESS.search(question) and not _ASKS_EMAIL.search(question):
        # a street has a name: "number 1093377" is a charity's (a user's museum guide), and an e-mail no street
        return not re.search(r"\b[A-ZÀ-Þ][^\W\d_]", span) or bool(re.search(r"@|://|\bwww\.", span))
    if _ASKS_PHONE.search(question) and re.search(r"\b(?:what|which)\b", question, re.I):
        digits = len(re.findall(r"\d", span))  # not "17" (a parking space), nor "Strandveien 44, 1366" (an address)
        # nor "22:00 to 07:00" (a night porter's hours)
        return digits < 6 or len(re.findall(r"[^\W\d_]", span)) > digits or bool(re.search(r"\b\d{1,2}:\d\d\b", span))
    return False


_HOW_MUCH = re.compile(r"^(?!.*\bhow much (?:more|less|time|\w+er)\b).*\bhow much\b", re.I)  # not "how much older"
_BARE_NUMBER = re.compile(r"\d[\d,.]*")
#: what makes a number an amount: a currency before it, a unit or percent after it ("in", "and", "to" are no units)
_UNIT_NEXT = re.compile(r"\s?(?:%|percent|per\b|(?!(?:in|and|or|to)\b)[a-zA-Zµ°]+\b)")


def unitless_amount(question: str, sentence: str, start: int, end: int) -> bool:
    """Is the span a bare number, with no currency before it and no unit after it, for a "how much"
    question? "6" of "Serves 6." does not say how much salt goes into a stew (a user's recipes). On
    train.json and the dev half 1 of 1,151 "how much" gold answers is set aside ("16,000 in early
    2012", rials to the dollar).

    >>> unitless_amount("How much salt goes in?", "Serves 6.", 7, 8), unitless_amount("How much flour?", "Add 200 g flour.", 4, 7)
    (True, False)
    >>> unitless_amount("How much did it cost?", "It cost $35.", 9, 11), unitless_amount("How many people?", "Serves 6.", 7, 8)
    (False, False)
    >>> unitless_amount("How much did the viaduct cost?", "A 1:50 scale model of the viaduct.", 4, 6)
    True
    """
    if not _HOW_MUCH.match(question) or not _BARE_NUMBER.fullmatch(sentence[start:end]):
        return False
    if re.search(r"\d\s*:\s*$", sentence[:start]):  # "50" of a "1:50 scale model" (a user's museum guide), of "10:50"
        return True
    return sentence[start - 1 : start] not in ("$", "€", "£", "¥") and not _UNIT_NEXT.match(sentence, end)


def counted_after_in_other_units(question: str, sentence: str, start: int, end: int) -> bool:
    """A number span that the sentence counts in a unit the question does not: "90" of "Replacement
    filter cartridges: 90 days" does not say what a cartridge costs (a user's warranty), nor "21" of
    "Books: 21 days" how many books one may borrow (a user's library). :func:`costs_in_other_units`
    and :func:`counts_in_units` on the span with the word after it (on SQuAD, none of the 4,565 "how
    many" questions counting no time has a gold answer followed by a unit of time).

    >>> s = "Replacement filter cartridges: 90 days."
    >>> counted_after_in_other_units("How much does a cartridge cost?", s, 31, 33), counted_after_in_other_units("How long?", s, 31, 33)
    (True, False)
    >>> counted_after_in_other_units("How many cartridges are there?", s, 31, 33)
    True
    >>> counted_after_in_other_units("How many items per booking?", "$35 per item, at most four", 1, 3)
    True
    """
    after = re.match(r"\s*[^\W\d_]+", sentence[end:])
    before = sentence[start - 1] if start and sentence[start - 1] in "$€£¥₹¢" else ""  # "35" of "$35 per item"
    if after is None and not before:
        return False
    text = before + sentence[start:end] + (after.group() if after else "")
    return costs_in_other_units(question, text) or counts_in_units(question, text)


#: an amount and whom or what it is for: "GBP 120 for a student", "$69 for the Nimbus 600"
_AMOUNT_FOR = re.compile(r"((?:[$€£¥]|\b(?:GBP|EUR|USD|CHF)\s?)\d[\d,.]*|\b\d[\d,.]*\s?(?:%|percent\b|(?:GBP|EUR|USD|euros?|dollars?|pounds?)\b))"
                         r"(?:\s+(?:per|a|each)\s+[\w-]+)?\s+for\s+(?:a|an|the|each|every)?\s*([\w-]+(?:\s+[\w-]+)?)")


@functools.lru_cache(maxsize=8192)
def _amounts_for(sentence: str) -> tuple[re.Match[str], ...]:
    """``sentence``'s amounts "for" something (:data:`_AMOUNT_FOR`), cached: every span read in it asks."""
    return tuple(_AMOUNT_FOR.finditer(sentence))


def paired_amount(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A span on one of a sentence's amounts "for" something, moved to the amount for what the question
    names: "The early-bird fee is GBP 290 for a full delegate and GBP 120 for a student." answers "How
    much is the early-bird fee for students?" with "GBP 120" (a user's programme: the reader took the
    first). Unchanged when the question names what the span's amount is for, or no other's.

    >>> s = "The early-bird fee is GBP 290 for a full delegate and GBP 120 for a student."
    >>> s[slice(*paired_amount("How much is the early-bird fee for students?", s, s.index("GBP 290"), s.index("GBP 290") + 7))]
    'GBP 120'
    >>> s[slice(*paired_amount("How much is the fee for a full delegate?", s, s.index("GBP 290"), s.index("GBP 290") + 7))]
    'GBP 290'
    """
    pairs = _amounts_for(sentence)
    if len(pairs) < 2:
        return start, end
    asked = set(content_terms(question))

    def names(m: re.Match[str]) -> bool:  # "students" names "a student" (a word's beginning, as labels.shares)
        return any(t.startswith(q) or q.startswith(t) for t in content_terms(m.group(2)) for q in asked if min(len(t), len(q)) >= 3)

    here = next((m for m in pairs if m.start(1) < end and start < m.end(1)), None)
    if here is None or names(here):
        return start, end
    named = [m for m in pairs if m is not here and names(m)]
    return (named[0].start(1), named[0].end(1)) if len(named) == 1 else (start, end)
