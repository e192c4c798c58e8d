"""Site benchmark (not in CI): page latency and live nearest-neighbour search at 1M sentences.

    python bench/site.py [--sentences 1000000] [--reuse]

Builds a SYNTHETIC working database with the real schema (every state, 50 sentences
a document, stances on ~15% of sentences, 384-d embeddings), publishes it to
bench/out/normwatch.db, serves it with a real Datasette subprocess on 127.0.0.1 and
times the main pages over HTTP (sequential). Then times top-10 search: sqlite-vec
two-stage (db.vectors.knn) against brute-force numpy on the float vectors, with
recall@10 of sqlite-vec against exact float search. Last line:

    p95_ms <worst page p95> knn_ms <sqlite-vec knn p95> recall10 <recall>

Embeddings are synthetic but structured like real MiniLM output on our statements
(calibrated on the sample pages: mean vector of length ~0.5, mean pairwise cosine
~0.25, largest component ~0.16): a shared direction, 300 topics tied to the
sentence's subject matter, 9,000 subtopics, paraphrase groups of ~10, and noise.
Pure random vectors make binary quantisation look worse than on real data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import click
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from db import vectors
from db.connection import open_db
from db.publish import publish
from db.site import datasette_command
from nlp.embedder import MODEL_NAME
from tests.conftest import free_port

logger = logging.getLogger("bench.site")
OUT = REPO / "bench" / "out"
SENTENCES_PER_DOCUMENT = 50
STANCE_SHARE = 0.15
DIMENSIONS = 384
PAGES = [
    "/",
    "/normwatch/positions_for_state?state=FRA",
    "/normwatch/states_on_norm?norm=debate.new-treaty",
    "/state/FRA",
    "/norm/debate.new-treaty",
    "/matrix",
    "/normwatch/sentences?_search=sovereignty",
    "/normwatch/documents?_facet=state",
]
FORUMS = ["First Committee", "OEWG 2021-2025", "GGE", "national position", "Security Council"]
OPENERS = ["", "In our view,", "Furthermore,", "At the same time,", "As we have said before,",
           "Mr. Chair,", "We recall that", "Let me be clear:", "Allow me to underline that"]
SUBJECTS = ["the Government", "our delegation", "my country", "each State", "the international community",
            "all States", "the region", "our national strategy"]
VERBS = ["considers that", "reaffirms that", "believes that", "recognises that", "is concerned that",
         "stresses that", "notes that", "is convinced that"]
TOPICS = [
    "state sovereignty applies in cyberspace and must be respected",
    "the principle of due diligence should guide the conduct of States",
    "critical infrastructure must be protected from malicious ICT activity",
    "international humanitarian law applies to cyber operations during armed conflict",
    "the attribution of cyber incidents must rest on credible evidence",
    "a new legally binding instrument is not needed at this stage",
    "confidence-building measures reduce the risk of misunderstanding and escalation",
    "capacity-building helps developing countries close the digital divide",
    "human rights apply online as they do offline",
    "the Programme of Action should become the permanent mechanism",
    "countermeasures must remain proportionate and temporary",
    "coercive cyber operations can amount to prohibited intervention",
    "the integrity of the supply chain is a shared responsibility",
    "emergency response teams must never be the target of attacks",
    "ransomware against hospitals is unacceptable",
    "the eleven voluntary norms remain the foundation of responsible behaviour",
    "the participation of stakeholders enriches our discussions",
    "the Charter of the United Nations applies in its entirety",
    "vulnerabilities should be reported responsibly",
    "electoral processes deserve particular protection",
]
TAILS = ["", " in accordance with the Charter of the United Nations", " within the framework of the OEWG",
         " as reflected in the 2015 GGE report", " and we call on all States to act accordingly",
         " in line with the consensus reports", " for the benefit of all", " without exception"]
STANCE_PHRASES = {"support": "firmly supports the view that", "oppose": "does not share the view that",
                  "qualified": "supports, with reservations, the view that", "mention": "takes note of the view that"}


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


class VectorModel:
    """Structured synthetic sentence vectors (see the module docstring)."""

    def __init__(self, sentences: int, seed: int = 0, topics: int = 300, subtopics: int = 30) -> None:
        self.rng = np.random.default_rng(seed)
        self.shared = unit(self.rng.standard_normal(DIMENSIONS))
        self.topics = unit(self.rng.standard_normal((topics, DIMENSIONS)))
        self.subtopics = unit(self.rng.standard_normal((topics * subtopics, DIMENSIONS)))
        self.per_topic = subtopics
        groups = max(sentences // 10, 1)
        self.paraphrases = unit(self.rng.standard_normal((groups, DIMENSIONS))).astype(np.float32)
        self.paraphrase_subtopic = self.rng.integers(0, subtopics, groups)

    def vectors(self, subject_matter: np.ndarray) -> np.ndarray:
        """One vector per sentence; sentences on the same subject share topics."""
        n = len(subject_matter)
        spread = len(self.topics) // len(TOPICS)
        topic = subject_matter * spread + self.rng.integers(0, spread, n)
        group = self.rng.integers(0, len(self.paraphrases), n)
        subtopic = topic * self.per_topic + self.paraphrase_subtopic[group]
        noise = unit(self.rng.standard_normal((n, DIMENSIONS)))
        mixed = (0.5 * self.shared + 0.5 * self.topics[topic] + 0.4 * self.subtopics[subtopic]
                 + 0.35 * self.paraphrases[group] + self.rng.uniform(0.25, 0.6, (n, 1)) * noise)
        return unit(mixed).astype("<f4")


def sentence_text(rng: random.Random, subject_matter: int, state_name: str, stance: str | None,
                  norm_label: str | None) -> str:
    opener = rng.choice(OPENERS)
    subject = rng.choice([*SUBJECTS, state_name])
    if stance:
        body = f"{subject} {STANCE_PHRASES[stance]} {norm_label.lower()}, and that {TOPICS[subject_matter]}"
    else:
        body = f"{subject} {rng.choice(VERBS)} {TOPICS[subject_matter]}"
    text = f"{opener} {body}{rng.choice(TAILS)}.".strip()
    return text[0].upper() + text[1:]


def build_working_db(path: Path, sentences: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """The synthetic working database; returns sentence ids and their float vectors, aligned."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = open_db(path)
    # A throwaway file: no journal, no fsync (a crash means rerunning the bench).
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    conn = db.conn
    states = conn.execute("SELECT iso3, name FROM states ORDER BY iso3").fetchall()
    norms = conn.execute("SELECT id, label FROM norms ORDER BY id").fetchall()
    rng = random.Random(seed)
    model = VectorModel(sentences, seed)
    all_vectors = np.empty((sentences, DIMENSIONS), dtype=np.float32)
    ids: list[str] = []
    documents = -(-sentences // SENTENCES_PER_DOCUMENT)
    per_batch = 2000  # documents per transaction: 100,000 sentences
    with click.progressbar(range(0, documents, per_batch), label="Generating", file=sys.stderr) as bar:
        for first in bar:
            conn.execute("BEGIN")
            for number in range(first, min(first + per_batch, documents)):
                count = min(SENTENCES_PER_DOCUMENT, sentences - len(ids))
                _insert_document(conn, rng, model, number, count, states, norms, ids, all_vectors)
            conn.execute("COMMIT")
    db.close()
    return ids, all_vectors


def _insert_document(conn, rng, model, number, count, states, norms, ids, all_vectors) -> None:
    iso3, state_name = states[number % len(states)]
    doc_id = hashlib.sha256(f"synthetic-{number}".encode()).hexdigest()[:16]
    day = (date(2015, 1, 1) + timedelta(days=rng.randrange(3650))).isoformat()
    forum = rng.choice(FORUMS)
    subject_matter = np.array([rng.randrange(len(TOPICS)) for _ in range(count)])
    sentence_rows, stance_rows, texts = [], [], []
    offset = 0
    for position in range(count):
        sentence_id = f"{doc_id}-{position:04d}"
        stance = norm = None
        if rng.random() < STANCE_SHARE:
            stance = rng.choice(list(STANCE_PHRASES))
            norm = rng.choice(norms)
            stance_rows.append((sentence_id, doc_id, iso3, norm[0], stance,
                                round(rng.uniform(0.5, 0.99), 3), "synthetic", STANCE_PHRASES[stance]))
        text = sentence_text(rng, int(subject_matter[position]), state_name, stance, norm and norm[1])
        texts.append(text)
        sentence_rows.append((sentence_id, doc_id, position, text, _sha(text), offset, offset + len(text)))
        offset += len(text) + 1
    body = " ".join(texts)
    conn.execute(
        "INSERT INTO documents (id, url, state, speaker, speaker_role, date, title, forum, doc_type,"
        " language, text, text_sha256, sections, spider, fetched_at, provenance)"
        " VALUES (?, ?, ?, ?, 'state', ?, ?, ?, 'statement', 'en', ?, ?, '[]', 'synthetic', ?,"
        " 'synthetic-sample')",
        (doc_id, f"https://synthetic.invalid/{doc_id}", iso3, state_name, day,
         f"Statement by {state_name} at the {forum}, {day}", forum, body, _sha(body), day),
    )
    conn.executemany("INSERT INTO sentences (id, document_id, position, text, text_sha256, char_start,"
                     " char_end) VALUES (?, ?, ?, ?, ?, ?, ?)", sentence_rows)
    conn.executemany("INSERT INTO stances VALUES (?, ?, ?, ?, ?, ?, ?, ?)", stance_rows)
    start = len(ids)
    all_vectors[start:start + count] = model.vectors(subject_matter)
    conn.executemany(
        "INSERT INTO embeddings VALUES (?, ?, ?, ?)",
        [(row[0], MODEL_NAME, row[4], all_vectors[start + i].tobytes()) for i, row in enumerate(sentence_rows)],
    )
    conn.execute("INSERT INTO analysed_documents VALUES (?, ?, 'synthetic', ?)", (doc_id, _sha(body), day))
    ids.extend(row[0] for row in sentence_rows)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def vectors_of(working: Path) -> tuple[list[str], np.ndarray]:
    """Float vectors back from the working DB (for --reuse): ids in the same order."""
    rows = open_db(working, migrate=False).execute(
        "SELECT sentence_id, vector FROM embeddings ORDER BY rowid").fetchall()
    return [r[0] for r in rows], np.frombuffer(b"".join(r[1] for r in rows), "<f4").reshape(-1, DIMENSIONS)


@contextlib.contextmanager
def datasette_server(published: Path):
    """A real `datasette serve` on the published file; yields its base URL."""
    port = free_port()
    command = datasette_command(published, "127.0.0.1", port)
    log = (OUT / "datasette.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{base}/-/versions.json", timeout=5).read()
                break
            if server.poll() is not None:
                raise RuntimeError(f"datasette exited {server.returncode}: see {OUT / 'datasette.log'}")
            time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def time_page(base: str, path: str, requests: int) -> dict:
    """Sequential GETs after one warm-up; a 404 means the page is not built yet."""
    timings, status = [], None
    for attempt in range(requests + 1):
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(base + path, timeout=60) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, TimeoutError) as error:
            return {"path": path, "status": f"error: {error}"}
        if status != 200:
            return {"path": path, "status": "missing" if status == 404 else status}
        if attempt:
            timings.append((time.perf_counter() - started) * 1000)
    return {"path": path, "status": 200, "p50_ms": round(float(np.percentile(timings, 50)), 1),
            "p95_ms": round(float(np.percentile(timings, 95)), 1)}


