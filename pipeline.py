#!/usr/bin/env python
"""NormWatch command line: collect statements, analyse them, publish the database.

    python pipeline.py demo                  # sample site -> crawl -> process -> publish -> Datasette
    python pipeline.py run                   # real crawl + process + publish
    python pipeline.py --db X ingest m.jsonl # add local files or texts
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
from pathlib import Path

import click

from nlp.embedder import DEFAULT_EMBEDDER, EMBEDDER_KINDS

REPO = Path(__file__).resolve().parent
DEFAULT_DB = Path("data/normwatch.db")
DEFAULT_PUBLISHED = Path("data/publish/normwatch.db")
DEMO_DB = Path("data/demo/normwatch-work.db")
DEMO_PUBLISHED = Path("data/demo/normwatch.db")
# The sample site is on loopback: no politeness delays needed.
SAMPLE_CRAWL_SETTINGS = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}

logger = logging.getLogger("normwatch")


@click.group()
@click.option(
    "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB,
    show_default=True, help="Working SQLite database.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show crawler and pipeline logs.")
@click.pass_context
def cli(ctx: click.Context, db_path: Path, verbose: bool) -> None:
    """NormWatch: what states say about international law and norms in cyberspace."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = {"db": db_path, "verbose": verbose}


def _writer(ctx: click.Context):
    """Hold the working database's lock, or fail with a clear message."""
    from db.lock import Busy, exclusive

    stack = contextlib.ExitStack()
    try:
        stack.enter_context(exclusive(ctx.obj["db"]))
    except Busy as error:
        raise click.ClickException(str(error)) from None
    return stack


# --- collect --------------------------------------------------------------------------


def available_spiders() -> list[str]:
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    # Not get_project_settings(): it looks for scrapy.cfg in the working directory.
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    return sorted(SpiderLoader.from_settings(settings).list())


def run_spiders(db_path: Path, spiders: list[str], settings: dict[str, str], verbose: bool) -> None:
    """Each spider in its own process: Scrapy's reactor cannot restart within one."""
    from db.connection import open_db

    known = available_spiders()
    unknown = sorted(set(spiders) - set(known))
    if unknown:
        raise click.BadParameter(f"unknown spider(s) {', '.join(unknown)}; known: {', '.join(known)}")
    open_db(db_path).close()  # migrate once, before spiders open it
    failures = []
    for spider in spiders or known:
        command = [sys.executable, "-m", "scrapy", "crawl", spider,
                   "-s", f"NORMWATCH_DB={db_path.resolve()}",
                   "-s", f"HTTPCACHE_DIR={db_path.resolve().parent / 'httpcache'}"]
        if not verbose:
            command += ["-s", "LOG_LEVEL=WARNING"]
        for key, value in settings.items():
            command += ["-s", f"{key}={value}"]
        click.echo(f"Crawling {spider} ...", err=True)
        returncode = subprocess.call(command, cwd=REPO)
        run = _last_run(db_path, spider)
        if run is None:
            failures.append(f"{spider}: did not start (exit {returncode})")
            continue
        click.echo(
            f"  {spider}: {run['documents_new']} new, {run['documents_seen']} seen, "
            f"{run['errors']} errors, finished: {run['finish_reason']}",
            err=True,
        )
        if returncode != 0 or run["finish_reason"] != "finished":
            failures.append(f"{spider}: exit {returncode}, {run['finish_reason'] or 'not finished'}")
    if failures:
        raise click.ClickException("crawl failed: " + "; ".join(failures))


def _last_run(db_path: Path, spider: str) -> dict | None:
    from db.connection import open_db

    db = open_db(db_path, migrate=False)
    try:
        rows = list(db.query(
            "SELECT * FROM crawl_runs WHERE spider = ? ORDER BY id DESC LIMIT 1", [spider]
        ))
    finally:
        db.close()
    return rows[0] if rows else None


def _settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--set")
        settings[key] = value
    return settings


@cli.command()
@click.argument("spiders", nargs=-1)
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE",
              help="Scrapy setting for this crawl, e.g. CCDCOE_BASE_URL=http://127.0.0.1:8000.")
@click.pass_context
def crawl(ctx: click.Context, spiders: tuple[str, ...], pairs: tuple[str, ...]) -> None:
    """Run spiders (all when none are named) into the working database."""
    with _writer(ctx):
        run_spiders(ctx.obj["db"], list(spiders), _settings(pairs), ctx.obj["verbose"])


@cli.command()
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit with status 2 if any line was skipped.")
@click.pass_context
def ingest(ctx: click.Context, manifest: Path, strict: bool) -> None:
    """Add local statements listed in a JSONL MANIFEST (one JSON object per line).

    Fields: path (.txt/.html/.pdf, relative to the manifest) or text; state (ISO alpha-3,
    EUN, AU or a name); date (YYYY-MM-DD); optional title, url, forum, language, doc_type,
    speaker_role, on_behalf_of, provenance. Bad lines are reported and skipped.
    """
    from crawler.ingest import read_manifest
    from db.connection import open_db
    from db.store import insert_document

    new = unchanged = 0
    errors = []
    with _writer(ctx):
        db = open_db(ctx.obj["db"])
        for line in read_manifest(manifest):
            if line.error:
                errors.append(line)
                click.echo(f"{manifest}:{line.number}: skipped: {line.error}", err=True)
            elif insert_document(db, line.document):
                new += 1
            else:
                unchanged += 1
        db.close()
    click.echo(f"Ingested {new} new, {unchanged} already present, {len(errors)} skipped.", err=True)
    if errors and strict:
        ctx.exit(2)


# --- analyse --------------------------------------------------------------------------


