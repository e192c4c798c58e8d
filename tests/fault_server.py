"""A small HTTP server on 127.0.0.1 whose routes misbehave on purpose (for crawl tests)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

# A route answers (status, headers, body); it gets the handler and its hit count.
Route = Callable[[BaseHTTPRequestHandler, int], tuple[int, dict[str, str], bytes]]


def page(body: str | bytes, status: int = 200, content_type: str = "text/html; charset=utf-8",
         **headers: str) -> Route:
    data = body.encode("utf-8") if isinstance(body, str) else body

    def route(handler, hits):
        return status, {"Content-Type": content_type, **headers}, data

    return route


@contextlib.contextmanager
def fault_server(routes: dict[str, Route]) -> Iterator[tuple[str, dict[str, int]]]:
    """Serve `routes` by path; yield (base URL, hits per path). Unknown paths are 404."""
    hits: dict[str, int] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            path = unquote(self.path)
            with lock:
                hits[path] = hits.get(path, 0) + 1
                count = hits[path]
            route = routes.get(path)
            if route is None:
                self.send_error(404)
                return
            status, headers, body = route(self, count)
            if status < 0:  # drop the connection without an answer
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.handle_error = lambda request, client_address: None  # dropped connections are the point
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hits
    finally:
        server.shutdown()
        server.server_close()
