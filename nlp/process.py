"""The `process` step: analyse documents not yet analysed, then embed new sentences.

Work is decided by hashes: a document is redone only when its text or the
NLP version changed, a sentence is embedded only when no vector exists for
its text. A rerun on unchanged data reads, decides there is nothing to do,
and writes nothing.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import sqlite_utils

from db.connection import write_transaction
from db.store import sha256_hex, utc_now
from nlp.analyzer import AnalysedSentence, Analyzer
from nlp.embedder import Embedder, from_blob, to_blob

logger = logging.getLogger(__name__)
T = TypeVar("T")
# progress(iterable, length, label) -> context manager yielding the iterable
Progress = Callable[[Iterable[T], int, str], AbstractContextManager[Iterable[T]]]


@dataclass
class ProcessReport:
    documents: int = 0
    sentences: int = 0
    stances: int = 0
    embedded: int = 0
    reused_vectors: int = 0


def no_progress(items: Iterable[T], length: int, label: str) -> AbstractContextManager[Iterable[T]]:
    return nullcontext(items)


def process(
    db: sqlite_utils.Database,
    analyzer: Analyzer,
    embedder: Embedder | None,
    progress: Progress = no_progress,
    embed_batch: int = 256,
) -> ProcessReport:
    report = ProcessReport()
    if embedder is not None:
        # One model's vectors at a time: publish and similar_sentences read "the" vectors.
        # A switch of embedder re-analyses everything anyway (the model is in the version).
        with write_transaction(db):
            db.execute("DELETE FROM embeddings WHERE model != ?", [embedder.model_name])
    pending = pending_documents(db, analyzer.version)
    if pending:  # with nothing to analyse, the analyzer never fits its learned layers
        analyse_documents(db, analyzer, pending, progress, report)
    if embedder is not None:
        embed_new_sentences(db, embedder, progress, embed_batch, report)
    return report


def analyse_documents(
    db: sqlite_utils.Database, analyzer: Analyzer, pending: list[dict], progress: Progress, report: ProcessReport
) -> None:
    """Analyse and store each pending document, one transaction per document."""
    with progress(pending, len(pending), "Analysing documents") as documents:
        work = ((document, document["text"], json.loads(document["sections"] or "[]")) for document in documents)
        stored = StoredVectors(db, analyzer.embedder) if analyzer.embedder else None
        for document, analysed, embedded in analyzer.analyse_many(work, reuse=stored):
            sentences, stances, vectors = analysis_rows(document, analysed, analyzer.embedder)
            with write_transaction(db):
                replace_analysis(db, document, sentences, stances, analyzer.version)
                if vectors:
                    db["embeddings"].upsert_all(vectors, pk=("sentence_id", "model"))
                    report.reused_vectors += stored.reused_in(analysed)
                    report.embedded += embedded
            report.documents += 1
            report.sentences += len(sentences)
            report.stances += len(stances)


def pending_documents(db: sqlite_utils.Database, nlp_version: str) -> list[dict]:
    return list(
        db.query(
            """
            SELECT d.id, d.text, d.text_sha256, d.state, d.sections
            FROM documents d LEFT JOIN analysed_documents a ON a.document_id = d.id
            WHERE a.document_id IS NULL OR a.text_sha256 != d.text_sha256
               OR a.nlp_version != :version
            ORDER BY d.id
            """,
            {"version": nlp_version},
        )
    )


def analysis_rows(
    document: dict, analysed: list[AnalysedSentence], embedder: Embedder | None
) -> tuple[list[dict], list[dict], list[dict]]:
    """Rows for sentences, stances and (when the analyzer embeds) embeddings of one document."""
    sentence_rows, stance_rows, vector_rows = [], [], []
    for sentence in analysed:
        sentence_id = f"{document['id']}-{sentence.position:04d}"
        if sentence.vector is not None and embedder is not None:
            vector_rows.append({
                "sentence_id": sentence_id,
                "model": embedder.model_name,
                "text_sha256": sha256_hex(sentence.text),
                "vector": to_blob(sentence.vector),
            })
        sentence_rows.append(
            {
                "id": sentence_id,
                "document_id": document["id"],
                "position": sentence.position,
                "text": sentence.text,
                "text_sha256": sha256_hex(sentence.text),
                "char_start": sentence.char_start,
                "char_end": sentence.char_end,
                "section": sentence.section,
            }
        )
        stance_rows.extend(
            {
                "sentence_id": sentence_id,
                "document_id": document["id"],
                "state": document["state"],
                "norm_id": found.norm_id,
                "stance": found.stance,
                "confidence": found.confidence,
                "method": found.method,
                "cue": found.cue,
            }
            for found in sentence.stances
        )
    return sentence_rows, stance_rows, vector_rows


def replace_analysis(
    db: sqlite_utils.Database,
    document: dict,
    sentences: list[dict],
    stances: list[dict],
    nlp_version: str,
) -> None:
    """Swap a document's sentences and stances for a new analysis, in the caller's transaction.

    Sentence ids are stable (document id + position), so vectors of sentences
    whose text did not change survive a re-analysis.
    """
    doc_id = document["id"]
    db.execute("DELETE FROM stances WHERE document_id = ?", [doc_id])
    stale = "SELECT id FROM sentences WHERE document_id = ? AND position >= ?"
    db.execute(f"DELETE FROM embeddings WHERE sentence_id IN ({stale})", [doc_id, len(sentences)])
    db.execute("DELETE FROM sentences WHERE document_id = ? AND position >= ?", [doc_id, len(sentences)])
    if sentences:
        db["sentences"].upsert_all(sentences, pk="id")
    if stances:
        db["stances"].insert_all(stances, pk=("sentence_id", "norm_id"))
    db["analysed_documents"].upsert(
        {
            "document_id": doc_id,
            "text_sha256": document["text_sha256"],
            "nlp_version": nlp_version,
            "analysed_at": utc_now(),
        },
        pk="document_id",
    )


def embed_new_sentences(
    db: sqlite_utils.Database,
    embedder: Embedder,
    progress: Progress,
    batch_size: int,
    report: ProcessReport,
) -> None:
    todo = list(
        db.query(
            """
            SELECT s.id, s.text, s.text_sha256
            FROM sentences s LEFT JOIN embeddings e ON e.sentence_id = s.id AND e.model = :model
            WHERE e.sentence_id IS NULL OR e.text_sha256 != s.text_sha256
            ORDER BY s.id
            """,
            {"model": embedder.model_name},
        )
    )
    if not todo:
        return
    known = _known_vectors(db, embedder.model_name, {row["text_sha256"] for row in todo})
    batches = list(_batches(todo, batch_size))
    with progress(batches, len(batches), "Embedding sentences") as bar:
        for batch in bar:
            new_texts = sorted({r["text_sha256"]: r["text"] for r in batch if r["text_sha256"] not in known}.items())
            if new_texts:
                vectors = embedder.embed([text for _, text in new_texts])
                known.update({sha: to_blob(vector) for (sha, _), vector in zip(new_texts, vectors, strict=True)})
                report.embedded += len(new_texts)
            report.reused_vectors += len(batch) - len(new_texts)
            rows = [
                {
                    "sentence_id": row["id"],
                    "model": embedder.model_name,
                    "text_sha256": row["text_sha256"],
                    "vector": known[row["text_sha256"]],
                }
                for row in batch
            ]
            with write_transaction(db):
                db["embeddings"].upsert_all(rows, pk=("sentence_id", "model"))


class StoredVectors:
    """`reuse` for Analyzer.analyse_many: the vectors already stored for a document's texts
    (the same sentence in another document, or an unchanged one re-analysed).

    Lookups and results come in the same document order, so a queue says which of
    each document's vectors were reused.
    """

    def __init__(self, db: sqlite_utils.Database, embedder: Embedder) -> None:
        self.db = db
        self.model = embedder.model_name
        self.supplied: deque[set[str]] = deque()

    def __call__(self, texts: list[str]) -> dict[str, np.ndarray]:
        by_hash = {sha256_hex(text): text for text in texts}
        known = _known_vectors(self.db, self.model, set(by_hash))
        vectors = {by_hash[sha]: from_blob(blob) for sha, blob in known.items()}
        self.supplied.append(set(vectors))
        return vectors

    def reused_in(self, analysed: list[AnalysedSentence]) -> int:
        """How many sentences of the next document in order took a stored vector."""
        supplied = self.supplied.popleft()
        return sum(sentence.text in supplied for sentence in analysed)


def _known_vectors(db: sqlite_utils.Database, model: str, hashes: set[str]) -> dict[str, bytes]:
    """Vectors already computed for these texts (the same sentence in another document)."""
    known: dict[str, bytes] = {}
    ordered = sorted(hashes)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for sha, vector in db.execute(
            f"SELECT text_sha256, vector FROM embeddings WHERE model = ? AND text_sha256 IN ({marks})",
            [model, *chunk],
        ).fetchall():
            known.setdefault(sha, vector)
    return known


def _batches(rows: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
