"""Throughput of `process` against the bare embedding model, measured in one run.

    python bench/nlp.py [--copies 20] [--repeat 2] [--ours onnx-int8] [--profile]

Builds a working database of the sample position pages, copied with a marker so
the sentences of each copy differ (only the page banner repeats, as boilerplate
does), at least 200 documents. Then, each phase in its own child process (so
peak RSS is its own), in --repeat rounds of alternating order, the fastest run
of each phase counting (other work on a shared machine only ever slows a run down):
  ours   -- nlp.process.process with Analyzer(embedder=...) on a fresh copy of the
            database, for each embedder kind (nlp.embedder.default_embedder),
            each run followed by a second process that must find nothing to do;
  bare   -- sentence-transformers' PyTorch all-MiniLM-L6-v2, encode(batch 64) of
            every sentence our analysis produced.
Our time counts from a built analyzer (stance model trained, semantic layer
fitted), as the bare time counts from a loaded model; those setup times are
printed apart, with CPU seconds and where our non-embedding time goes. The last line is

    ratio <ours sentences/s / bare sentences/s>      (for --ours, 1.0 = no overhead)
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import pstats
import re
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nlp.embedder import DEFAULT_EMBEDDER, EMBEDDER_KINDS  # noqa: E402

MIN_DOCUMENTS = 200
SENTENCE_END = re.compile(r"(?=[.!?][\"”]?(?:\s|$))")


def sample_documents(copies: int):
    """The sample position pages, `copies` times, each copy's sentences made distinct."""
    from scrapy.http import HtmlResponse

    from crawler.pipelines import document_from_item
    from crawler.sample_server import SAMPLE_ROOT
    from crawler.spiders.ccdcoe_positions import CcdcoePositionsSpider
    from db.states import registry

    spider = CcdcoePositionsSpider()
    pages = sorted((SAMPLE_ROOT / "ccdcoe" / "wiki").glob("*position_of_*.html"))
    for copy in range(copies):
        for page in pages:
            response = HtmlResponse(url=f"https://bench.invalid/{copy}/{page.stem}",
                                    body=page.read_bytes(), encoding="utf-8")
            for item in spider.parse_document(response, listing={}):
                # Mark every sentence so no vector can be reused across copies.
                item.text = SENTENCE_END.sub(f" c{copy}", item.text)
                item.state = registry().resolve(item.speaker)
                yield document_from_item(item, spider.name, None)


def build_database(path: Path, copies: int) -> int:
    from db.connection import open_db
    from db.store import insert_document

    db = open_db(path)
    count = 0
    for document in sample_documents(copies):
        insert_document(db, document)
        count += 1
    db.close()
    return count


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timers:
    """Seconds spent in wrapped callables, by label."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, label: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
        return timed


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# Per child process: the loaded model or built analyzer, reused by every run in that child.
_LOADED: dict = {}


def run_bare(db_path: Path) -> dict:
    """One sentence-transformers encode at batch 64 of every analysed sentence."""
    import sqlite3

    from nlp.embedder import MiniLMEmbedder

    if "bare" not in _LOADED:
        started = time.perf_counter()
        model = MiniLMEmbedder(batch_size=64, workers=1).model  # torch's own threads, on every core
        model.encode(["warm up the model"])
        _LOADED["bare"] = (model, time.perf_counter() - started)
    model, setup = _LOADED["bare"]
    with sqlite3.connect(db_path) as conn:
        texts = [text for (text,) in conn.execute("select text from sentences order by id")]
    started, cpu = time.perf_counter(), cpu_seconds()
    model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return {"sentences": len(texts), "seconds": time.perf_counter() - started, "cpu": cpu_seconds() - cpu,
            "setup": setup, "peak_rss_mb": peak_rss_mb()}


def _analyzer(kind: str):
    """(analyzer, embedder, timers, setup seconds), built once per child."""
    if kind not in _LOADED:
        from nlp.analyzer import Analyzer
        from nlp.embedder import default_embedder

        started = time.perf_counter()
        embedder = default_embedder(kind)
        analyzer = Analyzer(embedder=embedder)
        if analyzer.semantic is not None:
            _ = analyzer.semantic.classifier  # fit on the prototypes now, not inside the timed run
        setup = time.perf_counter() - started
        timers = Timers()
        embedder.embed = timers.wrap("embedding", embedder.embed)
        analyzer.analyse_many = _timed_iteration(timers, "analysis", analyzer.analyse_many)
        if analyzer.semantic is not None:  # probabilities for the detection decision, matches without it
            for name in ("probabilities", "matches"):
                setattr(analyzer.semantic, name, timers.wrap("semantic layer", getattr(analyzer.semantic, name)))
        analyzer.nlp.pipe = _timed_iteration(timers, "spaCy pipeline", analyzer.nlp.pipe)
        _LOADED[kind] = (analyzer, embedder, timers, setup)
    return _LOADED[kind]


def run_ours(template: Path, kind: str, number: int, profile: bool) -> dict:
    """process() on a fresh copy of the template, the analyzer embedding through `kind`;
    then a second process that must do nothing."""
    from db.connection import open_db
    from nlp.process import process

    analyzer, embedder, timers, setup = _analyzer(kind)
    path = template.with_name(f"{kind}-{number}.db")
    shutil.copy(template, path)
    db = open_db(path)
    timers.seconds.clear()
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), cpu_seconds()
    if profiler:
        profiler.enable()
    report = process(db, analyzer, embedder)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    before = db.conn.total_changes
    rerun = process(db, analyzer, embedder)
    idle = rerun.documents == rerun.sentences == rerun.embedded == 0 and db.conn.total_changes == before
    db.close()
    return {"sentences": report.sentences, "documents": report.documents, "stances": report.stances,
            "seconds": seconds, "cpu": cpu, "timers": dict(timers.seconds), "path": str(path),
            "setup": setup, "peak_rss_mb": peak_rss_mb(), "rerun_idle": idle}


def _timed_iteration(timers: Timers, label: str, generator: Callable) -> Callable:
    """spaCy's pipe and analyse_many are lazy: time the iteration, not the call."""
    def timed(*args, **kwargs):
        items = generator(*args, **kwargs)
        while True:
            started = time.perf_counter()
            try:
                item = next(items)
            except StopIteration:
                return
            finally:
                timers.seconds[label] += time.perf_counter() - started
            yield item
    return timed


