"""Follow-ups resolved from typed turns (qa.conversation): no engine, no model, no rendered text."""

from __future__ import annotations

import pytest

from qa.conversation import Turn, names_in, needs_context, resolve, rewrite, rewrite_text
from qa.types import Answer, Citation


def answered(question: str, short: str | None, searched: str = "") -> Turn:
    """The turn an engine answer closes: ``short`` is its short answer (None: a quote-only answer)."""
    cite = Citation(n=1, doc_id="a.txt", title="A", start=0, end=10, quote="0123456789")
    a = Answer(question=question, text="…", short_answer=short, citations=(cite,), searched_question=searched or question)
    return Turn.of(a)


def refused(question: str) -> Turn:
    return Turn.of(Answer(question=question, text="Not found in the documents.", refused=True))


SWORN_IN = answered("Who was sworn in as interim president?", "Delcy Rodríguez")
ORDERED = answered("Who ordered the operation that captured Maduro?", "Donald Trump")


def test_turn_of_an_answer_keeps_both_questions_and_the_answer():
    a = Answer(question="When was she sworn in?", text="…", short_answer="Monday", searched_question="When was Delcy Rodríguez sworn in?")
    t = Turn.of(a)
    assert (t.question, t.searched_for, t.answer) == ("When was she sworn in?", "When was Delcy Rodríguez sworn in?", a)
    assert t.short_answer == "Monday"
    d = t.to_dict()
    assert d["question"] == "When was she sworn in?" and d["searched_for"] == "When was Delcy Rodríguez sworn in?"
    assert d["answer"]["short_answer"] == "Monday"
    with pytest.raises(AttributeError):
        t.question = "changed"  # frozen: turns are shared between threads and requests


def test_an_answer_without_searched_question_counts_as_searched_for_itself():
    t = Turn.of(Answer(question="Who won?", text="…"))
    assert t.searched_for == "Who won?"


@pytest.mark.parametrize(
    "question, previous, expected",
    [
        ("When was she sworn in?", SWORN_IN, "When was Delcy Rodríguez sworn in?"),
        ("What did he say about it?", ORDERED, "What did Donald Trump say about the operation that captured Maduro?"),
        ("What was his reason?", ORDERED, "What was Donald Trump’s reason?"),
        ("Who swore her in?", SWORN_IN, "Who swore Delcy Rodríguez in?"),
        ("What did her government decide?", SWORN_IN, "What did Delcy Rodríguez’s government decide?"),
        ("What did he do?", answered("What did Diosdado Cabello do?", None), "What did Diosdado Cabello do?"),
        ("What happened after that?", SWORN_IN, "What happened after that (sworn in as interim president)?"),
        ("Who won the World Cup?", SWORN_IN, "Who won the World Cup?"),  # nothing refers back
        ("Is it true that Maduro fled?", None, "Is it true that Maduro fled?"),  # no previous turn
        # "it" without a noun phrase to stand for: the topic is added in brackets
        ("When did it happen?", SWORN_IN, "When did it happen (sworn in as interim president)?"),
        # users' chats: "it" is the club a "which club" question was answered with, and the thing a price is of
        ("Who leads it?", answered("Which club runs on Wednesday?", "Coding Club"), "Who leads Coding Club?"),
        ("How much does it weigh?", answered("What is the price of the E-500?", "€599.00"), "How much does the E-500 weigh?"),
        ("How much does it cost?", answered("Who leads Coding Club?", "Mr Tom Fletcher"), "How much does Coding Club cost?"),
        ("Who signed it?", answered("Which law governs the agreement?", "Federal Republic of Germany"), "Who signed the agreement?"),
    ],
)
def test_rewrite_resolves_pronouns_from_the_previous_turn(question, previous, expected):
    assert rewrite(question, previous) == expected


def test_a_refused_turn_offers_the_name_in_its_question():
    # no short answer to stand for "he": the first name in the question searched for
    assert rewrite("What did he say?", refused("Why was Nicolás Maduro captured?")) == "What did Nicolás Maduro say?"


