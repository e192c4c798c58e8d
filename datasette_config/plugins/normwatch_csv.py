"""CSV exports that are safe to open in a spreadsheet.

A statement whose text starts with =, +, -, @ (or a tab or carriage return) would
run as a formula in Excel or LibreOffice. Every CSV response is rewritten on the
way out, record by record (streamed exports included), so such a cell starts with
a quote mark instead (OWASP's advice); plain numbers such as -1.5 are left alone.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

from datasette import hookimpl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@hookimpl
def asgi_wrapper():
    return neutralise_csv_formulas


def defuse(cell: str) -> str:
    if cell.startswith(FORMULA_STARTS) and not NUMBER.match(cell):
        return "'" + cell
    return cell


class _CsvRewriter:
    """Rewrites complete CSV records as they arrive; keeps a partial one for later."""

    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.pending = ""

    def feed(self, chunk: bytes, final: bool = False) -> bytes:
        self.pending += self.decoder.decode(chunk, final)
        cut = len(self.pending) if final else _last_record_end(self.pending)
        complete, self.pending = self.pending[:cut], self.pending[cut:]
        if not complete:
            return b""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for record in csv.reader(io.StringIO(complete, newline="")):
            writer.writerow([defuse(cell) for cell in record])
        return out.getvalue().encode("utf-8")


def _last_record_end(text: str) -> int:
    """Index just after the last newline that stands outside quotes (0 if none)."""
    inside = False
    end = 0
    for index, char in enumerate(text):
        if char == '"':
            inside = not inside
        elif char == "\n" and not inside:
            end = index + 1
    return end


def _is_csv(scope, content_type: bytes) -> bool:
    """Datasette sends CSV as text/csv when downloaded (_dl=1), else as text/plain."""
    if content_type.startswith(b"text/csv"):
        return True
    asked = scope["path"].endswith(".csv") or b"_format=csv" in scope.get("query_string", b"")
    return asked and content_type.startswith(b"text/plain")


def neutralise_csv_formulas(app):
    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        rewriter: _CsvRewriter | None = None

        async def rewriting_send(message):
            nonlocal rewriter
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if _is_csv(scope, headers.get(b"content-type", b"")):
                    rewriter = _CsvRewriter()
                    # The body changes length: drop Content-Length, let the server chunk it.
                    message = {**message, "headers": [
                        (key, value) for key, value in message.get("headers") or []
                        if key.lower() != b"content-length"
                    ]}
            elif message["type"] == "http.response.body" and rewriter is not None:
                more = message.get("more_body", False)
                message = {**message, "body": rewriter.feed(message.get("body", b""), final=not more)}
            await send(message)

        await app(scope, receive, rewriting_send)

    return wrapped
