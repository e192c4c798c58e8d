"""Sentences of a statement, the norms each addresses, and the stance taken.

A blank English spaCy pipeline: the sentencizer (no trained model needed),
one SpanRuler for norm patterns and one for stance cues, both read from
nlp/patterns/*.jsonl. Overlapping matches live in `doc.spans`, so a sentence
naming two norms carries both. With sentence embeddings, the norms the rules
and the semantic layer propose are kept or dropped by a learned decision
(nlp.detect).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from typing import TypeVar

import numpy as np
import spacy
import yaml
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp import stance as stance_rules
from nlp.anchored_ruler import make_anchored_span_ruler  # noqa: F401  (registers the factory)
from nlp.detect import SETTINGS as DETECT_SETTINGS
from nlp.detect import DetectSettings, RuleHit, phrase_pattern_ids, rule_hits, specificity
from nlp.embedder import Embedder, MemoEmbedder
from nlp.semantic import METHOD_SUFFIX as SEMANTIC_SUFFIX
from nlp.semantic import NORMS_YML, SemanticMatcher
from nlp.stance_model import TRAIN, StanceModel, fit_words, labelled_rows, training_fingerprint
from nlp.rules import (
    CUE_PATTERNS,
    NORM_PATTERNS,
    cue_rules,
    read_patterns,
    rules_fingerprint,
    ruler_patterns,
)

NLP_VERSION = "0.5"  # 0.5: a PRINCIPLE cue is a sign of qualified for the learned layer
SECTION_HINT_FACTOR = 0.7  # a heading is weaker evidence of the topic than the sentence's own words
SEMANTIC_FACTOR = 0.7  # so is a resemblance to the norm's prototypes (nlp.semantic)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
T = TypeVar("T")


@dataclass(frozen=True)
class NormStance:
    norm_id: str
    stance: str
    confidence: float
    method: str
    cue: str | None
    pattern_id: str


@dataclass
class AnalysedSentence:
    position: int
    text: str
    char_start: int
    char_end: int
    section: str | None
    stances: list[NormStance] = field(default_factory=list)
    vector: np.ndarray | None = None  # the sentence embedding, when the analyzer has an embedder


@dataclass
class _Segmented:
    """A text cut into sentences: (paragraph offset, paragraph doc, sentence span) each."""

    spans: list[tuple[int, Doc, Span]]
    texts: list[str]
    headings: _SectionIndex


class Analyzer:
    """Turns statement text into analysed sentences. Build once; reuse for many documents.

    With `learned=True` (the default) stances the rules decide with a cue written
    for the proposition itself, or with the speaker's verdict on a view it reports,
    stay as they are; the others come from the learned layer (nlp.stance_model),
    trained on the labelled sentences over the rules' cue features and, with
    `stance_vectors=True`, the sentence embeddings: one model for the norms the
    rules find, one for those found by resemblance (trained as that path sees a
    sentence, with no mention to scope the cues by). `learned=False`: the rules alone.

    With an `embedder` the analyzer embeds every sentence once, returns the vector
    with it, and (unless `semantic=False`) uses the semantic layer (nlp.semantic):
    the learned keep/drop decision (nlp.detect, unless `decide=False` or
    nlp/data/detect.json is absent) weighs the rules' norms and the norms the
    sentence resembles, dropping rule hits on a keyword alone and adding
    paraphrases; without the decision the semantic layer adds the norms above its
    own threshold that the rules did not find.
    """

    def __init__(
        self,
        learned: bool = True,
        embedder: Embedder | None = None,
        semantic: bool = True,
        stance_vectors: bool = False,
        decide: bool = True,
    ) -> None:
        norm_patterns = read_patterns(NORM_PATTERNS)
        cue_patterns = read_patterns(CUE_PATTERNS)
        self.cue_rules = cue_rules(cue_patterns)
        self.nlp = build_pipeline(ruler_patterns(norm_patterns), ruler_patterns(cue_patterns))
        self.embedder = embedder
        self._fitting_embedder = MemoEmbedder(embedder) if embedder else None  # both fits embed train
        self.semantic = SemanticMatcher(self._fitting_embedder) if embedder and semantic else None
        self.detection = (DetectSettings.load()
                          if self.semantic and decide and DETECT_SETTINGS.exists() else None)
        self.phrase_ids = phrase_pattern_ids(norm_patterns)
        self.stance_vectors = bool(embedder and stance_vectors)
        self._headings: dict[str, set[str]] = {}
        self._learns = learned and TRAIN.exists()
        version = f"{NLP_VERSION}+{rules_fingerprint(NORM_PATTERNS, CUE_PATTERNS)}"
        if self._learns:
            version += f"+lr{training_fingerprint(TRAIN)}"
        if self.semantic:
            version += f"+{self.semantic.version}"
        if self.detection:
            version += f"+{self.detection.version}"
        if self.embedder and (self.semantic or self.stance_vectors):
            version += f"+{self.embedder.model_name}"
        self.version = version

    @cached_property
    def _learned_layers(self) -> dict:
        """Fitted on first use (seconds: it embeds and parses the training file), so that a
        `process` with nothing to analyse, which needs only the version, does not train."""
        if not self._learns:
            return {"model": None, "topic_model": None, "words": None}
        rows = labelled_rows(TRAIN)
        words = fit_words([row["text"] for row in rows])
        model, topic_model = self._train(rows, words)
        return {"model": model, "topic_model": topic_model, "words": words}

    @property
    def model(self) -> StanceModel | None:
        """The learned layer for the norms a pattern found."""
        return self._learned_layers["model"]

    @model.setter
    def model(self, value: StanceModel | None) -> None:
        self._learned_layers["model"] = value

    @property
    def topic_model(self) -> StanceModel | None:
        """The learned layer for the norms found by resemblance."""
        return self._learned_layers["topic_model"]

    @topic_model.setter
    def topic_model(self, value: StanceModel | None) -> None:
        self._learned_layers["topic_model"] = value

    def _train(self, rows: list[dict], words: TfidfVectorizer) -> tuple[StanceModel | None, StanceModel | None]:
        """The learned layer for the norms the rules find, fitted on every gold
        (sentence, norm) pair of the training file that they detect, and (with the
        semantic layer) the one for norms found by resemblance, fitted on every gold
        pair seen as that path sees it: a zero-width topic at the sentence start."""
        vectors = self._fitting_embedder.embed([row["text"] for row in rows]) if self.stance_vectors else None
        mentioned: list[tuple[dict[str, float], int, str, str]] = []
        topical: list[tuple[dict[str, float], int, str, str]] = []
        for index, row in enumerate(rows):
            found = self._features_by_norm(row["text"])
            if self.semantic is not None:
                doc, sent = self._first_sentence(row["text"])
            for norm, stance in row["labels"].items():
                if norm in found:
                    mentioned.append((found[norm], index, norm, stance))
                if self.semantic is not None:
                    topical.append((self._topic_stance(doc, sent, norm)[1], index, norm, stance))
        sentence_words = words.transform([row["text"] for row in rows])
        return self._fit(mentioned, vectors, sentence_words), self._fit(topical, vectors, sentence_words)

    @staticmethod
    def _fit(pairs: list[tuple[dict[str, float], int, str, str]], vectors: np.ndarray | None,
             words: sparse.csr_matrix) -> StanceModel | None:
        """`pairs`: (cue features, training line, norm id, gold stance)."""
        if len({stance for *_, stance in pairs}) < 2:
            return None
        features, rows, norms, labels = zip(*pairs, strict=True)
        return StanceModel(list(features), vectors[list(rows)] if vectors is not None else None, list(labels),
                           words[list(rows)], list(norms))

    def _words(self, texts: list[str]) -> list[sparse.csr_matrix | None]:
        """Each sentence's TF-IDF row for the learned layer, a document at a time (one
        sentence at a time costs 0.6 ms each); None without a learned layer."""
        vectorizer = self._learned_layers["words"]
        if vectorizer is None or not texts:
            return [None] * len(texts)
        matrix = vectorizer.transform(texts)
        return [matrix[i] for i in range(len(texts))]

    def analyse(self, text: str, sections: Iterable[dict] = ()) -> list[AnalysedSentence]:
        segmented = self._segment(text, sections)
        (vectors,), _ = self._embed([segmented.texts], [{}], deque())
        return self._classify(segmented, vectors)

    def analyse_many(
        self,
        documents: Iterable[tuple[T, str, Iterable[dict]]],
        reuse: Callable[[list[str]], dict[str, np.ndarray]] | None = None,
        batch: int = 512,
        lookahead: int = 2,
    ) -> Iterator[tuple[T, list[AnalysedSentence], int]]:
        """`analyse` for each (tag, text, sections), in order, yielding (tag, sentences,
        embedded): how many texts were embedded for that document.

        Documents go to the embedder in groups holding at least `batch` new texts (the
        float model sorts a call's texts by length, so a large call pads little: 512
        against 64 took bench/nlp.py's float ratio from 0.52 to 0.97), in a background
        thread, while the main thread splits the next group and classifies an earlier
        one: the model (which releases the GIL) and spaCy use both cores.
        A text is embedded once: not when `reuse(texts)` returns its vector (stored in
        the database), nor when it was embedded for one of the last groups.
        """
        # fit now, not concurrently with the background embedding
        _ = self.model
        if self.semantic is not None:
            _ = self.semantic.classifier
        in_flight: deque[tuple[list[tuple[T, _Segmented]], Future]] = deque()
        recent: deque[dict[str, np.ndarray]] = deque(maxlen=lookahead + 1)  # background thread only
        group: list[tuple[T, _Segmented, dict[str, np.ndarray]]] = []
        new_texts: set[str] = set()
        with ThreadPoolExecutor(1, thread_name_prefix="embed") as background:

            def submit() -> None:
                texts, known = [s.texts for _, s, _ in group], [k for _, _, k in group]
                embedding = background.submit(self._embed, texts, known, recent)
                in_flight.append(([(tag, s) for tag, s, _ in group], embedding))
                group.clear()
                new_texts.clear()

            for tag, text, sections in documents:
                segmented = self._segment(text, sections)
                known = reuse(segmented.texts) if reuse and self.embedder and segmented.texts else {}
                group.append((tag, segmented, known))
                new_texts.update(set(segmented.texts) - known.keys())
                if len(new_texts) >= batch or self.embedder is None:
                    submit()
                while len(in_flight) > lookahead:
                    yield from self._classify_group(*in_flight.popleft())
            if group:
                submit()
            while in_flight:
                yield from self._classify_group(*in_flight.popleft())

    def _classify_group(
        self, documents: list[tuple[T, _Segmented]], embedding: Future
    ) -> Iterator[tuple[T, list[AnalysedSentence], int]]:
        vectors, embedded = embedding.result()
        for (tag, segmented), document_vectors, count in zip(documents, vectors, embedded, strict=True):
            yield tag, self._classify(segmented, document_vectors), count

    def _segment(self, text: str, sections: Iterable[dict]) -> _Segmented:
        """Sentences of the text (paragraph by paragraph), with the rule matches in their docs."""
        paragraphs = list(_paragraphs(text))
        spans = []
        docs = self.nlp.pipe(paragraph for _, paragraph in paragraphs)
        for (offset, _), doc in zip(paragraphs, docs, strict=True):
            spans += [(offset, doc, sent) for sent in doc.sents if sent.text.strip()]
        return _Segmented(spans, [sent.text.strip() for _, _, sent in spans], _SectionIndex(sections))

    def _embed(
        self, texts: list[list[str]], known: list[dict[str, np.ndarray]], recent: deque[dict[str, np.ndarray]]
    ) -> tuple[list[list[np.ndarray | None]], list[int]]:
        """Vectors for each document's texts (None without an embedder), with how many
        texts were embedded for it: one call for the whole group, each new text once.
        `recent` holds the vectors of the last calls; this one's joins it."""
        if self.embedder is None:
            return [[None] * len(document) for document in texts], [0] * len(texts)
        vectors: dict[str, np.ndarray] = {}
        for source in [*recent, *known]:
            vectors.update(source)
        new: dict[str, None] = {}  # ordered, for the embed call
        embedded = []
        for document in texts:
            fresh = [text for text in dict.fromkeys(document) if text not in vectors and text not in new]
            new.update(dict.fromkeys(fresh))
            embedded.append(len(fresh))
        if new:
            computed = dict(zip(new, self.embedder.embed(list(new)), strict=True))
            recent.append(computed)
            vectors.update(computed)
        return [[vectors[text] for text in document] for document in texts], embedded

    def _classify(self, segmented: _Segmented, vectors: list[np.ndarray | None]) -> list[AnalysedSentence]:
        sentences = []
        semantic = (self.semantic.probabilities(vectors, segmented.texts)
                    if self.semantic is not None and segmented.texts else [])
        words = self._words(segmented.texts)
        for position, ((offset, doc, sent), vector) in enumerate(zip(segmented.spans, vectors, strict=True)):
            start = offset + sent.start_char
            section = segmented.headings.at(start)
            stances = self._stances(doc, sent, vector, words[position])
            rule_found = {s.norm_id for s in stances}
            resembling: list[tuple[str, float]] = []
            if self.detection is not None:
                kept = self.detection.decide(self._rule_hits(doc, sent), semantic[position])
                stances = [s for s in stances if s.norm_id in kept]
                resembling = sorted(kept.items(), key=lambda item: (-item[1], item[0]))
            elif self.semantic is not None:
                resembling = self.semantic.matches(semantic[position])
            # A dropped rule hit is not brought back by the heading: the decision read the sentence.
            stances += self._section_stances(doc, sent, section, rule_found)
            if self.semantic is not None:
                found = rule_found | {s.norm_id for s in stances}
                stances += self._semantic_stances(doc, sent, vector, resembling, found, words[position])
            stances += implied_stances(stances)
            sentences.append(
                AnalysedSentence(
                    position=position,
                    text=segmented.texts[position],
                    char_start=start,
                    char_end=start + len(sent.text.rstrip()),
                    section=section,
                    stances=stances,
                    vector=vector,
                )
            )
        return sentences

    def _section_stances(self, doc, sent, section: str | None, found: set[str]) -> list[NormStance]:
        """Stances on the norm a section heading names ("Due diligence") that the sentence
        takes without naming it. Only positions count: a sentence in the section is not
        a mention of its topic by itself."""
        stances = []
        for norm_id in self._heading_norms(section) - found:
            topic = Span(doc, sent.start, sent.start, label=norm_id, span_id=f"section:{section}")
            rule = stance_rules.classify(sent, topic, self._sentence_cues(doc, sent))
            if rule.stance != "mention":
                stances.append(NormStance(
                    norm_id=norm_id, stance=rule.stance,
                    confidence=round(rule.confidence * SECTION_HINT_FACTOR, 3),
                    method=f"{rule.method}+section", cue=rule.cue, pattern_id=topic.id_,
                ))
        return stances

    def _semantic_stances(
        self, doc, sent, vector: np.ndarray, resembling: list[tuple[str, float]], found: set[str],
        words: sparse.csr_matrix | None = None,
    ) -> list[NormStance]:
        """Stances on the norms the sentence resembles that nothing else found.

        `resembling`: (norm, probability) from the keep/drop decision or the semantic
        layer. The topic span is zero-width at the sentence start, as for section hints;
        the stance comes from the learned layer when there is one, else the rules."""
        stances = []
        for norm_id, probability in resembling:
            if norm_id in found:
                continue
            rule, features = self._topic_stance(doc, sent, norm_id)
            stance, confidence, method = rule.stance, rule.confidence, rule.method
            if self.topic_model is not None and not rule.decisive:
                stance, confidence = self.topic_model.predict(
                    features, vector if self.stance_vectors else None, words, norm_id)
                method = self.topic_model.method
            stances.append(NormStance(
                norm_id=norm_id, stance=stance,
                confidence=round(confidence * probability ** 0.5 * SEMANTIC_FACTOR, 3),
                method=method + SEMANTIC_SUFFIX, cue=rule.cue, pattern_id=f"semantic:{norm_id}",
            ))
        return stances

    def _topic_stance(self, doc, sent, norm_id: str) -> tuple[stance_rules.Stance, dict[str, float]]:
        """Rule stance and cue features for a norm the sentence addresses without naming
        it: a zero-width topic at the sentence start."""
        topic = Span(doc, sent.start, sent.start, label=norm_id, span_id=f"semantic:{norm_id}")
        cues = self._sentence_cues(doc, sent)
        rule = stance_rules.classify(sent, topic, cues)
        return rule, stance_rules.cue_features(sent, topic, cues, rule)

    def _first_sentence(self, text: str):
        """(doc, sentence) of the first sentence of a labelled line."""
        _, doc, sent = self._segment(text, ()).spans[0]
        return doc, sent

    def _rule_hits(self, doc, sent) -> dict[str, RuleHit]:
        return rule_hits((span for span in doc.spans["norms"] if sent.start <= span.start < sent.end),
                         self.phrase_ids)

    def rule_hits(self, text: str) -> dict[str, RuleHit]:
        """The rules' findings in a text, all its sentences together (for tuning on labelled lines)."""
        hits: dict[str, RuleHit] = {}
        for _, paragraph in _paragraphs(text):
            doc = self.nlp(paragraph)
            for sent in doc.sents:
                for norm_id, hit in self._rule_hits(doc, sent).items():
                    hits.setdefault(norm_id, hit)
        return hits

    def _sentence_cues(self, doc, sent) -> list:
        return [(span, self.cue_rules[span.id_]) for span in doc.spans["cues"]
                if sent.start <= span.start < sent.end]

    def _heading_norms(self, heading: str | None) -> set[str]:
        if not heading:
            return set()
        if heading not in self._headings:
            heading_doc = self.nlp(heading)
            self._headings[heading] = {span.label_ for span in heading_doc.spans["norms"]}
        return self._headings[heading]

    def _stances(self, doc, sent, vector: np.ndarray | None = None,
                 words: sparse.csr_matrix | None = None) -> list[NormStance]:
        found = []
        for norm, rule, features in self._mentions(doc, sent):
            stance, confidence, method = rule.stance, rule.confidence, rule.method
            # A cue written for this very proposition ("a voluntary norm" against binding
            # due diligence) is the most precise evidence there is; elsewhere the learned
            # layer weighs the generic cues better than fixed rules do.
            if self.model is not None and not rule.decisive:
                stance, confidence = self.model.predict(features, vector if self.stance_vectors else None, words,
                                                       norm.label_)
                method = self.model.method
                if norm.id_.endswith("/bare"):  # as the rules do: a bare keyword is weaker evidence
                    confidence *= stance_rules.BARE_PATTERN_FACTOR
            found.append(
                NormStance(
                    norm_id=norm.label_,
                    stance=stance,
                    confidence=round(confidence, 3),
                    method=method,
                    cue=rule.cue,
                    pattern_id=norm.id_,
                )
            )
        return found

    def _mentions(self, doc, sent):
        """(norm span, rule stance, cue features) for each norm the sentence addresses."""
        norms = [span for span in doc.spans["norms"] if sent.start <= span.start < sent.end]
        if not norms:
            return []
        cues = [
            (span, self.cue_rules[span.id_])
            for span in doc.spans["cues"]
            if sent.start <= span.start < sent.end
        ]
        mentions, seen = [], set()
        for norm in sorted(norms, key=specificity):
            if norm.label_ in seen:
                continue  # keep the most specific pattern for each norm
            seen.add(norm.label_)
            rule = stance_rules.classify(sent, norm, cues)
            mentions.append((norm, rule, stance_rules.cue_features(sent, norm, cues, rule)))
        return mentions

    def _features_by_norm(self, text: str) -> dict[str, dict[str, float]]:
        """Cue features per norm for a labelled sentence (its first mention of each norm)."""
        features: dict[str, dict[str, float]] = {}
        for _, paragraph in _paragraphs(text):
            doc = self.nlp(paragraph)
            for sent in doc.sents:
                for norm, _, found in self._mentions(doc, sent):
                    features.setdefault(norm.label_, found)
        return features


@cache
def implications(path=NORMS_YML) -> dict[str, tuple[str, ...]]:
    """Norm -> the norms it is part of (`implies` in norms.yml): a stance on the Paris Call's
    non-proliferation principle is a stance on that part of UN norm 13(i)."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {entry["id"]: tuple(entry["implies"]) for entry in entries if entry.get("implies")}


def implied_stances(stances: list[NormStance]) -> list[NormStance]:
    """The same stance on each implied norm the sentence has no stance on of its own."""
    found, added = {s.norm_id for s in stances}, []
    for stance in sorted(stances, key=lambda s: -s.confidence):  # the most confident source speaks
        for implied in implications().get(stance.norm_id, ()):
            if implied not in found:
                found.add(implied)
                added.append(replace(stance, norm_id=implied, method=f"{stance.method}+implied",
                                     pattern_id=f"implied:{stance.norm_id}"))
    return added


def default_analyzer(embedder: Embedder | None) -> Analyzer:
    """What `pipeline.py process` runs (and bench/eval_stance.py measures as the default).

    With vectors: rules and the semantic layer under the detection decision, and the
    learned layer over cue features and embeddings (on held-out sentences stance
    macro-F1 0.83 against 0.79 for cue features alone; on the few non-"yes" iLIT
    passages it does worse, see README). Without (`--no-embed`): rules and the
    learned layer over cue features.
    """
    return Analyzer(embedder=embedder, stance_vectors=embedder is not None)


def build_pipeline(
    norm_patterns: list[dict], cue_patterns: list[dict], ruler: str = "anchored_span_ruler"
) -> Language:
    """Sentences, then norm and cue spans. `ruler="span_ruler"` gives spaCy's own ruler,
    which finds the same spans, slower (nlp/anchored_ruler.py)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    norm_ruler = nlp.add_pipe(
        ruler,
        name="norm_ruler",
        config={"spans_key": "norms", "phrase_matcher_attr": "LOWER", "validate": True},
    )
    norm_ruler.add_patterns(norm_patterns)
    cue_ruler = nlp.add_pipe(
        ruler,
        name="cue_ruler",
        config={"spans_key": "cues", "phrase_matcher_attr": "LOWER", "validate": True},
    )
    cue_ruler.add_patterns(cue_patterns)
    return nlp


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """(offset, paragraph) pairs; a sentence never spans a blank line."""
    position = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        if text[position : match.start()].strip():
            yield position, text[position : match.start()]
        position = match.end()
    if text[position:].strip():
        yield position, text[position:]


class _SectionIndex:
    """The source's section heading at a character offset (a topic hint)."""

    def __init__(self, sections: Iterable[dict]) -> None:
        self.sections = sorted(
            (s for s in sections if s.get("char_end", 0) > s.get("char_start", 0)),
            key=lambda s: (s["char_start"], -s["char_end"]),
        )

    def at(self, offset: int) -> str | None:
        found = None
        for section in self.sections:
            if section["char_start"] <= offset < section["char_end"]:
                found = section["heading"]  # later starts are deeper subsections
        return found