def test_a_short_answer_that_is_no_name_is_not_put_for_a_person():
    prev = answered("How many troops were deployed by Maduro?", "15,000")
    assert rewrite("Where did he go?", prev) == "Where did Maduro go?"


def test_the_searched_question_is_what_a_follow_up_refers_to():
    """A follow-up of a follow-up: the last turn was itself resolved, and its searched question counts."""
    second = answered("When was she sworn in?", "Monday", searched="When was Delcy Rodríguez sworn in?")
    assert resolve("Who swore her in?", [SWORN_IN, second]) == "Who swore Delcy Rodríguez in?"


def test_resolve_uses_the_last_turn_and_no_history_changes_nothing():
    assert resolve("When was she sworn in?", []) == "When was she sworn in?"
    assert resolve("What did he say about it?", [SWORN_IN, ORDERED]).startswith("What did Donald Trump say")
    assert rewrite("When was she sworn in?", None) == "When was she sworn in?"


def test_rewrite_text_is_the_deterministic_core():
    assert rewrite_text("When was she sworn in?", "Who was sworn in?", "Delcy Rodríguez") == "When was Delcy Rodríguez sworn in?"
    assert rewrite_text("", "Who was sworn in?", "Delcy Rodríguez") == ""
    assert rewrite_text("When was she sworn in?", "", None) == "When was she sworn in?"  # nothing to put for "she"


def test_needs_context_and_names():
    assert needs_context("When was she sworn in?") and needs_context("What caused that?")
    assert not needs_context("Who was sworn in as interim president?")
    assert not needs_context("Is that report true?")  # "that" as a determiner
    assert names_in("Which U.S. president ordered the operation that captured Nicolás Maduro?") == ["Nicolás Maduro", "U.S."]
    assert names_in("Which U.S. president ordered the raid on Nicolás Maduro?") == ["Nicolás Maduro", "U.S."]


# Follow-up chains a user of the seeds asks (issue 14): people, groups, things, places; a referent is
# taken only when it is of the pronoun’s kind, and looked for among the last three turns.
KILLED = answered("How many Venezuelan security personnel were killed?", "32")
PLANT = answered("What damaged the Tuy III plant?", "a drone strike")
CAPTURED = answered("Who captured Maduro?", "U.S. special forces")


@pytest.mark.parametrize(
    "question, history, expected",
    [
        # plurals: what "how many" counted, or a group in the short answer; never the number
        ("Who killed them?", [KILLED], "Who killed Venezuelan security personnel?"),
        ("When did they arrive?", [CAPTURED], "When did U.S. special forces arrive?"),
        ("Where were their bases?", [CAPTURED], "Where were U.S. special forces’ bases?"),
        # a person: not a thing with a name ("the Tuy III plant"), but the last person named before it
        ("What did she say?", [SWORN_IN, PLANT], "What did Delcy Rodríguez say?"),
        ("What did she say?", [PLANT], "What did she say?"),  # nobody to stand for "she": asked as it is
        # "he" after a group answer: the person in the question, not the group
        ("Where was he taken?", [CAPTURED], "Where was Maduro taken?"),
        # things and places: the previous question's noun phrase
        ("Where is it?", [PLANT], "Where is the Tuy III plant?"),
        ("Who ordered it?", [ORDERED], "Who ordered the operation that captured Maduro?"),
        # a refused turn gives no answer to inherit; the name in its question still counts
        ("Where is he now?", [refused("Why was Nicolás Maduro captured?")], "Where is Nicolás Maduro now?"),
        # a wrong-kind short answer (a number, an office) is never put for a person
        ("Who appointed her?", [SWORN_IN, answered("What office did she take?", "interim president",
                                                   searched="What office did Delcy Rodríguez take?")],
         "Who appointed Delcy Rodríguez?"),
    ],
)
def test_follow_up_chains_resolve_to_a_referent_of_the_right_kind(question, history, expected):
    assert resolve(question, history) == expected


