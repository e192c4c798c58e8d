"""Sample PDFs for the sample site, rendered from plain-text specs we write.

Git keeps the spec (`<name>.pdf.txt`), never the PDF: the sample server renders
`<name>.pdf` on request and spider tests call `render_spec` directly. A spec is
`key: value` header lines, a blank line, then the text; a line `--- page ---`
starts a new page. Keys:
  layout: one-column | two-column   (UN verbatim records are two-column)
  kind:   text | image-only | encrypted | damaged
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

PAGE_BREAK = "--- page ---"
_PAGE_W, _PAGE_H, _MARGIN, _LEADING = 612, 792, 56, 13


def render_spec(spec: Path) -> bytes:
    header, _, body = spec.read_text(encoding="utf-8").partition("\n\n")
    options = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in header.splitlines() if line.strip())
    )
    pages = [page.strip("\n") for page in body.split(PAGE_BREAK)]
    kind = options.get("kind", "text")
    if kind == "image-only":
        return text_pdf([""] * len(pages), draw_boxes=True)
    pdf = text_pdf(pages, columns=2 if options.get("layout") == "two-column" else 1)
    if kind == "encrypted":
        return encrypt(pdf, password="sample-secret")
    if kind == "damaged":
        return pdf[: len(pdf) // 3]  # truncated mid-stream, as an interrupted download
    return pdf


def text_pdf(pages: list[str], columns: int = 1, draw_boxes: bool = False) -> bytes:
    """A PDF with the given text per page (Helvetica, WinAnsi), in one or two columns."""
    objects: list[bytes] = []
    page_ids = []
    font_id = 3
    for page_text in pages:
        content = _page_content(page_text, columns, draw_boxes)
        content_id = 4 + len(objects)
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        page_ids.append(4 + len(objects))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R"
            b" /Resources << /Font << /F1 %d 0 R >> >> >>" % (_PAGE_W, _PAGE_H, content_id, font_id)
        )
    kids = b" ".join(b"%d 0 R" % pid for pid in page_ids)
    head = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_ids),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    return _assemble(head + objects)


def encrypt(pdf: bytes, password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _page_content(text: str, columns: int, draw_boxes: bool) -> bytes:
    if draw_boxes:  # a "scan": shapes, no text layer
        return b"0.5 g 72 400 468 300 re f 0.2 g 90 420 200 40 re f"
    width = (_PAGE_W - 2 * _MARGIN - 24 * (columns - 1)) / columns
    chars_per_line = int(width / 5.2)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, chars_per_line) or [""])
    per_column = int((_PAGE_H - 2 * _MARGIN) / _LEADING)
    parts = [b"BT /F1 10 Tf"]
    for column in range(columns):
        chunk = lines[column * per_column : (column + 1) * per_column]
        x = _MARGIN + column * (width + 24)
        for row, line in enumerate(chunk):
            y = _PAGE_H - _MARGIN - row * _LEADING
            parts.append(b"1 0 0 1 %d %d Tm (%s) Tj" % (x, y, _pdf_string(line)))
    parts.append(b"ET")
    return b"\n".join(parts)


def _pdf_string(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _assemble(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