def knn_benchmark(published: Path, ids: list[str], float_vectors: np.ndarray, queries: int) -> dict:
    """sqlite-vec two-stage vs brute-force numpy, and recall@10 against exact float search."""
    position = {sentence_id: n for n, sentence_id in enumerate(ids)}
    chosen = np.random.default_rng(1).choice(len(ids), queries, replace=False)
    sqlite_ms, numpy_ms, hits = [], [], 0
    with contextlib.closing(vectors.connect(published)) as conn:
        vectors.knn(conn, ids[chosen[0]])  # warm the page cache
        for query in chosen:
            started = time.perf_counter()
            found = vectors.knn(conn, ids[query], k=10)
            sqlite_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            similarity = float_vectors @ float_vectors[query]
            similarity[query] = -np.inf
            top = np.argpartition(-similarity, 10)[:10]
            top = top[np.argsort(-similarity[top])]
            numpy_ms.append((time.perf_counter() - started) * 1000)
            # A hit is any result at least as near as the exact 10th (ties count).
            tenth = similarity[top[-1]] - 1e-6
            hits += sum(similarity[position[sentence_id]] >= tenth for sentence_id, _ in found)
    return {
        "queries": queries,
        "sqlite_vec_p50_ms": round(float(np.percentile(sqlite_ms, 50)), 1),
        "sqlite_vec_p95_ms": round(float(np.percentile(sqlite_ms, 95)), 1),
        "numpy_p50_ms": round(float(np.percentile(numpy_ms, 50)), 1),
        "numpy_p95_ms": round(float(np.percentile(numpy_ms, 95)), 1),
        "recall10": round(hits / (10 * queries), 4),
    }