def test_only_the_last_three_turns_are_looked_at():
    filler = [PLANT, PLANT, PLANT]
    assert resolve("What did she say?", [SWORN_IN, *filler]) == "What did she say?"
    assert resolve("What did she say?", [SWORN_IN, *filler[:2]]) == "What did Delcy Rodríguez say?"


def test_a_follow_up_after_three_turns_names_who_the_latest_who_question_answered():
    """Found by a user: "Where did he watch it?" after "Who ordered the operation?" (answered "President
    Donald Trump", a title before the name) searched for the person of the turn before (Cilia Flores)."""
    captured = answered("Who was captured together with Nicolás Maduro?", "Cilia Flores")
    ordered = answered("Who ordered the operation?", "President Donald Trump")
    assert resolve("Where did he watch it?", [captured, ordered]) == "Where did Donald Trump watch the operation?"
    assert resolve("Where did he watch it?", [ordered]) == "Where did Donald Trump watch the operation?"


def test_the_answer_to_where_or_when_is_never_put_for_a_person():
    """"he" after "Where did Donald Trump watch the operation?" → "Mar-a-Lago" is still Donald Trump,
    and "it" is the operation, not "Donald Trump watch the operation"."""
    where = answered("Where did Donald Trump watch the operation?", "Mar-a-Lago")
    assert resolve("What did he say about it?", [where]) == "What did Donald Trump say about the operation?"
    when = answered("When was Delcy Rodríguez sworn in?", "Monday")
    assert resolve("What did she promise?", [when]) == "What did Delcy Rodríguez promise?"


@pytest.mark.parametrize("short, person", [
    ("President Donald Trump", "Donald Trump"),
    ("Flores; Cilia Flores", "Cilia Flores"),
    ("Venezuelan President Nicolás Maduro", "Venezuelan President Nicolás Maduro"),  # a title inside a name stays
    ("US military and federal law enforcement", None),
    ("Nicolás Maduro and Cilia Flores", None),  # two people: "he" cannot tell which
    ("4,000 troops", None),
])
def test_the_person_a_short_answer_names(short, person):
    turn = answered("Who was it?", short)
    expected = f"What did {person} say?" if person else "What did he say?"
    assert resolve("What did he say?", [turn]) == expected


def test_it_stands_for_the_noun_phrase_without_the_words_the_follow_up_repeats():
    """Found by a user: "How fast is it retreating?" after "How fast is the glacier retreating?" was
    searched as "How fast is the glacier retreating retreating?"."""
    glacier = answered("How fast is the glacier retreating?", "38 metres per year")
    assert resolve("How fast is it retreating?", [glacier]) == "How fast is the glacier retreating?"
    assert resolve("Why is it retreating so fast?", [glacier]) == "Why is the glacier retreating so fast?"


def test_a_follow_up_that_names_its_own_subject_gets_no_bracketed_topic():
    """Found by a user: "Where did Trump watch it?" after "When was she sworn in?" was searched as
    "Where did Trump watch it (Delcy Rodríguez sworn in)?" and refused, though it answers as asked."""
    when = answered("When was she sworn in?", None, searched="When was Delcy Rodríguez sworn in?")
    assert resolve("Where did Trump watch it?", [SWORN_IN, when]) == "Where did Trump watch it?"
    assert resolve("When did it happen?", [SWORN_IN]) == "When did it happen (sworn in as interim president)?"


def test_a_him_is_never_the_person_the_user_called_she():
    """The name a "she" was resolved to is a "she" for the rest of the conversation: "Who was with
    him?" must not become "Who was with Delcy Rodríguez?"; the man named in the latest question is meant."""
    when = answered("When was she sworn in?", None, searched="When was Delcy Rodríguez sworn in?")
    watch = answered("Where did Trump watch it?", "Mar-a-Lago",
                     searched="Where did Trump watch it (Delcy Rodríguez sworn in)?")  # an older rewrite's brackets
    assert resolve("Who was with him?", [SWORN_IN, when, watch]) == "Who was with Trump?"
    # only a "she" is excluded from "he": with nothing else named, "he" stays as asked
    assert resolve("What did he say?", [SWORN_IN, when]) == "What did he say?"
    assert resolve("What did she say?", [SWORN_IN, when]) == "What did Delcy Rodríguez say?"


