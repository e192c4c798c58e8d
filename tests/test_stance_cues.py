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


def test_verdict_on_a_reported_view_is_a_feature_of_the_learned_layer(analyzer):
    """"a view we share" / "we disagree" after a reported view: the rules still say mention,
    the cue is there for the learned layer (nlp.stance_model) to weigh."""
    text = "Some States argue that sovereignty is a primary rule, a view we share."
    assert "verdict/we-share-the-view" in cue_ids(analyzer, text)
    assert "verdict/we-disagree" in cue_ids(analyzer, "Others say the Charter does not apply; we respectfully disagree.")
    assert "verdict/we-do-not-share" in cue_ids(analyzer, "That reading of the Charter, we do not share.")
    assert stances(analyzer, text)["law.sovereignty-rule"] == "mention"


def test_procedural_passive_marks_meeting_talk(analyzer):
    text = "The question of data as an object was discussed at the expert meeting."
    assert "procedural/was-discussed" in cue_ids(analyzer, text)
    assert stances(analyzer, text).get("law.data-as-object") == "mention"
