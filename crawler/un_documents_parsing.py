"""Splitting UN documents (PDFs from documents.un.org) into the statements they hold.

Pure functions on the text `crawler.pdf.extract_pdf` returns, so they can be
tested without Scrapy. A document becomes:
  - one part per state when it is a compendium of national contributions
    (each headed by the country's name on a line of its own) or a
    Secretary-General report with replies from Governments (each headed by
    the country's name, then `[Original: Spanish]` and often `[31 May 2013]`);
  - one "report" part holding everything else (front matter, introduction,
    the report proper), spoken by the issuing body.
Offsets (`source_char_start/end`) point into `normalise_text(extracted text)`.
Part texts drop page furniture (running symbol, job-number footers) and rejoin
the lines pypdf wrapped, paragraphs separated by one blank line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

from crawler.text import detect_language, normalise_text
from db.states import registry

logger = logging.getLogger(__name__)

# Below this a body cannot be a real UN PDF (the smallest run to several KB).
MIN_PDF_BYTES = 300
EMPTY_BODY = "empty_body"
NOT_PDF = "not_pdf"

REPORT = "report"
NATIONAL_CONTRIBUTION = "national contribution"
REPLY = "reply to the Secretary-General"

GGE = "Group of Governmental Experts"
OEWG = "Open-ended Working Group"
SECRETARY_GENERAL = "Secretary-General"

SYNTHETIC_MARKER = "SYNTHETIC SAMPLE"

# `[Original: X]` names the language of submission; UN official languages and a few more.
LANGUAGE_CODES = {
    "arabic": "ar", "chinese": "zh", "english": "en", "french": "fr", "russian": "ru",
    "spanish": "es", "german": "de", "portuguese": "pt", "italian": "it", "japanese": "ja",
}

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MONTH_NUMBER = {name: number for number, name in enumerate(_MONTHS.split("|"), start=1)}
_DATE = re.compile(rf"\b(\d{{1,2}}) ({_MONTHS}) (\d{{4}})\b")
_DATE_LINE = re.compile(rf"^\[?(\d{{1,2}} (?:{_MONTHS}) \d{{4}})\]?$")
_ORIGINAL = re.compile(r"^\[Original:\s*([A-Za-z]+)[^\]]*\]$")
_ROMAN_HEADING = re.compile(r"^[IVXL]+\.\s+\S")
_BODY_START = re.compile(r"^(?:I\.|1\.)\s+\S")
_NUMBERED = re.compile(r"^(?:\d+\.|\([a-z0-9]{1,4}\)|[\u2022-])\s")
_ANNEX = re.compile(r"^Annex(?:\s+[IVX]+)?$")
# UN page furniture: job number and page ("21-09876 3/8", "2/8 21-09876", "13-39999 (E)").
_FOOTER = re.compile(r"^(?:\d+/\d+\s+)?\d{2}-\d{5}(?:\s+\([A-Z]\))?(?:\s+\d+/\d+)?$|^\d+/\d+$")
_AGENDA = re.compile(r"^(?:Item \d+ of the (?:provisional )?agenda|Agenda item \d+)", re.I)
_TERMINAL = tuple(".!?:;)]\"'")
# A title line, best first: the report's own title beats the covering "Note by the Secretary-General".
_TITLES = (
    re.compile(
        r"^(?:Report of|Official compendium|(?:[A-Z]\w+ )?(?:annual |final )?(?:progress )?report of)", re.I
    ),
    re.compile(r"^Note by\b"),
)


@dataclass
class Part:
    """One document to store: a state's contribution or reply, or the report's own text.

    A state's span runs from its first to its last body line (heading and markers
    excluded); the report's span from its first to its last line, so it may enclose
    the states' parts when report text follows them.
    """

    kind: str  # REPORT | NATIONAL_CONTRIBUTION | REPLY
    speaker: str
    text: str
    source_char_start: int
    source_char_end: int
    language: str | None
    original_language: str | None = None  # ISO 639-1 from "[Original: X]"
    date: str | None = None  # the reply's own date when given
    sections: list[dict] = field(default_factory=list)


@dataclass
class UnDocument:
    symbol: str
    source_text: str  # normalised extracted text, what offsets point into
    title: str
    date: str | None
    issuing_body: str
    synthetic: bool
    parts: list[Part]


@dataclass(frozen=True)
class _Line:
    start: int
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass
class _Entry:
    speaker: str
    heading_at: int  # index into the content lines
    body_at: int
    kind: str
    end_at: int = -1
    original_language: str | None = None
    date: str | None = None


def access_url(base_url: str, symbol: str, language: str = "en") -> str:
    """documents.un.org's by-symbol PDF address; the symbol fully percent-encoded (/ as %2F)."""
    return f"{base_url.rstrip('/')}/api/symbol/access?s={quote(symbol, safe='')}&l={language}&t=pdf"