STRIKE = answered("When did the United States launch the military strike?", "January 3, 2026")


@pytest.mark.parametrize(
    "question, history, expected",
    [
        # a follow-up that is only a question word asks the previous question again with it
        ("and where?", [STRIKE], "Where did the United States launch the military strike?"),
        ("Why?", [STRIKE], "Why did the United States launch the military strike?"),
        ("Where exactly?", [STRIKE], "Where did the United States launch the military strike?"),
        ("When?", [ORDERED], "When (the operation that captured Maduro)?"),
        # one ellipsis after another keeps the topic (a user's third turn "Where?" lost it and was refused)
        ("Where?", [ORDERED, answered("When?", None, searched="When (the operation that captured Maduro)?")],
         "Where (the operation that captured Maduro)?"),
        # "it" is the thing the previous question is about, not the country that did it
        ("Who ordered it?", [STRIKE], "Who ordered the military strike?"),
        # a group word modifying a noun is no group: "they" has nobody to stand for
        ("What did they do?", [STRIKE], "What did they do?"),
        # a bracketed topic of an unresolved "it" is never nested
        ("Who led it?", [answered("Who ordered it?", None, searched="Who ordered it (happened on January 6)?")],
         "Who led it?"),
    ],
)
def test_elliptical_follow_ups_and_topics(question, history, expected):
    """Found by user sessions: "and where?" was refused as naming nothing, "Who ordered it?" after the
    strike question searched for "the United States launch the military strike", "they" became
    "military", and brackets nested ("Who ordered it (and where)?", then "(ordered it (and where))")."""
    assert resolve(question, history) == expected


def test_only_a_who_question_lends_its_answer_to_a_pronoun_and_an_office_is_no_person():
    """Found by a user session: after "Who is Diosdado Cabello?" (→ "Interior Minister") "he" became
    "Interior"; after "What did she call them?" (→ "Narco-Terrorism Conspiracy") "she" became the
    charge; "and where?" after "Who was sworn in as interim president?" asked "Where was sworn in …"."""
    cabello = answered("Who is Diosdado Cabello?", "Interior Minister")
    assert resolve("What is he believed to control?", [cabello]) == "What is Diosdado Cabello believed to control?"
    charges = answered("Who announced charges against Maduro?", "Pamela Bondi")
    called = answered("What did she call them?", "Narco-Terrorism Conspiracy", searched="What did Pamela Bondi call them?")
    assert resolve("Who is she?", [charges, called]) == "Who is Pamela Bondi?"
    assert resolve("and where?", [SWORN_IN]) == "Where was Delcy Rodríguez sworn in as interim president?"


def test_it_is_the_subject_of_an_earlier_question_asked_with_did_not_the_rest_of_it():
    """Found by a user: "When will it launch?" after "How long did his prototype run in field
    testing?" (whose "his" was never resolved) was searched for as "When will his prototype run in
    field testing launch?"."""
    tested = answered("How long did his prototype run in field testing?", "1,200 hours")
    assert resolve("When will it launch?", [refused("Who is the CTO?"), tested]) == "When will the prototype launch?"
    storm = answered("When did the storm reach the coast?", "Tuesday")
    assert resolve("How strong was it?", [storm]) == "How strong was the storm?"
    # a name's phrase still gives way to the thing's ("the military strike", not "the United States")
    strike = answered("When did the United States launch the military strike?", "January 3, 2026")
    assert resolve("Who ordered it?", [strike]) == "Who ordered the military strike?"


@pytest.mark.parametrize("question, previous, expected", [
    # a user's chat: "and in Porto?" after the Leeds question was searched as it stood and answered "Rotterdam"
    ("and in Porto?", "What is the annual leave in Leeds?", "What is the annual leave in Porto?"),
    ("What about Leeds?", "Who runs the Porto office?", "Who runs the Leeds office?"),
    ("What about the CFO?", "Who is the CEO?", "Who is the CFO?"),
    ("and in Porto?", "What is the annual leave?", "What is the annual leave in Porto?"),
])
def test_a_follow_up_offering_another_name_asks_the_previous_question_for_it(question, previous, expected):
    assert resolve(question, [answered(previous, "25")]) == expected


