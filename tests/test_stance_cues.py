"""Stance cue families added from the cross-validation error list (nlp.stance_tune); sentences in our own words."""

from __future__ import annotations

import pytest

from nlp.analyzer import Analyzer


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer(learned=False)


def cue_ids(analyzer, text: str) -> set[str]:
    doc = analyzer.nlp(text)
    return {span.id_ for span in doc.spans["cues"]}


def stances(analyzer, text: str) -> dict[str, str]:
    (sentence,) = analyzer.analyse(text)
    return {found.norm_id: found.stance for found in sentence.stances}


@pytest.mark.parametrize(
    ("text", "cue", "norm", "stance"),
    [
        # "not persuaded / not convinced that" opposes what follows (before: only "... sufficient")
        ("We are not persuaded that a Programme of Action would add anything to the working group.",
         "oppose/not-persuaded", "debate.programme-of-action", "oppose"),
        ("Our delegation remains sceptical that confidence-building measures reduce escalation.",
         "oppose/sceptical", "debate.confidence-building", "oppose"),
        # reported views with a qualified group ("legal experts") or an adverb ("sometimes") are mentions
        ("Several legal scholars have suggested that due diligence is binding.",
         "reported/group-with-adjectives", "law.due-diligence-binding", "mention"),
        ("It is often claimed that countermeasures are available against cyber operations.",
         "reported/it-is-sometimes-said", "law.countermeasures", "mention"),
        # a document or meeting reference is evidence of a mention, not a position
        ("Paragraph 9 of the draft deals with collective countermeasures.",
         "procedural/document", "law.collective-countermeasures", "mention"),
    ],
)
def test_new_cues_match_and_decide(analyzer, text, cue, norm, stance):
    assert cue in cue_ids(analyzer, text)
    assert stances(analyzer, text).get(norm) == stance


@pytest.mark.parametrize(
    ("text", "norm", "stance"),
    [
        ("Some States argue that sovereignty is a primary rule, a view we share.", "law.sovereignty-rule", "support"),
        ("It is sometimes said that a cyber operation could never amount to an armed attack; we respectfully disagree.",
         "law.armed-attack", "support"),
        ("Several delegations have claimed that countermeasures are lawful in cyberspace; we do not agree.",
         "law.countermeasures", "oppose"),
        # without a verdict of the speaker a reported view stays a mention
        ("Several delegations have claimed that countermeasures are lawful in cyberspace.",
         "law.countermeasures", "mention"),
    ],
)
def test_a_verdict_on_a_reported_view_is_the_speakers_stance(analyzer, text, norm, stance):
    assert cue_ids(analyzer, text) & {"verdict/we-share-the-view", "verdict/we-disagree", "verdict/we-do-not-share"} \
        or stance == "mention"
    assert stances(analyzer, text).get(norm) == stance


def test_procedural_passive_marks_meeting_talk(analyzer):
    text = "The question of data as an object was discussed at the expert meeting."
    assert "procedural/was-discussed" in cue_ids(analyzer, text)
    assert stances(analyzer, text).get("law.data-as-object") == "mention"


@pytest.mark.parametrize(
    ("text", "norm", "stance"),
    [
        # "not only A but also B" asserts both: its "but" does not end the clause
        ("Due diligence is not only good practice but also a legal obligation binding on every State.",
         "law.due-diligence-binding", "support"),
        # "only to" inside "not only to" is no condition
        ("The Charter applies not only to wars fought with missiles but also to hostile acts through networks.",
         "law.applies", "support"),
        # a missing basis in practice opposes the rule it would found
        ("There is insufficient State practice to establish a binding due diligence obligation.",
         "law.due-diligence-binding", "oppose"),
    ],
)
def test_additive_frames_and_missing_basis(analyzer, text, norm, stance):
    assert stances(analyzer, text).get(norm) == stance


def test_a_real_condition_still_qualifies(analyzer):
    text = "The Charter applies only to hostile acts that cause physical damage."
    assert stances(analyzer, text).get("law.applies") == "qualified"