def parse_symbols(value: str | Iterable[str]) -> tuple[str, ...]:
    """Symbols from a comma- or space-separated argument, deduplicated, order kept."""
    items = re.split(r"[,\s]+", value) if isinstance(value, str) else value
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))


def body_problem(body: bytes) -> tuple[str, str] | None:
    """(reason, detail) when a response body cannot be a PDF; None when it may be one.

    documents.un.org answers an unknown symbol with 200 and an empty body.
    """
    if not body.strip():
        return EMPTY_BODY, f"{len(body)} bytes"
    if not body.lstrip()[:5] == b"%PDF-":
        return NOT_PDF, f"starts with {body[:16]!r}"
    if len(body) < MIN_PDF_BYTES:
        return NOT_PDF, f"only {len(body)} bytes"
    return None


def parse_un_document(extracted_text: str, symbol: str) -> UnDocument:
    """Split a UN document's extracted text into the report's part and one part per state."""
    source = normalise_text(extracted_text)
    lines = _lines(source)
    content = [line for line in lines if line.text and not _is_furniture(line.text, symbol)]
    body_at = next((i for i, line in enumerate(content) if _BODY_START.match(line.text)), 0)
    front = content[:body_at]
    front_text = "\n".join(line.text for line in front)
    compendium = bool(re.search(r"compendium|national contributions", front_text, re.I))
    entries = _find_entries(content, body_at, compendium)
    issuing_body = _issuing_body(front_text)
    date = _first_date(front_text)
    parts = []
    in_entries = set()
    for entry in entries:
        in_entries.update(range(entry.heading_at, entry.end_at))
        body = content[entry.body_at : entry.end_at]
        part = _part(entry.kind, entry.speaker, body, _is_subheading)
        if part is None:
            logger.warning("empty entry symbol=%s speaker=%r", symbol, entry.speaker)
            continue
        part.original_language, part.date = entry.original_language, entry.date
        parts.append(part)
    report_lines = [line for i, line in enumerate(content) if i not in in_entries]
    report = _part(REPORT, issuing_body, report_lines, _is_report_heading)
    if report is not None:
        parts.insert(0, report)
    return UnDocument(
        symbol=symbol,
        source_text=source,
        title=_title(front) or f"UN document {symbol}",
        date=date,
        issuing_body=issuing_body,
        synthetic=any(line.text.startswith(SYNTHETIC_MARKER) for line in content),
        parts=parts,
    )


def _lines(text: str) -> list[_Line]:
    lines, position = [], 0
    for raw in text.split("\n"):
        lines.append(_Line(position, raw))
        position += len(raw) + 1
    return lines


def _is_furniture(text: str, symbol: str) -> bool:
    return text == symbol or bool(_FOOTER.match(text))