@pytest.mark.parametrize("question, previous, expected", [
    # three users' chats: each follow-up below was searched as it stood, and refused or answered from anywhere
    ("And in week 10?", "How long is the long run in week 9?", "How long is the long run in week 10?"),
    ("And for 7 to 9 years?", "What is the dose for children aged 1 to 3 years?", "What is the dose for children aged 7 to 9 years?"),
    ("And during the 1947 flood?", "Who was mayor at the time of the 1852 flood?", "Who was mayor at the time of the 1947 flood?"),
    ("And in 1951?", "What was the population of Wrenford in 1901?", "What was the population of Wrenford in 1951?"),
    ("And for pre-existing conditions?", "What is the waiting period for maternity care?",
     "What is the waiting period for pre-existing conditions?"),
    ("What about physiotherapy?", "What is the co-pay for a specialist visit?", "What is the co-pay for physiotherapy?"),
    ("And the Business plan?", "What is the rate limit of the Pro plan?", "What is the rate limit of the Business plan?"),
    ("In which room?", "What time does Leo Fernandes speak?", "In which room does Leo Fernandes speak?"),
    ("And what is the price?", "How much is the ticket?", "And what is the price?"),  # a question of its own
    # two more users' chats: "On mixed recycling?", "… on weekdays at weekends?", "… on food purchases in staff
    # salaries?", "How much notice must the tenant give to the landlord?" were searched
    ("And mixed recycling?", "On which day is general waste collected?", "On which day is mixed recycling collected?"),
    ("And at weekends?", "What are the quiet hours on weekdays?", "What are the quiet hours at weekends?"),
    ("What about staff salaries?", "How much did the charity spend on food purchases in 2025?",
     "How much did the charity spend on staff salaries in 2025?"),
    ("And the landlord?", "How much notice must the tenant give to end the tenancy?",
     "How much notice must the landlord give to end the tenancy?"),
])
def test_a_follow_up_naming_only_what_changed_asks_the_previous_question_for_it(question, previous, expected):
    assert resolve(question, [answered(previous, "8 km")]) == expected


def test_by_when_asks_the_previous_question_again():
    """A user's chat: "By when?" after the action's owner was named was searched as it stood and refused."""
    assert resolve("By when?", [answered("Who must book the van's MOT?", "Tom Whitaker")]) == "By when must Tom Whitaker book the van's MOT?"


def test_she_is_never_an_event_or_an_organisation():
    """A user's chat: after "Who is the programme chair of NordDev Summit?" (answered with a span that
    ran on into the next clause), "What does she do on Day 2?" was searched for NordDev Summit."""
    chair = "Who is the programme chair of NordDev Summit?"
    assert resolve("What does she do on Day 2?", [answered(chair, "Mette Kjær")]) == "What does Mette Kjær do on Day 2?"
    assert "NordDev" not in resolve("What does she do on Day 2?", [answered(chair, "the programme committee")])


def test_a_person_named_with_where_they_are_from_and_a_counted_group_are_referents():
    """A user's chat: "Which university is she from?" after "Who gives the opening keynote?"
    (answered "Professor Ingrid Solberg of Nordvik University, Norway") and "How many of them were in
    the amber group?" after "How many participants completed the trial?" were searched as asked."""
    keynote = answered("Who gives the opening keynote?", "Professor Ingrid Solberg of Nordvik University, Norway")
    assert resolve("Which university is she from?", [keynote]) == "Which university is Professor Ingrid Solberg from?"
    trial = answered("How many participants completed the trial?", "148")
    assert resolve("How many of them were in the amber group?", [trial]) == "How many of the participants were in the amber group?"
    assert resolve("What did she say?", [answered("Who spoke?", "Ruth Callaghan and Leo Fernandes")]) == "What did she say?"