def test_the_learned_layer_keeps_a_verdict_on_a_reported_view():
    """The verdict composes two polarities (the view's and the speaker's); the learned
    layer sees only cue presence, so it must not overrule the composed stance."""
    learned = Analyzer()
    text = "Some argue that sovereignty is only a principle; we disagree, and treat its breach as wrongful."
    (sentence,) = learned.analyse(text)
    found = {s.norm_id: s for s in sentence.stances}
    assert found["law.sovereignty-rule"].stance == "support"
    assert found["law.sovereignty-rule"].method.startswith("rules")


def test_a_negation_after_the_cue_and_the_norm_does_not_flip_them(analyzer):
    text = "International law applies to cyber operations in a domain where no single State sets the rules."
    assert stances(analyzer, text).get("law.applies") == "support"
    assert stances(analyzer, "International law does not apply to cyber operations.").get("law.applies") == "oppose"


@pytest.mark.parametrize(
    ("text", "norm", "stance"),
    [
        # the speaker's verdict on "the proposition that X" decides, whatever X's own polarity
        ("We cannot accept the proposition that the law of armed conflict governs cyberspace.",
         "law.ihl-applies", "oppose"),
        ("We reject the notion that cyber operations can never constitute an armed attack.",
         "law.armed-attack", "support"),
        ("We accept the proposition that sovereignty is a rule whose breach is wrongful.",
         "law.sovereignty-rule", "support"),
        # without a verdict the proposition is only talked about
        ("The notion that sovereignty is a rule is gaining ground among States.", "law.sovereignty-rule", "mention"),
        # "rather than a mere principle" is no "merely a principle"
        ("Sovereignty is a rule rather than a mere principle.", "law.sovereignty-rule", "support"),
        ("Sovereignty is merely a principle.", "law.sovereignty-rule", "oppose"),
    ],
)
def test_verdicts_on_a_named_proposition(analyzer, text, norm, stance):
    assert stances(analyzer, text).get(norm) == stance


@pytest.mark.parametrize(
    ("text", "cue", "norm", "stance"),
    [
        # a leaning asserts the proposition tentatively: qualified, not support
        ("Our delegation is inclined towards treating due diligence as a binding obligation.",
         "leaning/inclined-to", "law.due-diligence-binding", "qualified"),
        ("Our preliminary assessment is that collective countermeasures are permissible.",
         "leaning/preliminary-view", "law.collective-countermeasures", "qualified"),
        # "do not exclude" holds its negation: without the leaning cue this would read as oppose
        ("We do not exclude that a cyber operation could amount to an armed attack.",
         "leaning/not-excluded", "law.armed-attack", "qualified"),
        ("It cannot be ruled out that remote operations breach the prohibition of intervention.",
         "leaning/not-ruled-out", "law.non-intervention", "qualified"),
        # reserving one's position is no position yet
        ("We reserve our position on whether sovereignty is a stand-alone rule.",
         "undecided/reserve-position", "law.sovereignty-rule", "mention"),
        ("We have not yet reached a final view on the binding character of due diligence.",
         "undecided/no-final-view", "law.due-diligence-binding", "mention"),
        ("On collective countermeasures our delegation takes no firm position at present.",
         "undecided/no-view", "law.collective-countermeasures", "mention"),
        # a negated "vacuum" or "lapse" is a double negation: the law applies
        ("Cyberspace is no legal vacuum: international law governs what States do there.",
         "neg/leaves-a-vacuum", "law.applies", "support"),
        ("International law applies to cyberspace and does not lapse when States act through networks.",
         "neg/leaves-a-vacuum", "law.applies", "support"),
    ],
)
def test_leanings_reservations_and_negated_gaps(analyzer, text, cue, norm, stance):
    assert cue in cue_ids(analyzer, text)
    assert stances(analyzer, text).get(norm) == stance


