"""Stance of a sentence on one norm, from cues with a scope (the ConText design).

A cue governs the clause it stands in: clauses end at contrast markers
("but", "however"; not the "but also" of "not only ... but also"), semicolons
and ", and". A pseudo-cue ("not only", "no doubt") owns the cues that start
inside it: "only to" in "not only to" is no condition. Cues scoped to a proposition
(e.g. "a voluntary norm" against binding due diligence) outrank generic ones.
Polarity comes from support/oppose cues, flipped by each negation that is not
part of a larger cue ("no need", "whether or not"); hedges in the clause, or a
condition anywhere in the sentence, turn support into "qualified", and so does a
leaning ("we are inclined to the view", "we do not exclude"), which asserts the
proposition tentatively when nothing else takes a side; a reported
view of others, or an explicitly open question, is a mention, unless the speaker
then endorses or rejects it ("..., a view we share"; "...; we disagree"; "we cannot
accept the proposition that ..."): that verdict,
like a proposition cue, is kept by the learned layer. A verdict also governs the
proposition cue it introduces: "we do not share the view that sovereignty is merely a
principle" supports sovereignty as a rule. For norms that
are restraints (scoped in cues.jsonl), condemning the restrained conduct
("unacceptable", "must never") supports the norm. A negated question is
rhetorical: "has it not failed a legal duty?" asserts the duty; a question asked to
deny ("how could a few lines of code coerce a State?") denies it.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Span

from nlp.rules import CueRule

METHOD = "rules-v1"

# Confidence by the kind of evidence that decided; to be calibrated on held-out data.
CONFIDENCE = {
    "proposition_cue": 0.85,
    "polar_cue": 0.75,
    "negated_assertion": 0.65,
    "qualified": 0.65,
    "reported": 0.55,
    "no_cue": 0.5,
}
BARE_PATTERN_FACTOR = 0.8  # a bare keyword ("sovereignty") is weaker evidence of the norm
_CLAUSE_BREAKS = {"but", "however", "nevertheless", "nonetheless", "although", "though", "whereas", ";"}
_POLAR = {"SUPPORT", "OPPOSE", "CONDEMN"}
_VERDICT = {"ENDORSE": 1, "DISSENT": -1}  # the speaker's verdict on a view it reports
_COORDINATORS = {"and", "while"}  # break a clause only after a comma: ", and a third State may not"
_ADDITIVE = {"only", "merely", "just", "simply"}  # "not only A but also B" asserts both


@dataclass(frozen=True)
class Stance:
    stance: str  # support | oppose | qualified | mention
    confidence: float
    cue: str | None
    method: str = METHOD
    # Decided by a cue scoped to this proposition, or by the speaker's verdict on a view it
    # reports: composed evidence that the learned layer, which sees cues one by one, keeps.
    decisive: bool = False


def classify(sentence: Span, norm: Span, cues: list[tuple[Span, CueRule]]) -> Stance:
    """The stance `sentence` takes on the norm found at `norm`."""
    weight = BARE_PATTERN_FACTOR if norm.id_.endswith("/bare") else 1.0
    start, end = _clause(sentence, norm)
    applicable = _applicable(cues, norm)
    in_clause = [(span, rule) for span, rule in applicable if start <= span.start < end]
    scoped = [(span, rule) for span, rule in applicable if rule.norms]

    labels = {rule.label for _, rule in in_clause}
    cue_text = "; ".join(span.text for span, _ in in_clause) or None
    if labels & {"REPORTED", "UNDECIDED"}:
        verdict = _verdict_on_reported(sentence, norm, cues) if "REPORTED" in labels else None
        return verdict or Stance("mention", CONFIDENCE["reported"] * weight, cue_text)
    if "PROCEDURAL" in labels and not labels & _POLAR:
        return Stance("mention", CONFIDENCE["reported"] * weight, cue_text)

    qualified = [(span, rule) for span, rule in scoped if rule.label == "QUALIFIED"]
    if qualified:
        span, _ = qualified[0]
        return Stance("qualified", CONFIDENCE["proposition_cue"] * weight, span.text, decisive=True)
    polar = [(span, rule) for span, rule in scoped if rule.label in ("SUPPORT", "OPPOSE")]
    judged = [(span, rule, _judgement(sentence, span, applicable)) for span, rule in polar]
    # a proposition only others hold, with no verdict of the speaker's on it, says nothing of the speaker
    judged = [(span, rule, judgement) for span, rule, judgement in judged if judgement != (0, None)]
    if judged:
        # A proposition cue is the stronger evidence, but a negation before it in its
        # clause still flips it: "existing law is not sufficient" supports a new treaty; so
        # does the speaker rejecting it: "we do not share the view that it is sufficient".
        # One after it negates something else: "law is sufficient and no treaty is needed".
        span, rule, (sign, verdict) = judged[0]
        polarity = (1 if rule.label == "SUPPORT" else -1) * sign
        cue_start, cue_end = _clause(sentence, span)
        kind, cue_text = "proposition_cue", "; ".join(cue.text for cue in (verdict, span) if cue is not None)
        reach = span.end
    else:
        # "we do not share the view that the Charter applies": the verdict's own words
        # ("share") are not the proposition's; the verdict's sign applies at the end
        sign, verdict = _introducing_verdict(sentence, norm, in_clause) or (1, None)
        own = {rule.label for span, rule in in_clause
               if not (verdict and rule.label in _POLAR and verdict.start <= span.start < verdict.end)}
        polarity = -1 if "OPPOSE" in own else 1 if own & {"SUPPORT", "CONDEMN", "LEANING"} else 0
        if verdict:
            polarity = sign * (polarity or 1)  # a bare proposition is asserted, then judged
        cue_start, cue_end = start, end
        kind = "polar_cue" if polarity else "negated_assertion"
        polar_ends = [span.end for span, rule in in_clause if rule.label in _POLAR]
        reach = max([*polar_ends, norm.end]) if polar_ends else end
    # A negation flips what follows it: one after the last polar cue and the norm
    # negates something else ("... applies online, where no State rules alone").
    negations = [
        negation
        for negation, rule in applicable
        if rule.label == "NEGATION"
        and cue_start <= negation.start < min(cue_end, reach)
        and not _inside_other_cue(negation, applicable, norm)
    ]
    if len(negations) % 2 and _is_question(sentence):
        polarity = polarity or 1  # a negated question expects "yes": the assertion stands
    elif len(negations) % 2:
        polarity = -polarity if polarity else -1  # "is not a rule": a negated assertion
    elif negations and not polarity:
        polarity = 1  # double negation of a bare assertion
    if not len(negations) % 2 and _is_rhetorical(sentence, applicable):
        polarity = -(polarity or 1)  # "how can countermeasures ever be proportionate?" expects "no"
    if polarity == 0:
        return Stance("mention", CONFIDENCE["no_cue"] * weight, cue_text)
    hedged = any(rule.label in ("HEDGE", "LEANING") and cue_start <= span.start < cue_end for span, rule in applicable)
    conditional = any(rule.label == "CONDITION" for _, rule in applicable)
    if polarity > 0 and (hedged or conditional):
        return Stance("qualified", CONFIDENCE["qualified"] * weight, cue_text)
    return Stance("support" if polarity > 0 else "oppose", CONFIDENCE[kind] * weight, cue_text,
                  decisive=kind == "proposition_cue")


def _verdict_on_reported(sentence: Span, norm: Span, cues: list[tuple[Span, CueRule]]) -> Stance | None:
    """"Some argue that X; we disagree": the speaker takes the reported view's stance, or its opposite.

    The reported view is classified without the reporting cue and the verdicts; its
    negations outside the verdicts still count
    ("... can never be an armed attack; we disagree" supports the norm). None without a verdict.
    """
    verdicts = _outermost_verdicts(cues)
    if not verdicts:
        return None
    sign = _VERDICT[verdicts[-1][1].label]
    # the view as reported: without the reporting cue, and without the verdicts and what
    # they hold ("disagree", the "not" of "we do not share"), which are applied once, here
    content = [
        (span, rule) for span, rule in cues
        if rule.label != "REPORTED" and rule.label not in _VERDICT
        and not (rule.label in (*_POLAR, "NEGATION")
                 and any(v.start <= span.start and span.end <= v.end for v, _ in verdicts))
    ]
    reported = classify(sentence, norm, content)
    if reported.stance == "qualified":
        return Stance("qualified", CONFIDENCE["reported"], reported.cue, decisive=True) if sign > 0 else None
    polarity = sign * (-1 if reported.stance == "oppose" else 1)  # a view with no polar cue asserts the norm
    weight = BARE_PATTERN_FACTOR if norm.id_.endswith("/bare") else 1.0
    cue = "; ".join(span.text for span, _ in verdicts)
    stance = "support" if polarity > 0 else "oppose"
    return Stance(stance, CONFIDENCE["negated_assertion"] * weight, cue, decisive=True)


def _judgement(sentence: Span, proposition: Span, cues: list[tuple[Span, CueRule]]) -> tuple[int, Span | None]:
    """Whose is the proposition a cue states, and does the speaker hold it: (sign, verdict).

    +1 for an assertion of the speaker's; the verdict's sign when the speaker judges it,
    either in the same clause ("we do not share the view that sovereignty is merely a
    principle": -1) or after reporting it ("some argue that existing law is enough; we
    disagree": -1); (0, None) for a view of others that the speaker does not judge.
    """
    introducing = _introducing_verdict(sentence, proposition, cues)
    if introducing:
        return introducing
    start, end = _clause(sentence, proposition)
    if not any(rule.label == "REPORTED" and start <= span.start < end for span, rule in cues):
        return 1, None
    later = [(span, rule) for span, rule in _outermost_verdicts(cues) if span.start >= end]
    return (_VERDICT[later[-1][1].label], later[-1][0]) if later else (0, None)


def _introducing_verdict(sentence: Span, target: Span, cues: list[tuple[Span, CueRule]]) -> tuple[int, Span] | None:
    """(sign, verdict): the speaker's verdict earlier in the target's clause that introduces
    it with "that" ("we do not accept that ...", "it cannot seriously be argued that ...")."""
    start, _ = _clause(sentence, target)
    for span, rule in _outermost_verdicts(cues):
        between = sentence.doc[span.end:target.start]
        if start <= span.start and span.end <= target.start and any(token.lower_ == "that" for token in between):
            return _VERDICT[rule.label], span
    return None


def _outermost_verdicts(cues: list[tuple[Span, CueRule]]) -> list[tuple[Span, CueRule]]:
    """Verdict cues not held by a larger one: "cannot accept the notion" holds "accept the notion"."""
    verdicts = [(span, rule) for span, rule in cues if rule.label in _VERDICT]
    return [(span, rule) for span, rule in verdicts
            if not any(o.start <= span.start and span.end <= o.end and len(o) > len(span) for o, _ in verdicts)]


def cue_features(sentence: Span, norm: Span, cues: list[tuple[Span, CueRule]], rule: Stance) -> dict[str, float]:
    """What the cues around a norm mention look like, for the learned layer (nlp.stance_model)."""
    start, end = _clause(sentence, norm)
    applicable = _applicable(cues, norm)
    features: dict[str, float] = {f"rule={rule.stance}": 1.0, "bare": float(norm.id_.endswith("/bare"))}
    negations = 0
    for span, r in applicable:
        if r.norms:
            features[f"scoped={r.label}"] = 1.0
        features[f"sentence={r.label}"] = 1.0  # presence, not counts: long sentences repeat "we"
        if start <= span.start < end:
            features[f"clause={r.label}"] = 1.0
            # which cue, and on which side of the norm mention: "we reject X" vs "X, we reject"
            side = "before" if span.start < norm.start else "after"
            features[f"cue={r.id}"] = 1.0
            features[f"{side}={r.label}"] = 1.0
            if r.label == "NEGATION" and not _inside_other_cue(span, applicable, norm):
                negations += 1
    question = _is_question(sentence)
    features["negation_parity"] = float(negations % 2)
    features["double_negation"] = float(negations >= 2)
    features["question"] = float(question)
    features["negated_question"] = float(question and negations % 2 == 1)
    features["rhetorical_question"] = float(_is_rhetorical(sentence, applicable))
    return features


def _applicable(cues: list[tuple[Span, CueRule]], norm: Span) -> list[tuple[Span, CueRule]]:
    """The cues that bear on this norm: unscoped ones and those scoped to it, less those
    that start inside a pseudo-cue and so belong to it ("only to" in "not only to")."""
    applicable = [(span, rule) for span, rule in cues if not rule.norms or norm.label_ in rule.norms]
    pseudo = [span for span, rule in applicable if rule.label == "PSEUDO"]
    return [
        (span, rule) for span, rule in applicable
        if rule.label in ("PSEUDO", "NEGATION") or not any(p.start < span.start < p.end for p in pseudo)
    ]


def _is_question(sentence: Span) -> bool:
    return sentence.text.rstrip().endswith("?")


def _is_rhetorical(sentence: Span, cues: list[tuple[Span, CueRule]]) -> bool:
    """A question asked to deny ("why should...", "how could...", "is it really..."): it
    asserts the opposite of what it asks, unless negated (see classify)."""
    return _is_question(sentence) and any(rule.label == "RHETORICAL" for _, rule in cues)


def _clause(sentence: Span, norm: Span) -> tuple[int, int]:
    """Token bounds (doc indices) of the clause holding the norm mention."""
    start, end = sentence.start, sentence.end
    additive = False  # inside "not only ...", whose "but (also)" adds rather than contrasts
    for token in sentence:
        if token.lower_ in _ADDITIVE and token.i > sentence.start and token.nbor(-1).lower_ == "not":
            additive = True
            continue
        if additive and token.lower_ == "but":
            additive = False
            continue
        breaks = token.lower_ in _CLAUSE_BREAKS or (
            token.lower_ in _COORDINATORS and token.i > sentence.start and token.nbor(-1).text == ","
        )
        if not breaks:
            continue
        if token.i < norm.start:
            start = token.i
        elif token.i >= norm.end:
            end = token.i
            break
    return start, end


def _inside_other_cue(negation: Span, cues: list[tuple[Span, CueRule]], norm: Span) -> bool:
    """Negations that belong to a larger cue ("no need", "whether or not") or open the norm phrase.

    A norm phrase opening with a negation states the norm ("not knowingly allow");
    one inside it states a stance ("existing law is not sufficient").
    """
    for span, rule in cues:
        if rule.label != "NEGATION" and span.start <= negation.start and negation.end <= span.end:
            return True
    return negation.start == norm.start
