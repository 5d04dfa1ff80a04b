"""What a price is counted in: a question asking what something costs is answered by an amount of
money, never by a length, a duration or a material ("38 m span", "600 litres", "cast and wrought iron"
in users' documents). Rules over the span, no model; part of :func:`qa.answer.fit.wrong_kind`.
"""

from __future__ import annotations

import re

#: a question asking what something costs: not "how much time", nor "how much more/less" (a share)
_COST = re.compile(r"^(?!.*\bhow much (?:time|more|less)\b)(?:.*\bhow much\b.*\b(?:cost|costs|charge[sd]?|pay|paid|price[sd]?"
                   r"|fees?|fines?|spen[dt]|worth|earn(?:s|ed)?|salary|bounty|sell|sold|buy|bought)\b"
                   r"|.*\bwhat (?:is|was|are|were|will) the (?:\w+ )?(?:price|cost|fee|fine|charge|salary|rent|deposit|wage|premium|fare)s?\b)", re.I)
#: units no price is counted in
_NOT_MONEY = re.compile(r"\b(?:minutes?|mins|hours?|hrs|days?|weeks?|months?|years?|seconds?|litres?|liters?|ml|millilit\w+"
                        r"|gallons?|kg|kilograms?|grams?|km|kilometres?|kilometers?|miles?|metres?|meters?|feet|ft|inches?"
                        r"|degrees?)\b|°\s*[CF]\b|\d\s?m\b(?!\.)|\b\d+:\d+\b", re.I)  # "38 m span", a model's "1:50" scale
_MONEY = re.compile(r"[$€£¥₹¢%]|\b(?:dollars?|euros?|pounds?|cents?|yen|usd|eur|gbp|pesos?|francs?|marks?|rupees?|yuan"
                    r"|won|bolivars?|shillings?|pence|guineas?|dirhams?|free|nothing|percent|per ?cent)\b", re.I)


def costs_in_other_units(question: str, span: str) -> bool:
    """A span in units no price is counted in, for a question asking what something costs: "600
    litres" or "between 15 minutes and one hour" do not answer "How much does an infusion cost?" (a
    user's leaflet). A money or percent mark keeps it ("£2 per week"). On SQuAD's 273 cost questions
    (dev half and train.json) no gold answer is set aside.

    >>> costs_in_other_units("How much does a cartridge cost?", "600 litres")
    True
    >>> costs_in_other_units("How much does a cartridge cost?", "$35"), costs_in_other_units("How much is the fine?", "£2 per week")
    (False, False)
    >>> costs_in_other_units("How much time do they spend?", "15 minutes")
    False
    >>> costs_in_other_units("What did the footbridge cost to build?", "cast and wrought iron")
    True
    >>> costs_in_other_units("What will the new rent be from 1 September?", "12 months")
    True
    """
    if _PRICED.match(question) and not A_NUMBER.search(span) and not _MONEY.search(span):
        return True  # "What did the footbridge cost to build?" is no "cast and wrought iron" (a user's history)
    return bool(_COST.match(question)) and bool(_NOT_MONEY.search(span)) and not _MONEY.search(span)


#: a question asking a price: "How much does it cost?", "What did the footbridge cost to build?" (1 of SQuAD's 67
#: such questions, "What did Kerry think cost him the race …?", has no number in its gold answer: "cost" must end it)
_PRICED = re.compile(r"^\W*(?:how much\b.*\b(?:cost|costs|price[sd]?)|what did\b.*\bcost(?:\s+to\s+\w+)?)\W*$", re.I)
A_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
                       r"sixty|seventy|eighty|ninety|hundred|thousand|million|billion|trillion|half|quarter|dozen|double|twice)\b", re.I)