def _find_entries(content: list[_Line], body_at: int, compendium: bool) -> list[_Entry]:
    entries: list[_Entry] = []
    i = body_at
    while i < len(content):
        entry = _reply_entry(content, i) or (_contribution_entry(content, i) if compendium else None)
        if entry is None:
            last = entries[-1] if entries else None
            if last and last.kind == REPLY and last.end_at < 0 and _ends_reply(content[i].text):
                entries[-1].end_at = i  # a new report section closes the replies
            i += 1
            continue
        if entries and entries[-1].end_at < 0:
            entries[-1].end_at = entry.heading_at
        entries.append(entry)
        i = entry.body_at
    for entry in entries:
        if entry.end_at < 0:
            entry.end_at = _annex_or_end(content, entry.body_at)
    return entries


def _ends_reply(text: str) -> bool:
    return bool(_ROMAN_HEADING.match(text) or _ANNEX.match(text))


def _annex_or_end(content: list[_Line], start: int) -> int:
    return next((i for i in range(start, len(content)) if _ANNEX.match(content[i].text)), len(content))


def _heading_candidates(content: list[_Line], i: int) -> Iterable[tuple[str, int]]:
    """(name, lines used): a heading may wrap onto a second line in a narrow column."""
    if not _after_paragraph_end(content, i):
        return
    for size in (1, 2):
        chunk = content[i : i + size]
        if len(chunk) < size or not all(_heading_shaped(line.text) for line in chunk):
            return
        yield " ".join(line.text for line in chunk), size


def _reply_entry(content: list[_Line], i: int) -> _Entry | None:
    for name, size in _heading_candidates(content, i):
        marker_at = i + size
        match = marker_at < len(content) and _ORIGINAL.match(content[marker_at].text)
        if match:
            language = LANGUAGE_CODES.get(match.group(1).lower())
            if language is None:
                logger.warning("unknown original language %r for %r", match.group(1), name)
            body_at, date = marker_at + 1, None
            if body_at < len(content) and (dated := _DATE_LINE.match(content[body_at].text)):
                body_at, date = body_at + 1, _iso_date(dated.group(1))
            return _Entry(name, i, body_at, REPLY, original_language=language, date=date)
    return None


def _contribution_entry(content: list[_Line], i: int) -> _Entry | None:
    for name, size in _heading_candidates(content, i):
        following = content[i + size].text if i + size < len(content) else ""
        if registry().resolve(name) and following[:1] and not following[:1].islower():
            return _Entry(name, i, i + size, NATIONAL_CONTRIBUTION)
    return None


def _after_paragraph_end(content: list[_Line], i: int) -> bool:
    if i == 0:
        return True
    previous = content[i - 1].text
    return previous.endswith(_TERMINAL) or bool(_ROMAN_HEADING.match(previous))


def _heading_shaped(text: str) -> bool:
    return (
        len(text) <= 60
        and text[:1].isupper()
        and not text.endswith((".", ",", ";", ":"))
        and not _NUMBERED.match(text)
        and not _ROMAN_HEADING.match(text)
        and not any(ch.isdigit() for ch in text)
    )


def _part(
    kind: str, speaker: str, lines: list[_Line], is_heading: Callable[[str], bool]
) -> Part | None:
    if not lines:
        return None
    paragraphs = reflow([line.text for line in lines])
    text = "\n\n".join(paragraphs)
    if not text:
        return None
    return Part(
        kind=kind,
        speaker=speaker,
        text=text,
        source_char_start=lines[0].start,
        source_char_end=lines[-1].end,
        language=detect_language(text),
        sections=_sections(paragraphs, is_heading),
    )


def reflow(lines: list[str]) -> list[str]:
    """Paragraphs from lines wrapped by the PDF: a paragraph starts at a numbered line,
    a heading, or after a short line that ends a sentence. Blank lines (page joins) are ignored."""
    content = [line for line in lines if line.strip()]
    if not content:
        return []
    width = max(len(line) for line in content)
    paragraphs: list[list[str]] = []
    for i, line in enumerate(content):
        following = content[i + 1] if i + 1 < len(content) else None
        if not paragraphs or _starts_paragraph(line, paragraphs[-1], following, width):
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)
    return [_join(paragraph) for paragraph in paragraphs]


