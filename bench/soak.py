"""Soak test (not in CI): crawl 20,000 loopback pages and watch the crawler's memory.

    python bench/soak.py [--pages 20000]

A generated MediaWiki-like site on 127.0.0.1 (pages made on request, all
different) is crawled by ccdcoe_positions with the whole pipeline. The crawler
process's resident memory (VmRSS, children included) is sampled as pages are
served. Prints peak memory and the growth between 5,000 and 20,000 pages
(target: under 100 MB).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from db.reference import state_rows  # noqa: E402

STATES = [row["short_name"] for row in state_rows() if row["un_member"]]


def make_server(pages: int) -> tuple[ThreadingHTTPServer, list[int]]:
    served = [0]
    # Unique titles the spider accepts: "National position of <state> (<4-digit year>)".
    titles = [f"National position of {STATES[n % len(STATES)]} ({1000 + n // len(STATES)})"
              for n in range(pages)]
    links = "".join(
        f'<li><a href="/wiki/{title.replace(" ", "_")}" title="{title}">{title}</a></li>' for title in titles
    )
    listing = f'<div id="mw-pages"><ul>{links}</ul></div>'.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            path = unquote(self.path)
            if path == "/robots.txt":
                body = b"User-agent: *\nAllow: /\n"
            elif path == "/wiki/Category:National_position":
                body = listing
            else:
                served[0] += 1
                title = path.rsplit("/", 1)[-1].replace("_", " ")
                body = (
                    f'<h1 id="firstHeading">{title}</h1>'
                    f'<div id="mw-content-text"><div class="mw-parser-output">'
                    f"<p>{title}: sovereignty is a rule and due diligence is binding. "
                    + "Further explanation of the position. " * 40 + "</p></div></div>"
                ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # noqa: A002
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler), served


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process and its children, in MB; None once the crawler child is gone."""
    try:
        if not Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            return None  # pipeline.py is alone: the scrapy crawl has ended
    except OSError:
        return None
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        pids.extend(int(child) for child in children)
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description="Crawler memory over a long crawl.")
    parser.add_argument("--pages", type=int, default=20_000)
    args = parser.parse_args()
    server, served = make_server(args.pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    samples: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        crawl = subprocess.Popen(
            [sys.executable, "pipeline.py", "--db", f"{folder}/soak.db", "crawl", "ccdcoe_positions",
             "--set", f"CCDCOE_BASE_URL=http://127.0.0.1:{server.server_port}",
             "--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False",
             "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "--set", "HTTPCACHE_ENABLED=False"],
            cwd=REPO, stderr=subprocess.DEVNULL,
        )
        while crawl.poll() is None:
            memory = rss_mb(crawl.pid)
            if memory is not None:
                samples.append((served[0], memory))
            time.sleep(0.5)
    server.shutdown()

    def at(pages: int) -> float:
        """Memory at the first sample with `pages` served (the last sample for the end)."""
        return next((mb for count, mb in samples if count >= pages), samples[-1][1])

    start, end = min(5_000, args.pages // 4), args.pages
    print(f"pages served {served[0]}, exit {crawl.returncode}")
    print(f"peak memory {max(mb for _, mb in samples):.0f} MB")
    print(f"memory at {start} pages {at(start):.0f} MB, at {end} pages {at(end):.0f} MB")
    print(f"growth {at(end) - at(start):.0f} MB")


if __name__ == "__main__":
    main()
