"""Crawl throughput: our ccdcoe_positions spider against a bare Scrapy spider, one run.

    python bench/crawl.py [--pages 500]

Serves a synthetic MediaWiki mirror of N position pages (the sample pages under
new titles) on 127.0.0.1, then crawls it twice with delays off and the same
concurrency: (1) a bare spider that only downloads the listing and the pages,
(2) our spider with the whole pipeline (parsing, state resolution, SQLite).
Each side's time is Scrapy's own elapsed time, so process start-up is excluded.
Prints pages/s for both; the last line is `ratio <ours / bare>`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.sample_server import SAMPLE_ROOT, serve_sample_site  # noqa: E402
from db.reference import state_rows  # noqa: E402

SAME_SETTINGS = {
    "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "LOG_LEVEL": "WARNING", "HTTPCACHE_ENABLED": "False",
}

BARE_SPIDER = textwrap.dedent('''
    import json, time, scrapy

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            self.began = time.perf_counter()
            yield scrapy.Request(self.listing, callback=self.parse_listing)

        def parse_listing(self, response):
            for href in response.css("#mw-pages li a::attr(href)").getall():
                yield response.follow(href, callback=self.parse_page)

        def parse_page(self, response):
            yield {"url": response.url}

        def closed(self, reason):
            pages = self.crawler.stats.get_value("item_scraped_count", 0)
            with open(self.out, "w") as handle:
                json.dump({"pages": pages, "seconds": time.perf_counter() - self.began}, handle)
''')


def build_site(folder: Path, pages: int) -> None:
    wiki = folder / "ccdcoe" / "wiki"
    wiki.mkdir(parents=True)
    shutil.copy(SAMPLE_ROOT / "ccdcoe" / "robots.txt", folder / "ccdcoe" / "robots.txt")
    templates = sorted((SAMPLE_ROOT / "ccdcoe" / "wiki").glob("National_position_of_*.html"))
    names = [row["short_name"] for row in state_rows() if row["un_member"]]
    links = []
    for n in range(pages):
        template = templates[n % len(templates)]
        old_title = template.stem.replace("_", " ")
        title = f"National position of {names[n % len(names)]} ({2000 + n // len(names)})"
        html = template.read_text(encoding="utf-8").replace(old_title, title)
        html = html.replace("</blockquote>", f"<p>Bench copy {n}.</p></blockquote>", 1)
        slug = title.replace(" ", "_")
        (wiki / f"{slug}.html").write_text(html, encoding="utf-8")
        links.append(f'<li><a href="/wiki/{slug}" title="{title}">{title}</a></li>')
    (wiki / "Category:National_position.html").write_text(
        '<html><body><h1 id="firstHeading">Category:National position</h1>'
        f'<div id="mw-pages"><ul>{"".join(links)}</ul></div></body></html>',
        encoding="utf-8",
    )


def settings_args(settings: dict[str, str]) -> list[str]:
    return [arg for key, value in settings.items() for arg in ("-s", f"{key}={value}")]


def main() -> None:
    parser = argparse.ArgumentParser(description="Crawl throughput against a bare Scrapy spider.")
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--set", dest="extra", action="append", default=[],
                        help="extra KEY=VALUE setting for our spider (profiling)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build_site(folder / "site", args.pages)
        (folder / "bare.py").write_text(BARE_SPIDER, encoding="utf-8")
        with serve_sample_site(folder / "site") as base_urls:
            base = base_urls["ccdcoe"]
            subprocess.run(
                [sys.executable, "-m", "scrapy", "runspider", str(folder / "bare.py"),
                 "-a", f"listing={base}/wiki/Category:National_position", "-a", f"out={folder / 'bare.json'}",
                 *settings_args({**SAME_SETTINGS, "ROBOTSTXT_OBEY": "True"})],
                cwd=folder, check=True,
            )
            db_path = folder / "bench.db"
            subprocess.run(
                [sys.executable, "-m", "scrapy", "crawl", "ccdcoe_positions",
                 "-s", f"NORMWATCH_DB={db_path}", "-s", f"CCDCOE_BASE_URL={base}",
                 *settings_args(SAME_SETTINGS), *[a for kv in args.extra for a in ("-s", kv)]],
                cwd=REPO, check=True,
            )
        bare = json.loads((folder / "bare.json").read_text())
        with sqlite3.connect(db_path) as conn:
            new, stats = conn.execute("select documents_new, stats from crawl_runs").fetchone()
        ours_seconds = json.loads(stats)["elapsed_time_seconds"]
    bare_rate = bare["pages"] / bare["seconds"]
    ours_rate = new / ours_seconds
    print(f"bare scrapy   {bare['pages']} pages in {bare['seconds']:.2f} s = {bare_rate:.1f} pages/s")
    print(f"normwatch     {new} documents in {ours_seconds:.2f} s = {ours_rate:.1f} pages/s")
    print(f"ratio {ours_rate / bare_rate:.3f}")


if __name__ == "__main__":
    main()
