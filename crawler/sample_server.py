"""Serve the bundled sample site on 127.0.0.1, one port per mirrored source.

Each folder under crawler/sample_site/ mirrors one real site, so links that
are absolute paths on the real site (MediaWiki's `/wiki/...`) work unchanged.
`<name>.pdf` is rendered from its spec `<name>.pdf.txt` (crawler.sample_pdf).
"""

from __future__ import annotations

import contextlib
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
            url_path = unquote(urlsplit(self.path).path)
            path = self._file_for(url_path)
            spec = self._file_for(url_path + ".txt") if url_path.endswith(".pdf") else None
            if path is not None:
                body = path.read_bytes()
            elif spec is not None:
                path, body = spec.with_suffix(""), render_spec(spec)
            else:
                self.send_error(404)
                return
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if content_type.startswith("text/"):
                content_type += "; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _file_for(self, url_path: str) -> Path | None:
            # MediaWiki serves /wiki/<Title>; the mirror stores wiki/<Title>.html.
            relative = url_path.lstrip("/")
            for candidate in (root / relative, root / f"{relative}.html"):
                resolved = candidate.resolve()
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
