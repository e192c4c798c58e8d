"""Throughput of `process` against the bare embedding model, measured in one run.

    python bench/process_speed.py [--copies 20]

Builds a working database of the sample position pages, copied with a marker so
every sentence is distinct (no vector reuse), then times:
  bare     -- SentenceTransformer.encode on the same sentence texts;
  pipeline -- nlp.process.process: split, norms, stances, embeddings, SQLite writes.
Prints sentences/s for both and the ratio pipeline/bare (1.0 = no overhead).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.pipelines import document_from_item  # noqa: E402
from crawler.sample_server import SAMPLE_ROOT  # noqa: E402
from crawler.spiders.ccdcoe_positions import CcdcoePositionsSpider  # noqa: E402
from db.connection import open_db  # noqa: E402
from db.states import registry  # noqa: E402
from db.store import insert_document  # noqa: E402
from nlp.analyzer import Analyzer  # noqa: E402
from nlp.embedder import MiniLMEmbedder  # noqa: E402
from nlp.process import process  # noqa: E402


def sample_documents(copies: int):
    from scrapy.http import HtmlResponse

    spider = CcdcoePositionsSpider()
    pages = sorted((SAMPLE_ROOT / "ccdcoe" / "wiki").glob("*position_of_*.html"))
    for copy in range(copies):
        for page in pages:
            response = HtmlResponse(url=f"https://bench.invalid/{copy}/{page.stem}",
                                    body=page.read_bytes(), encoding="utf-8")
            for item in spider.parse_document(response, listing={}):
                # Mark every sentence so no vector can be reused across copies.
                item.text = item.text.replace(".", f" c{copy}.")
                item.sections = []
                item.state = registry().resolve(item.speaker)
                yield document_from_item(item, spider.name, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()

    embedder = MiniLMEmbedder()
    embedder.embed(["warm up the model"])
    analyzer = Analyzer()
    with tempfile.TemporaryDirectory() as folder:
        db = open_db(Path(folder) / "bench.db")
        for document in sample_documents(args.copies):
            insert_document(db, document)

        started = time.perf_counter()
        report = process(db, analyzer, embedder)
        pipeline_seconds = time.perf_counter() - started
        texts = [row["text"] for row in db.query("select text from sentences order by id")]

        started = time.perf_counter()
        embedder.model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True)
        bare_seconds = time.perf_counter() - started

        started = time.perf_counter()
        for row in db.query("select text from documents"):
            analyzer.analyse(row["text"])
        analysis_seconds = time.perf_counter() - started

    sentences = report.sentences
    print(f"documents {report.documents}, sentences {sentences}, stances {report.stances}, "
          f"embedded {report.embedded} (reused {report.reused_vectors})")
    print(f"bare model       {sentences / bare_seconds:8.1f} sentences/s")
    print(f"pipeline         {sentences / pipeline_seconds:8.1f} sentences/s")
    print(f"analysis only    {sentences / analysis_seconds:8.1f} sentences/s")
    print(f"ratio {sentences / pipeline_seconds / (sentences / bare_seconds):.3f}")


if __name__ == "__main__":
    main()
