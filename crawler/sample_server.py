"""Serve the bundled sample site on 127.0.0.1, one port per mirrored source.

Each folder under crawler/sample_site/ mirrors one real site, so links that
are absolute paths on the real site (MediaWiki's `/wiki/...`) work unchanged.
`<name>.pdf` is rendered from its spec `<name>.pdf.txt` (crawler.sample_pdf).
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from crawler.sample_pdf import render_spec

SAMPLE_ROOT = Path(__file__).with_name("sample_site")


def _handler_for(root: Path) -> type[BaseHTTPRequestHandler]:
    class SampleHandler(BaseHTTPRequestHandler):
        server_version = "NormWatchSample/1"

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            found = self._resolve(urlsplit(self.path))
            if found is None:
                self.send_error(404)
                return
            name, body = found
            # Validators, so crawls can revalidate with conditional requests (RFC 9110).
            etag = '"%s"' % hashlib.sha256(body).hexdigest()[:20]
            if etag in (self.headers.get("If-None-Match") or ""):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if content_type.startswith("text/"):
                content_type += "; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Cache-Control", "max-age=0, must-revalidate")
            self.end_headers()
            self.wfile.write(body)

        def _resolve(self, url) -> tuple[str, bytes] | None:
            """(file name, body) for a URL: `path`, `path.html`, `path.pdf`, or a PDF rendered from its spec.

            A query string is part of the file name, percent-encoded as in the URL
            (`access?s=A%2F76%2F136&l=en&t=pdf.pdf.txt`), so listings (`?page=1`) and
            APIs keyed by query can be mirrored; without a match the bare path is tried.
            """
            relative = unquote(url.path).lstrip("/")
            stems = [f"{relative}?{url.query}", relative] if url.query else [relative]
            for stem in stems:
                for name in (stem, f"{stem}.html", f"{stem}.pdf"):
                    path = self._inside_root(name)
                    if path is not None:
                        return path.name, path.read_bytes()
                spec = self._inside_root(f"{stem}.txt" if stem.endswith(".pdf") else f"{stem}.pdf.txt")
                if spec is not None:
                    return spec.name.removesuffix(".txt"), render_spec(spec)
            return None

        def _inside_root(self, relative: str) -> Path | None:
            resolved = (root / relative).resolve()
            if resolved.is_file() and resolved.is_relative_to(root.resolve()):
                return resolved
            return None

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass  # quiet: the crawler logs what it fetched

    return SampleHandler


@contextlib.contextmanager
def serve_sample_site(root: Path = SAMPLE_ROOT) -> Iterator[dict[str, str]]:
    """Start one server per source folder; yield {source: base URL}; stop them on exit."""
    servers = []
    try:
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(folder))
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append((folder.name, server))
        yield {name: f"http://127.0.0.1:{server.server_port}" for name, server in servers}
    finally:
        for _, server in servers:
            server.shutdown()
            server.server_close()
