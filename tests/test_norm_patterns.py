"""Norm patterns for paraphrases of a norm, and patterns narrowed to the norm's sense
(nlp/patterns/norms.jsonl; sentences in our own words)."""

from __future__ import annotations

import pytest

from nlp.analyzer import Analyzer


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer(learned=False)


def pattern_ids(analyzer, text: str) -> set[str]:
    """Ids of every norm pattern that matched the text."""
    doc = analyzer.nlp(text)
    return {span.id_ for span in doc.spans["norms"]}


@pytest.mark.parametrize(
    ("text", "norms", "pattern"),
    [
        # private hack-back: both the GCSC and the Paris Call norm (labelling convention)
        ("A bank has no business hacking into the intruders' servers, however often it is hit.",
         {"gcsc.8", "paris.8"}, "into-attackers-systems"),
        ("Several firms would like to be free to strike back at the attackers themselves.",
         {"gcsc.8", "paris.8"}, "companies-strike-attackers"),
        ("Active defence measures against hackers should stay in the hands of the authorities.",
         {"gcsc.8", "paris.8"}, "active-measures-against-attackers"),
        # due diligence as a legal duty, and the territory norm spelled out
        ("Customary law places on every State a legal obligation to curb such operations.",
         {"law.due-diligence-binding"}, "legal-duty-to-act"),
        ("A government must take feasible steps against botnets it hosts.",
         {"law.due-diligence-binding"}, "reasonable-steps-against"),
        ("Once a State has been informed that criminals are operating from its territory, it should act.",
         {"un13c"}, "knowledge-then-territory"),
        ("No government should knowingly harbour groups that attack its neighbours.", {"un13c"}, "knowingly-harbours"),
        ("We reported on how we implement the norm concerning territory.", {"un13c"}, "norm-on-territory"),
        ("Servers within its borders were used to attack a neighbour.", {"un13c"},
         "infrastructure-on-territory-used"),
        ("The duty of vigilance binds every State in cyberspace.", {"law.due-diligence-binding"}, "duty-of-vigilance"),
        # spread of malicious tools: the UN norm too (paris.5 has its own trade pattern)
        ("We license every sale of hacking tools abroad.", {"un13i"}, "trade-in-tools"),
        # developers and the product lifecycle
        ("Vendors should put security above profit margins.", {"gcsc.6"}, "security-ahead-of-profit"),
        ("It is irresponsible to keep selling devices riddled with known vulnerabilities.", {"gcsc.6"},
         "ship-flawed-products"),
        ("Routers should get patches for their whole lifetime.", {"paris.6"}, "for-entire-life"),
        ("No agency should have spyware designed into consumer chips.", {"gcsc.3"}, "designed-into-products"),
        # countermeasures, collective or not
        ("A partner State may act on the victim's behalf if asked.", {"law.collective-countermeasures"},
         "on-victims-behalf"),
        ("Retaliatory measures are lawful only when proportionate.", {"law.countermeasures"}, "retaliatory-measures"),
        ("Coercion aimed at a people's free choice of its government is prohibited.", {"law.non-intervention"},
         "free-choice-of-government"),
        ("Both sides agreed to settle the matter through mediation.", {"law.peaceful-settlement"},
         "resolve-through-dialogue"),
        ("Only a newly negotiated convention can give the region predictable rules.", {"debate.new-treaty"},
         "newly-negotiated-framework"),
        ("We read the draft articles as reflecting custom.", {"law.state-responsibility"}, "draft-articles"),
    ],
)
def test_paraphrase_patterns(analyzer, text, norms, pattern):
    found = pattern_ids(analyzer, text)
    assert {f"{norm}/{pattern}" for norm in norms} <= found, found


def test_voluntary_norms_alone_are_not_the_promotion_norm(analyzer):
    """'Voluntary norms' is mostly said in the treaty debate; the Paris Call norm on promoting
    norms needs the promotion itself."""
    assert not any(found.startswith("paris.9/") for found in
                   pattern_ids(analyzer, "Voluntary norms will never be enough; we need a convention."))
    assert "paris.9/promote-voluntary-norms" in pattern_ids(
        analyzer, "Voluntary norms are weak, and promoting them further is pointless.")


def test_binding_commitments_are_not_found_inside_non_binding_ones(analyzer):
    assert "debate.new-treaty/binding-commitments" in pattern_ids(analyzer, "We want binding commitments.")
    assert "debate.new-treaty/binding-commitments" not in pattern_ids(
        analyzer, "These remain non-binding commitments for now.")


def test_legal_duty_pattern_needs_an_act_against_the_harm(analyzer):
    assert "law.due-diligence-binding/legal-duty-to-act" not in pattern_ids(
        analyzer, "States have a legal obligation to report annually.")