def _starts_paragraph(line: str, current: list[str], following: str | None, width: int) -> bool:
    previous = current[-1]
    if _NUMBERED.match(line) or line.startswith("[") or _ROMAN_HEADING.match(line):
        return True
    if _ROMAN_HEADING.match(current[0]) or previous.startswith("[") or _is_heading_paragraph(current, width):
        return True
    if previous.endswith(_TERMINAL):
        # In a narrow column a heading is hardly shorter than a wrapped line: it is
        # heading-shaped and the next line opens a numbered paragraph.
        opens_numbered = following is None or bool(_NUMBERED.match(following))
        if _heading_shaped(line) and (len(line) < 0.6 * width or opens_numbered):
            return True
        return len(previous) < 0.75 * width
    return False


def _is_heading_paragraph(current: list[str], width: int) -> bool:
    """A one-line paragraph that is a heading (so the next line starts a new paragraph)."""
    return len(current) == 1 and _heading_shaped(current[0]) and len(current[0]) < 0.6 * width


def _join(lines: list[str]) -> str:
    text = lines[0]
    for line in lines[1:]:
        # A line that ends in a hyphen after a letter was wrapped inside a hyphenated word.
        glue = "" if text.endswith("-") and text[-2:-1].isalpha() else " "
        text += glue + line
    return text


def _is_report_heading(paragraph: str) -> bool:
    return bool(_ROMAN_HEADING.match(paragraph)) and len(paragraph) <= 150 and not paragraph.endswith(".")


def _is_subheading(paragraph: str) -> bool:
    return _heading_shaped(paragraph) or _is_report_heading(paragraph)


def _sections(paragraphs: list[str], is_heading: Callable[[str], bool]) -> list[dict]:
    """Headings with the span of their body in the part's text (ccdcoe's section shape);
    a heading with no body gets an empty span where it ends."""
    sections: list[dict] = []
    offset, has_body = 0, False
    for paragraph in paragraphs:
        end = offset + len(paragraph)
        if is_heading(paragraph):
            sections.append({"heading": paragraph, "level": 2, "char_start": end, "char_end": end})
            has_body = False
        elif sections:
            if not has_body:
                sections[-1]["char_start"], has_body = offset, True
            sections[-1]["char_end"] = end
        offset = end + 2
    return sections


def _issuing_body(front_text: str) -> str:
    lowered = front_text.lower()
    if "group of governmental experts" in lowered:
        return GGE
    if "open-ended working group" in lowered:
        return OEWG
    return SECRETARY_GENERAL


def _title(front: list[_Line]) -> str | None:
    if not front:
        return None
    width = max(len(line.text) for line in front)
    for pattern in _TITLES:
        for i, line in enumerate(front):
            if pattern.match(line.text):
                lines = [line.text]
                # A title line nearly as wide as the column was wrapped: keep its continuation.
                for following in front[i + 1 :]:
                    if len(lines[-1]) < 0.75 * width or any(p.match(following.text) for p in _TITLES):
                        break
                    lines.append(following.text)
                title = _join(lines)
                if title.startswith(("Report of the Secretary-General", "Note by")):
                    # A generic title says little: lead with the agenda item's subject.
                    subject = _subject(front[:i])
                    title = f"{subject}: {title}" if subject else title
                return title
    return None


def _subject(front: list[_Line]) -> str | None:
    """The agenda item's subject: the lines after "Item 94 of the provisional agenda*"."""
    for i, line in enumerate(front):
        if _AGENDA.match(line.text):
            return _join([following.text for following in front[i + 1 :]]) or None
    return None


def _first_date(text: str) -> str | None:
    match = _DATE.search(text)
    return _iso_date(match.group(0)) if match else None


def _iso_date(text: str) -> str | None:
    match = _DATE.search(text)
    if not match:
        return None
    day, month, year = match.groups()
    return f"{year}-{_MONTH_NUMBER[month]:02d}-{int(day):02d}"