def best_of(runs: list[dict]) -> dict:
    best = min(runs, key=lambda run: run["seconds"])
    return {**best, "all_seconds": [run["seconds"] for run in runs],
            "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
            "rerun_idle": all(run.get("rerun_idle", True) for run in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per phase; the fastest counts")
    parser.add_argument("--ours", choices=EMBEDDER_KINDS, default=DEFAULT_EMBEDDER,
                        help="the embedder kind the last line's ratio is for")
    parser.add_argument("--profile", action="store_true", help="cProfile each process run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / "template.db"
        documents = build_database(template, args.copies)
        if documents < MIN_DOCUMENTS:
            parser.error(f"{documents} documents: raise --copies to reach {MIN_DOCUMENTS}")
        # One fresh interpreter per phase (its imports and peak RSS are its own), kept for
        # all rounds; rounds alternate the order so no phase always gets the quiet minutes.
        spawn = multiprocessing.get_context("spawn")
        phases = [*EMBEDDER_KINDS, "bare"]
        children = {phase: ProcessPoolExecutor(1, mp_context=spawn) for phase in phases}
        runs: dict[str, list[dict]] = {phase: [] for phase in phases}
        try:
            for number in range(args.repeat):
                for phase in phases if number % 2 == 0 else phases[::-1]:
                    if phase == "bare":
                        # Exactly the sentences our analysis produced (the same for every kind).
                        call = (run_bare, template.with_name(f"{args.ours}-0.db"))
                    else:
                        call = (run_ours, template, phase, number, args.profile)
                    runs[phase].append(children[phase].submit(*call).result())
        finally:
            for child in children.values():
                child.shutdown()
        results = {kind: best_of(runs[kind]) for kind in EMBEDDER_KINDS}
        bare = best_of(runs["bare"])

    print(f"documents {documents}, sentences {bare['sentences']}, best of {args.repeat} runs")
    print(f"{'':28} {'sentences/s':>11} {'seconds':>8} {'CPU s':>6} {'setup s':>8} {'peak RSS MB':>12}  all runs s")
    rows = [("bare torch encode, batch 64", bare)]
    rows += [(f"ours, {kind}", results[kind]) for kind in EMBEDDER_KINDS]
    for name, result in rows:
        print(f"{name:28} {result['sentences'] / result['seconds']:11.1f} {result['seconds']:8.1f} "
              f"{result['cpu']:6.1f} {result['setup']:8.1f} {result['peak_rss_mb']:12.0f}  "
              f"{' '.join(f'{s:.1f}' for s in result['all_seconds'])}")
    for kind in EMBEDDER_KINDS:
        result = results[kind]
        timers = result["timers"]
        # The embedder runs in a background thread, beside the analysis in the main thread.
        embedding = timers.get("embedding", 0.0)
        analysis = timers.get("analysis", 0.0)
        spacy_time = timers.get("spaCy pipeline", 0.0)
        semantic = timers.get("semantic layer", 0.0)
        print(f"{kind}: embedding {embedding:.1f}s in the background; main thread: spaCy {spacy_time:.1f}s, "
              f"semantic layer {semantic:.1f}s, rest of analysis and waiting for vectors "
              f"{analysis - spacy_time - semantic:.1f}s, database and the rest {result['seconds'] - analysis:.1f}s; "
              f"stances {result['stances']}; second process idle: {result['rerun_idle']}")
        assert result["sentences"] == bare["sentences"] and result["rerun_idle"]
    bare_rate = bare["sentences"] / bare["seconds"]
    for kind in EMBEDDER_KINDS:
        if kind != args.ours:
            print(f"ratio for {kind}: {results[kind]['sentences'] / results[kind]['seconds'] / bare_rate:.3f}")
    print(f"ratio {results[args.ours]['sentences'] / results[args.ours]['seconds'] / bare_rate:.3f}")


if __name__ == "__main__":
    main()
