"""Ingest statements a researcher already has, listed in a JSONL manifest.

One JSON object per line: `path` (a .txt, .html or .pdf file, relative to the
manifest) or `text`; `state` (ISO alpha-3, EUN, AU or a name the registry
resolves); `date` (YYYY-MM-DD); optional `title`, `url`, `forum`, `language`,
`doc_type`, `speaker_role`, `on_behalf_of`, `provenance`. A bad line is
reported with its number and skipped; every good line is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path

from crawler.text import html_to_text, normalise_text, pdf_to_text
from db.states import registry
from db.store import Document

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_OPTIONAL = ("title", "url", "forum", "language", "doc_type", "speaker_role", "on_behalf_of")
_KNOWN = {"path", "text", "state", "date", "provenance", *_OPTIONAL}
_READERS = {
    ".txt": lambda path: normalise_text(path.read_text(encoding="utf-8-sig")),
    ".html": lambda path: html_to_text(path.read_text(encoding="utf-8-sig", errors="replace")),
    ".htm": lambda path: html_to_text(path.read_text(encoding="utf-8-sig", errors="replace")),
    ".pdf": lambda path: pdf_to_text(path.read_bytes()),
}


class ManifestError(ValueError):
    """A manifest line that cannot become a document."""


@dataclass
class ManifestLine:
    number: int
    document: Document | None = None
    error: str | None = None


@dataclass
class IngestReport:
    new: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def read_manifest(manifest: Path) -> Iterator[ManifestLine]:
    """Each non-blank line of the manifest, as a document or the reason it is not one."""
    with manifest.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield ManifestLine(number, document=parse_line(line, manifest.parent))
            except ManifestError as error:
                yield ManifestLine(number, error=str(error))


def parse_line(line: str, base_dir: Path) -> Document:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as error:
        raise ManifestError(f"not valid JSON ({error.msg})") from error
    if not isinstance(entry, dict):
        raise ManifestError("expected a JSON object")
    unknown = sorted(set(entry) - _KNOWN)
    if unknown:
        raise ManifestError(f"unknown field(s): {', '.join(unknown)}")
    state = registry().resolve(_string(entry, "state", required=True))
    if state is None:
        raise ManifestError(f"unknown state {entry['state']!r}: use ISO alpha-3, EUN, AU or a UN name")
    date = _string(entry, "date", required=True)
    if not _ISO_DATE.match(date) or not _valid_date(date):
        raise ManifestError(f"date {date!r} is not YYYY-MM-DD")
    text = _text(entry, base_dir)
    if not text:
        raise ManifestError("the statement has no text")
    optional = {key: _string(entry, key) for key in _OPTIONAL}
    return Document(
        text=text,
        state=state,
        speaker=entry["state"],
        date=date,
        spider="ingest",
        provenance=_string(entry, "provenance") or "official",
        **optional,
    )


def _text(entry: dict, base_dir: Path) -> str:
    if ("path" in entry) == ("text" in entry):
        raise ManifestError("give exactly one of 'path' or 'text'")
    if "text" in entry:
        return normalise_text(_string(entry, "text", required=True))
    path = base_dir / _string(entry, "path", required=True)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise ManifestError(f"unsupported file type {path.suffix!r} (use .txt, .html or .pdf)")
    if not path.is_file():
        raise ManifestError(f"file not found: {path}")
    try:
        return reader(path)
    except Exception as error:  # noqa: BLE001
        # Damaged files make pypdf and lxml raise almost anything (PdfStreamError,
        # TypeError, AssertionError...): one bad file must not end the ingest.
        raise ManifestError(f"cannot read {path.name}: {type(error).__name__}: {error}") from error


def _string(entry: dict, key: str, required: bool = False) -> str | None:
    value = entry.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ManifestError(f"missing '{key}'")
        return None
    if not isinstance(value, str):
        raise ManifestError(f"'{key}' must be a string")
    return value.strip()


def _valid_date(text: str) -> bool:
    try:
        Date.fromisoformat(text)
    except ValueError:
        return False
    return True