def test_the_ruler_spells_out_words_the_tokenizer_splits(analyzer):
    """spaCy splits "cannot" into "can" + "not" and "stand-alone" into three tokens: a
    pattern slot waiting for one such word would never match, so the loader spells it out."""
    from nlp.rules import CUE_PATTERNS, NORM_PATTERNS, read_patterns, ruler_patterns

    split = []
    for path in (CUE_PATTERNS, NORM_PATTERNS):
        for pattern in ruler_patterns(read_patterns(path)):
            if not isinstance(pattern["pattern"], list):
                continue
            for token in pattern["pattern"]:
                value = token.get("LOWER")
                words = value.get("IN", []) if isinstance(value, dict) else [value] if value else []
                split += [(pattern["id"], word) for word in words if len(analyzer.nlp.make_doc(word)) != 1]
    assert split == []
    assert "law.sovereignty-rule/principle-not-rule" in cue_ids(analyzer, "Sovereignty is not a self-standing rule.")


@pytest.mark.parametrize(
    ("text", "norm", "stance"),
    [
        # "no longer" withdraws a view: a negation, not the "no doubt" pseudo-cue
        ("We no longer regard due diligence as a binding obligation.", "law.due-diligence-binding", "oppose"),
        # "cannot be" denies the proposition; only "must not / should not" state a restraint
        ("Due diligence cannot be a binding obligation under current law.", "law.due-diligence-binding", "oppose"),
        # "ignore" and "lose" negate: "no ... ignore" and "do not lose" are double negations
        ("No State is free to ignore harmful operations launched from its territory once it knows of them.",
         "un13c", "support"),
        ("Human rights do not lose their force when they are exercised online.", "law.human-rights-applies", "support"),
        # "not merely political" denies the cue it holds; and calling the territory duty political
        # says nothing against the voluntary norm itself (un13c)
        ("A State that lets its territory be used against others breaches a legal obligation of due diligence, "
         "not merely a political commitment.", "law.due-diligence-binding", "support"),
        ("States should not knowingly allow their territory to be used for wrongful acts, a political "
         "commitment we honour in full.", "un13c", "support"),
        # a verdict that introduces a proposition cue with "that" governs it (before: the cue alone decided)
        ("We do not share the view that sovereignty is merely a principle.", "law.sovereignty-rule", "support"),
        ("We do not agree that due diligence is a mere voluntary expectation.", "law.due-diligence-binding", "support"),
        ("It cannot seriously be argued that sovereignty is merely a principle.", "law.sovereignty-rule", "support"),
        # a proposition reported in one clause and judged in the next
        ("Some argue that voluntary norms are enough; we disagree, because only binding commitments bring "
         "accountability.", "debate.new-treaty", "support"),
        # the verdict's own words are not the proposition's: judged once, not twice
        ("We cannot accept the proposition that sovereignty is a rule.", "law.sovereignty-rule", "oppose"),
        ("We do not share the view that existing law is not sufficient.", "debate.new-treaty", "oppose"),
        ("We agree that existing international law is sufficient.", "debate.new-treaty", "oppose"),
        # a question asked to deny asserts the opposite of what it asks
        ("How could a handful of code deprive a State of its freedom to choose its political system?",
         "law.non-intervention", "oppose"),
        ("Why should countermeasures be available to a State that acts as its own judge?",
         "law.countermeasures", "oppose"),
        # negated, it still expects "yes" (the negated-question rule)
        ("Are we to believe that a State whose power plants are destroyed has no right to self-defence?",
         "law.armed-attack", "support"),
        # a statement with "really" is no question
        ("We really do consider that countermeasures are available to injured States.",
         "law.countermeasures", "support"),
    ],
)
def test_withdrawals_verdicts_and_rhetorical_questions(analyzer, text, norm, stance):
    assert stances(analyzer, text).get(norm) == stance


def test_only_for_and_only_under_restrict_a_support(analyzer):
    text = "We recognise a binding duty of due diligence only for operations causing physical damage."
    assert "cond/only" in cue_ids(analyzer, text)
    assert stances(analyzer, text).get("law.due-diligence-binding") == "qualified"
