"""Live nearest-neighbour search in the published file (db.vectors): index, knn, canned query."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from datasette.app import Datasette

from db import vectors
from db.connection import open_db
from db.publish import publish
from db.site import datasette_kwargs
from nlp.analyzer import Analyzer
from nlp.embedder import to_blob
from nlp.process import process
from tests.conftest import FakeEmbedder, load_sample_documents

LIVE_COLUMNS = ["sentence_id", "distance", "text", "state", "document_id", "date", "stances"]


def working_with_vectors(folder: Path, unit_vectors: np.ndarray) -> Path:
    """A working database whose sentences carry the given vectors (10 sentences a document)."""
    db = open_db(folder / "work.db")
    states = ["FRA", "DEU", "CHN", "BRA"]
    documents, sentences, embeddings = [], [], []
    for n, vector in enumerate(unit_vectors):
        doc_id = f"doc{n // 10:04d}"
        if n % 10 == 0:
            documents.append({"id": doc_id, "url": f"https://example.invalid/{doc_id}", "text": "...",
                              "state": states[n // 10 % 4], "date": "2024-01-01",
                              "provenance": "synthetic-sample"})
        sentence_id = f"{doc_id}-{n % 10:04d}"
        sentences.append({"id": sentence_id, "document_id": doc_id, "position": n % 10,
                          "text": f"Sentence {n} on sovereignty."})
        embeddings.append({"sentence_id": sentence_id, "model": "test-model",
                           "text_sha256": str(n), "vector": to_blob(vector)})
    db["documents"].insert_all(documents)
    db["sentences"].insert_all(sentences)
    db["embeddings"].insert_all(embeddings)
    db.close()
    return folder / "work.db"


def published_with_vectors(folder: Path, unit_vectors: np.ndarray) -> Path:
    """The published file (publish builds the vector index) of `working_with_vectors`."""
    return publish(working_with_vectors(folder, unit_vectors), folder / "normwatch.db")


def clustered_unit_vectors(n: int, dims: int = 384, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dims))
    vectors = centres[rng.integers(0, 20, n)] + 0.8 * rng.standard_normal((n, dims))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def exact_top_k(unit_vectors: np.ndarray, query: int, k: int) -> list[tuple[int, float]]:
    distances = 1.0 - unit_vectors @ unit_vectors[query]
    distances[query] = np.inf
    order = np.argsort(distances, kind="stable")[:k]
    return [(int(i), float(distances[i])) for i in order]


def sentence_id(n: int) -> str:
    return f"doc{n // 10:04d}-{n % 10:04d}"


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """120 sentences: fewer than the candidate pool, so knn must equal exhaustive search."""
    unit_vectors = clustered_unit_vectors(120)
    return published_with_vectors(tmp_path_factory.mktemp("small"), unit_vectors), unit_vectors


def test_index_build_reports_what_it_did(tmp_path):
    path = working_with_vectors(tmp_path, clustered_unit_vectors(40))
    stats = vectors.build_vector_index(path)
    assert stats["vectors"] == 40 and stats["dimensions"] == 384
    assert stats["model"] == "test-model" and stats["float_vectors_dropped"]
    assert stats["bytes_after"] < 500_000  # the index of a small file stays small


def test_published_file_has_index_instead_of_float_vectors(small):
    path, unit_vectors = small
    with contextlib.closing(vectors.connect(path)) as conn:
        assert conn.execute(f"SELECT count(*) FROM {vectors.INDEX_TABLE}").fetchone()[0] == 120
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'embeddings'").fetchone()
    # Readable without sqlite-vec: the plain int8 table, 384 bytes a sentence.
    with contextlib.closing(sqlite3.connect(path)) as plain:
        lengths = plain.execute(f"SELECT DISTINCT length(vector) FROM {vectors.VECTOR_TABLE}").fetchall()
        assert lengths == [(384,)]


def test_knn_equals_exact_search_on_small_data(small):
    path, unit_vectors = small
    # Exhaustive search over what is stored (int8); the float distances barely differ.
    stored = vectors.quantize_int8(unit_vectors).astype(np.float64)
    stored /= np.linalg.norm(stored, axis=1, keepdims=True)
    with contextlib.closing(vectors.connect(path)) as conn:
        for query in range(0, 120, 7):
            found = vectors.knn(conn, sentence_id(query), k=10)
            exact = exact_top_k(stored, query, 10)
            assert [sid for sid, _ in found] == [sentence_id(i) for i, _ in exact]
            assert np.allclose([d for _, d in found], [d for _, d in exact], atol=1e-5)
            float_distances = [1 - unit_vectors[i] @ unit_vectors[query] for i, _ in exact]
            assert np.allclose([d for _, d in found], float_distances, atol=0.01)


def test_knn_of_a_float_vector_finds_its_sentence_first(small):
    path, unit_vectors = small
    with contextlib.closing(vectors.connect(path)) as conn:
        found = vectors.knn(conn, unit_vectors[42], k=3)
        with pytest.raises(KeyError):
            vectors.knn(conn, "no-such-sentence")
    assert found[0][0] == sentence_id(42) and found[0][1] == pytest.approx(0, abs=1e-3)


def test_knn_recall_when_candidates_are_a_fraction(tmp_path):
    unit_vectors = clustered_unit_vectors(3000)
    path = published_with_vectors(tmp_path, unit_vectors)
    hits = 0
    with contextlib.closing(vectors.connect(path)) as conn:
        for query in range(0, 3000, 150):
            found = {sid for sid, _ in vectors.knn(conn, sentence_id(query))}
            hits += len(found & {sentence_id(i) for i, _ in exact_top_k(unit_vectors, query, 10)})
    assert hits / 200 >= 0.9


def test_live_similar_canned_query_in_datasette(tmp_path):
    db = open_db(tmp_path / "work.db")
    load_sample_documents(db)
    process(db, Analyzer(), FakeEmbedder())
    db.close()
    path = publish(tmp_path / "work.db", tmp_path / "normwatch.db")
    with contextlib.closing(vectors.connect(path)) as conn:
        query = conn.execute(
            "SELECT sentence_id FROM stances ORDER BY sentence_id LIMIT 1"
        ).fetchone()[0]
        expected = vectors.knn(conn, query, k=10)
    kwargs = datasette_kwargs(path)

    async def fetch():
        return await Datasette(**kwargs).client.get(
            f"/normwatch/similar_live.json?sentence_id={query}&_shape=objects"
        )

    response = asyncio.run(fetch())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["columns"] == LIVE_COLUMNS
    rows = body["rows"]
    assert [row["sentence_id"] for row in rows] == [sid for sid, _ in expected]
    assert len(rows) == 10 and query not in {row["sentence_id"] for row in rows}
    assert all(row["text"] and row["date"] for row in rows)


def test_file_without_embeddings(tmp_path):
    open_db(tmp_path / "work.db").close()
    path = publish(tmp_path / "work.db", tmp_path / "normwatch.db")
    with contextlib.closing(vectors.connect(path)) as conn:
        assert conn.execute(vectors.LIVE_SIMILAR_SQL, {"sentence_id": "x-0000"}).fetchall() == []
        assert vectors.knn(conn, np.ones(vectors.DEFAULT_DIMENSIONS, dtype=np.float32)) == []