def _progress(items, length: int, label: str):
    return click.progressbar(items, length=length, label=label, file=sys.stderr, show_pos=True)


def process_database(db_path: Path, embedder_kind: str | None = DEFAULT_EMBEDDER) -> None:
    """Analyse and embed with an embedder of `embedder_kind` (None: no vectors)."""
    from db.connection import open_db
    from nlp.analyzer import default_analyzer
    from nlp.embedder import default_embedder
    from nlp.process import process as run_process

    db = open_db(db_path)
    try:
        # The analyzer embeds each sentence once (stored by `process`) and uses the vector
        # for semantic norm detection and stance; bench/eval_stance.py measures the variants.
        embedder = default_embedder(embedder_kind) if embedder_kind else None
        report = run_process(db, default_analyzer(embedder), embedder, _progress)
        changes = db.conn.total_changes
    finally:
        db.close()
    click.echo(
        f"Processed {report.documents} documents: {report.sentences} sentences, "
        f"{report.stances} stances; embedded {report.embedded} new texts "
        f"({report.reused_vectors} reused). Rows changed: {changes}.",
        err=True,
    )


@cli.command()
@click.option("--no-embed", is_flag=True, help="Skip sentence embeddings (and the semantic layer).")
@click.option("--embedder", "embedder_kind", type=click.Choice(EMBEDDER_KINDS), default=DEFAULT_EMBEDDER,
              show_default=True, help="int8 ONNX (fast) or the float PyTorch model. Switching "
              "re-analyses every document and replaces the stored vectors.")
@click.pass_context
def process(ctx: click.Context, no_embed: bool, embedder_kind: str) -> None:
    """Analyse documents not yet analysed: sentences, norms, stances, embeddings."""
    with _writer(ctx):
        process_database(ctx.obj["db"], None if no_embed else embedder_kind)


# --- publish --------------------------------------------------------------------------


def publish_database(db_path: Path, out: Path) -> Path:
    from db.publish import PublishError, publish

    try:
        published = publish(db_path, out)
    except PublishError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Published {published} ({published.stat().st_size // 1024} KiB).", err=True)
    return published


@cli.command(name="publish")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_PUBLISHED,
              show_default=True, help="The publishable database file.")
@click.pass_context
def publish_command(ctx: click.Context, out: Path) -> None:
    """Build the publishable file atomically (VACUUM INTO, integrity check, replace)."""
    publish_database(ctx.obj["db"], out)


@cli.command()
@click.argument("database", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                default=DEFAULT_PUBLISHED)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True)
@click.option("--public", is_flag=True,
              help="Settings for an Internet-facing server behind a reverse proxy (see README).")
def serve(database: Path, host: str, port: int, public: bool) -> None:
    """Serve a published DATABASE with Datasette, restarting it when a publish replaces the file."""
    from db.site import serve as serve_site

    serve_site(database, host=host, port=port, public=public)


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_PUBLISHED,
              show_default=True)
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="Scrapy setting.")
@click.pass_context
def run(ctx: click.Context, out: Path, pairs: tuple[str, ...]) -> None:
    """Crawl every source, process, publish: the nightly job."""
    with _writer(ctx):
        run_spiders(ctx.obj["db"], [], _settings(pairs), ctx.obj["verbose"])
        process_database(ctx.obj["db"])
        publish_database(ctx.obj["db"], out)


@cli.command()
@click.option("--readme", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Rewrite the generated data-dictionary section of this README instead of printing.")
def dictionary(readme: Path | None) -> None:
    """Print the data dictionary of the published file (Markdown), generated from the schema."""
    from db.dictionary import dictionary_rows, markdown, update_readme

    if readme:
        changed = update_readme(readme)
        click.echo(f"{readme}: {'updated' if changed else 'already current'}", err=True)
    else:
        click.echo(markdown(dictionary_rows()), nl=False)


def sample_base_url_settings(base_urls: dict[str, str]) -> dict[str, str]:
    """Point each spider at its mirror: folder `un_press` -> setting UN_PRESS_BASE_URL."""
    return {f"{folder.upper()}_BASE_URL": url for folder, url in base_urls.items()}


@cli.command()
@click.option("--no-serve", is_flag=True, help="Build the demo database and exit.")
@click.option("--port", default=8001, show_default=True)
@click.pass_context
def demo(ctx: click.Context, no_serve: bool, port: int) -> None:
    """Crawl the bundled SYNTHETIC sample site on 127.0.0.1, process, publish, serve."""
    from crawler.sample_server import serve_sample_site
    from db.site import serve as serve_site

    source = ctx.parent.get_parameter_source("db_path") if ctx.parent else None
    explicit = source not in (None, click.core.ParameterSource.DEFAULT)
    db_path = ctx.obj["db"] if explicit else DEMO_DB
    ctx.obj["db"] = db_path
    with _writer(ctx):
        if not explicit:
            # The sample site gets a new port, hence new URLs, each time: rebuild from scratch.
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        with serve_sample_site() as base_urls:
            click.echo(f"Sample site (synthetic statements): {json.dumps(base_urls)}", err=True)
            settings = {**SAMPLE_CRAWL_SETTINGS, **sample_base_url_settings(base_urls)}
            run_spiders(db_path, [], settings, ctx.obj["verbose"])
        process_database(db_path)
        published = publish_database(db_path, DEMO_PUBLISHED)
    click.echo("Demo data are SYNTHETIC: written by NormWatch, not the words of any state.", err=True)
    if not no_serve:
        click.echo(f"Datasette on http://127.0.0.1:{port}/{published.stem} (Ctrl-C to stop)", err=True)
        serve_site(published, port=port)


if __name__ == "__main__":
    cli()