def table_bytes(published: Path) -> dict[str, int]:
    """Bytes per table with its indexes, largest first (dbstat: in the stdlib's SQLite build)."""
    with contextlib.closing(sqlite3.connect(f"file:{published}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        owners = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master"))
    sizes: dict[str, int] = {}
    for name, size in rows:
        owner = owners.get(name, name)
        sizes[owner] = sizes.get(owner, 0) + size
    return dict(sorted(sizes.items(), key=lambda item: -item[1]))


@click.command()
@click.option("--sentences", default=1_000_000, show_default=True)
@click.option("--requests", default=20, show_default=True, help="Timed requests per page.")
@click.option("--queries", default=100, show_default=True, help="Nearest-neighbour queries.")
@click.option("--reuse", is_flag=True, help="Reuse bench/out's working and published files.")
def main(sentences: int, requests: int, queries: int, reuse: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    OUT.mkdir(parents=True, exist_ok=True)
    working, published = OUT / "normwatch-work.db", OUT / "normwatch.db"
    results: dict = {"sentences": sentences, "vectors": "synthetic structured (topics + noise)"}
    timings = results.setdefault("seconds", {})
    started = time.perf_counter()
    if reuse:
        ids, float_vectors = vectors_of(working)
    else:
        ids, float_vectors = build_working_db(working, sentences)
        timings["generate"] = round(time.perf_counter() - started)
        logger.info("generated sentences=%d seconds=%s", len(ids), timings["generate"])
        started = time.perf_counter()
        publish(working, published)  # derived tables, vector index, dictionary
        timings["publish"] = round(time.perf_counter() - started)
        logger.info("published seconds=%s", timings["publish"])
    size = published.stat().st_size
    results["bytes"] = size
    results["bytes_per_sentence"] = round(size / len(ids), 1)
    results["table_bytes_per_sentence"] = {
        name: round(size / len(ids), 1) for name, size in table_bytes(published).items()
    }
    started = time.perf_counter()
    with datasette_server(published) as base:
        timings["inspect_and_start"] = round(time.perf_counter() - started)
        with contextlib.closing(vectors.connect(published)) as conn:
            stance_sentence = conn.execute(
                "SELECT sentence_id FROM stances ORDER BY sentence_id LIMIT 1").fetchone()[0]
        extra = [f"/normwatch/similar_live?sentence_id={stance_sentence}",
                 f"/normwatch/similar_live.json?sentence_id={stance_sentence}&_shape=array"]
        results["pages"] = [time_page(base, path, requests) for path in PAGES]
        results["extra_pages"] = [time_page(base, path, requests) for path in extra]
    results["knn"] = knn_benchmark(published, ids, float_vectors, queries)
    (OUT / "site.json").write_text(json.dumps(results, indent=2))

    print(f"sentences {len(ids)}  published {size / 1e6:.0f} MB  bytes/sentence {results['bytes_per_sentence']}")
    for name, per_sentence in results["table_bytes_per_sentence"].items():
        if per_sentence >= 1:
            print(f"  {name:40s} {per_sentence:8.1f} B/sentence")
    print("seconds", json.dumps(timings))
    for page in results["pages"] + results["extra_pages"]:
        if page["status"] == 200:
            print(f"{page['path']:70s} p50 {page['p50_ms']:8.1f} ms  p95 {page['p95_ms']:8.1f} ms")
        else:
            print(f"{page['path']:70s} {page['status']}")
    knn = results["knn"]
    print(f"top-10 knn over {knn['queries']} queries: sqlite-vec p50 {knn['sqlite_vec_p50_ms']} ms "
          f"p95 {knn['sqlite_vec_p95_ms']} ms; numpy p50 {knn['numpy_p50_ms']} ms "
          f"p95 {knn['numpy_p95_ms']} ms; recall@10 {knn['recall10']}")
    answered = [page["p95_ms"] for page in results["pages"] if page["status"] == 200]
    print(f"p95_ms {max(answered, default=float('nan'))} knn_ms {knn['sqlite_vec_p95_ms']} "
          f"recall10 {knn['recall10']}")


if __name__ == "__main__":
    main()
