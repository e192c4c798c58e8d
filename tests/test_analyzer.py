"""Sentence splitting, norm detection and the first stance rules (sentences in our own words)."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.analyzer import NLP_VERSION, Analyzer


@pytest.fixture(scope="module")
def analyzer():
    """The rules alone: these tests pin down what each rule does."""
    return Analyzer(learned=False)


@pytest.fixture(scope="module")
def learned():
    return Analyzer()


def stances(analyzer, text: str) -> dict[str, str]:
    (sentence,) = analyzer.analyse(text)
    return {found.norm_id: found.stance for found in sentence.stances}


@pytest.mark.parametrize(
    ("text", "norm", "stance"),
    [
        # implicit stances carried by proposition-specific cues
        ("Existing international law is sufficient, and there is no need for a new treaty.",
         "debate.new-treaty", "oppose"),
        ("Sovereignty is a principle from which rules derive, not a rule in itself.",
         "law.sovereignty-rule", "oppose"),
        ("Due diligence, as a voluntary norm, should guide States.",
         "law.due-diligence-binding", "oppose"),
        ("International humanitarian law applies only in times of armed conflict, and must not "
         "legitimise the militarisation of cyberspace.", "law.ihl-applies", "qualified"),
        # explicit cues, negation and its scope
        ("Brazil opposes any new legally binding instrument at this stage.", "debate.new-treaty", "oppose"),
        ("Chile does not consider that international humanitarian law does not apply in cyberspace.",
         "law.ihl-applies", "support"),
        ("The Netherlands considers that due diligence applies, but only where the State knows of the "
         "operation.", "law.due-diligence-binding", "qualified"),
        ("France does not consider that collective countermeasures are permitted, and a third State "
         "may not act on behalf of the injured State.", "law.collective-countermeasures", "oppose"),
        # reported views and open questions are mentions, not positions
        ("Some States have argued that sovereignty is not a rule of international law.",
         "law.sovereignty-rule", "mention"),
        ("The question of collective countermeasures deserves further study.",
         "law.collective-countermeasures", "mention"),
    ],
)
def test_stance_rules(analyzer, text, norm, stance):
    assert stances(analyzer, text).get(norm) == stance


def test_one_sentence_can_carry_several_norms(analyzer):
    found = stances(
        analyzer,
        "We support a Programme of Action and reaffirm that the UN Charter applies in its entirety "
        "to cyberspace.",
    )
    assert found["debate.programme-of-action"] == "support"
    assert found["law.applies"] == "support"


def test_sentences_without_norms_carry_no_stance(analyzer):
    assert stances(analyzer, "The budget for the meeting was approved.") == {}


def test_offsets_point_into_the_text_and_sections_are_kept(analyzer):
    text = (
        "Introduction text here. It has two sentences.\n\n"
        "Due diligence is a binding obligation. States must act on it."
    )
    sections = [
        {"heading": "Introduction", "level": 2, "char_start": 0, "char_end": 45},
        {"heading": "Due diligence", "level": 2, "char_start": 47, "char_end": len(text)},
    ]
    sentences = analyzer.analyse(text, sections)
    assert [s.text for s in sentences] == [
        "Introduction text here.", "It has two sentences.",
        "Due diligence is a binding obligation.", "States must act on it.",
    ]
    for sentence in sentences:
        assert text[sentence.char_start : sentence.char_end] == sentence.text
    assert [s.position for s in sentences] == [0, 1, 2, 3]
    assert [s.section for s in sentences] == ["Introduction", "Introduction", "Due diligence", "Due diligence"]
    assert {f.norm_id: f.stance for f in sentences[2].stances}["law.due-diligence-binding"] == "support"


def test_confidence_is_a_probability_and_cue_is_recorded(analyzer):
    for sentence in analyzer.analyse(
        "Existing international law is sufficient. Brazil opposes a new treaty. "
        "The question of a treaty deserves further study."
    ):
        for found in sentence.stances:
            assert 0 < found.confidence <= 1
            assert found.method == "rules-v1"
            if found.stance != "mention":
                assert found.cue  # the words that decided it


def test_version_changes_with_the_rules_and_the_training_data(analyzer, learned):
    assert analyzer.version.startswith(f"{NLP_VERSION}+") and "+lr" not in analyzer.version
    assert learned.version.startswith(analyzer.version + "+lr")
    assert learned.version == Analyzer().version


@pytest.mark.parametrize(
    ("text", "norm", "stance"),
    [
        ("Existing international law is sufficient, and there is no need for a new treaty.",
         "debate.new-treaty", "oppose"),
        ("Due diligence, as a voluntary norm, should guide States.", "law.due-diligence-binding", "oppose"),
        ("International humanitarian law applies only in times of armed conflict, and must not "
         "legitimise the militarisation of cyberspace.", "law.ihl-applies", "qualified"),
    ],
)
def test_learned_layer_keeps_proposition_cues(learned, text, norm, stance):
    (sentence,) = learned.analyse(text)
    found = {f.norm_id: f for f in sentence.stances}[norm]
    assert (found.stance, found.method) == (stance, "rules-v1")


def test_learned_layer_decides_generic_cues_with_a_probability(learned):
    (sentence,) = learned.analyse("Kenya supports the Programme of Action as the permanent mechanism.")
    found = {f.norm_id: f for f in sentence.stances}["debate.programme-of-action"]
    assert found.method == "rules+lr-v2"
    assert found.stance == "support"
    assert 0.25 < found.confidence <= 1  # a probability over four classes


@pytest.mark.parametrize(
    ("text", "norm"),
    [
        ("States should not conduct or knowingly support ICT activity that damages critical "
         "infrastructure serving the public.", "un13f"),
        ("States should not harm the systems of authorised emergency response teams.", "un13k"),
        ("A State must not knowingly allow its territory to be used for wrongful cyber operations.",
         "un13c"),
    ],
)
def test_norms_worded_as_prohibitions_are_supported_not_negated(analyzer, text, norm):
    assert stances(analyzer, text)[norm] == "support"


def test_a_negated_prohibition_norm_is_still_opposed(analyzer):
    text = "Kenya does not accept that a State must never knowingly allow its territory to be used."
    assert stances(analyzer, text)["un13c"] == "oppose"


def test_section_heading_is_evidence_for_positions_only(learned):
    text = ("In its view, this is a voluntary norm of responsible behaviour. The meeting ended at noon. "
            "States must act against hostile operations mounted from their territory.")
    sections = [{"heading": "Due diligence", "level": 2, "char_start": 0, "char_end": len(text)}]
    voluntary, noon, territory = learned.analyse(text, sections)
    hinted = {f.norm_id: f for f in voluntary.stances}["law.due-diligence-binding"]
    assert (hinted.stance, hinted.method) == ("oppose", "rules-v1+section")
    assert hinted.confidence < 0.85  # weaker than the sentence naming the norm itself
    assert noon.stances == []  # no position taken: the topic alone is not a mention
    assert {f.norm_id: f.stance for f in territory.stances}["law.due-diligence-binding"] == "support"
    without_sections = learned.analyse(text)
    assert "law.due-diligence-binding" not in {f.norm_id for f in without_sections[0].stances}


@pytest.mark.parametrize("batch", [1, 3, 64])
def test_analyse_many_gives_what_analyse_gives_embedding_each_text_once(fake_embedder, batch):
    analyzer = Analyzer(embedder=fake_embedder, stance_vectors=True)
    documents = [
        ("a", "States must not knowingly allow their territory to be used for attacks.\n\nThe session ended.", []),
        ("b", "There is no need for a new treaty. The session ended.", []),
        ("c", "", []),
        ("d", "Sovereignty is a rule of international law. There is no need for a new treaty.", []),
        ("e", "The session ended. The session ended.", []),
    ]
    alone = {tag: analyzer.analyse(text, sections) for tag, text, sections in documents}
    stored = {"The session ended.": fake_embedder.embed(["The session ended."])[0]}
    fake_embedder.calls.clear()
    asked = []

    def reuse(texts):
        asked.append(texts)
        return {text: stored[text] for text in texts if text in stored}

    together = list(analyzer.analyse_many(documents, reuse=reuse, batch=batch, lookahead=1))
    assert [tag for tag, _, _ in together] == ["a", "b", "c", "d", "e"]
    for tag, sentences, _ in together:
        assert [(s.text, s.stances) for s in sentences] == [(s.text, s.stances) for s in alone[tag]]
        assert all((s.vector == a.vector).all() for s, a in zip(sentences, alone[tag], strict=True))
    # Stored texts are never embedded again, nor a text already embedded for an earlier document.
    assert sorted(fake_embedder.calls) == sorted([
        "States must not knowingly allow their territory to be used for attacks.",
        "There is no need for a new treaty.", "Sovereignty is a rule of international law."])
    assert [embedded for _, _, embedded in together] == [1, 1, 0, 1, 0]
    assert len(asked) == 4  # not for the empty document


def test_stance_model_row_is_its_training_matrix_row(fake_embedder):
    model = Analyzer(embedder=fake_embedder, stance_vectors=True, semantic=False).model
    features = {"rule=support": 1.0, "sentence=REPORTED": 1.0, "never seen in training": 1.0}
    vector = fake_embedder.embed(["some sentence"])[0]
    assert np.allclose(model._row(features, vector), model._matrix([features], vector[None, :])[0])


class _Fixed:
    """A stand-in stance model that always answers the same."""

    method = "fixed"

    def __init__(self, stance: str) -> None:
        self.stance = stance

    def predict(self, features, vector=None, words=None, norm=None):
        return self.stance, 0.9


def test_norms_found_by_resemblance_take_the_topic_models_stance(fake_embedder):
    analyzer = Analyzer(embedder=fake_embedder, stance_vectors=True, decide=False)
    assert analyzer.model is not None and analyzer.topic_model is not None
    analyzer.model, analyzer.topic_model = _Fixed("oppose"), _Fixed("qualified")
    doc = analyzer.nlp("We are working on it with our partners.")
    sent = next(doc.sents)
    vector = fake_embedder.embed([sent.text])[0]
    (found,) = analyzer._semantic_stances(doc, sent, vector, [("law.applies", 0.8)], set())
    assert (found.norm_id, found.stance, found.method) == ("law.applies", "qualified", "fixed+semantic")


def test_the_learned_layer_gives_mention_and_qualified_only_on_a_sign_of_them():
    from nlp.stance_model import StanceModel

    features = [{"word=a": 1.0}, {"word=b": 1.0}, {"word=c": 1.0}, {"word=d": 1.0}] * 5
    labels = ["support", "oppose", "qualified", "mention"] * 5
    model = StanceModel(features, None, labels)
    assert model.predict({"word=c": 1.0, "sentence=HEDGE": 1.0})[0] == "qualified"
    assert model.predict({"word=c": 1.0, "rule=qualified": 1.0})[0] == "qualified"
    assert model.predict({"word=c": 1.0, "rule=support": 1.0})[0] != "qualified"
    assert model.predict({"word=d": 1.0, "sentence=REPORTED": 1.0})[0] == "mention"
    stance, confidence = model.predict({"word=d": 1.0, "rule=support": 1.0})
    assert stance != "mention" and 0 < confidence <= 1


def test_the_learned_layer_reads_the_words_no_cue_names():
    from nlp.stance_model import StanceModel, fit_words

    texts = ["this would open the door to escalation", "open the door to reprisals, it would",
             "this strengthens the shared rules", "the shared rules are strengthened by it"] * 3
    labels = ["oppose", "oppose", "support", "support"] * 3
    features = [{"clause=SUPPORT": 1.0}] * len(texts)  # the same cues: only the words differ
    words = fit_words(texts)
    model = StanceModel(features, None, labels, words.transform(texts))
    sentence = words.transform(["a rule that would open the door to escalation"])
    assert model.predict({"clause=SUPPORT": 1.0}, None, sentence)[0] == "oppose"
    with pytest.raises(ValueError, match="words"):
        model.predict({"clause=SUPPORT": 1.0})


def test_the_learned_layer_reads_a_word_by_the_norm_it_is_about():
    from nlp.stance_model import StanceModel, fit_words

    # "Voluntary" opposes binding due diligence and endorses the voluntary norm 13(c): the
    # same sentence, the same cues, opposite gold stances by norm.
    sentences = ["due diligence is a voluntary commitment", "a voluntary undertaking on due diligence"]
    texts = [text for text in sentences for _ in range(2)] * 6
    norms = ["law.due-diligence-binding", "un13c"] * 12
    labels = ["oppose", "support"] * 12
    words = fit_words(texts)
    model = StanceModel([{"clause=SUPPORT": 1.0}] * len(texts), None, labels, words.transform(texts), norms)
    sentence = words.transform(["due diligence remains a voluntary commitment"])
    assert model.predict({"clause=SUPPORT": 1.0}, None, sentence, "law.due-diligence-binding")[0] == "oppose"
    assert model.predict({"clause=SUPPORT": 1.0}, None, sentence, "un13c")[0] == "support"
    stance, confidence = model.predict({"clause=SUPPORT": 1.0}, None, sentence, "gcsc.1")  # not in training
    assert stance in labels and 0 < confidence < 1


def test_a_norm_passes_its_stance_to_the_norm_it_is_part_of():
    from nlp.analyzer import NormStance, implications, implied_stances
    from nlp.detect import norm_families

    assert implications()["paris.8"] == ("gcsc.8",)
    assert all(set(targets) <= set(norm_families()) for targets in implications().values())
    hack_back = NormStance("paris.8", "oppose", 0.7, "rules+lr-v2", "allowed", "semantic:paris.8")
    (added,) = implied_stances([hack_back])
    assert (added.norm_id, added.stance, added.confidence, added.method) == (
        "gcsc.8", "oppose", 0.7, "rules+lr-v2+implied")
    own = NormStance("gcsc.8", "support", 0.9, "rules-v1", None, "gcsc.8/hack-back")
    assert implied_stances([hack_back, own]) == []  # the sentence's own stance there stands


def test_affirming_the_principle_of_sovereignty_leaves_the_rule_question_open(learned):
    # Both camps of the stand-alone-rule debate say that sovereignty applies online
    # (labelling convention, nlp/data/labelled/README.md): qualified, not support.
    principle = "Every State's sovereignty remains fully applicable when governments act through computer networks."
    assert stances(learned, principle)["law.sovereignty-rule"] == "qualified"
    rule = ("Every State's sovereignty remains fully applicable, and a remote operation that disables "
            "its ministries' servers violates that sovereignty even without coercion.")
    assert stances(learned, rule)["law.sovereignty-rule"] == "support"


def test_a_principle_cue_is_a_sign_of_qualified_for_the_learned_layer():
    from nlp.stance_model import StanceModel

    features = [{"word=a": 1.0}, {"word=c": 1.0}] * 5
    model = StanceModel(features, None, ["support", "qualified"] * 5)
    assert model.predict({"word=c": 1.0})[0] == "support"  # no sign: qualified is ruled out
    assert model.predict({"word=c": 1.0, "sentence=PRINCIPLE": 1.0})[0] == "qualified"
