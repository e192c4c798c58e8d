"""What spiders yield: a collected statement, or the reason a URL gave none."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DocumentItem:
    """One statement by one speaker, text already normalised (crawler.text)."""

    url: str
    speaker: str
    text: str
    date: str | None
    title: str | None = None
    forum: str | None = None
    doc_type: str | None = None
    language: str | None = None
    speaker_role: str | None = None
    on_behalf_of: str | None = None
    provenance: str = "official"  # official | secretariat summary | unofficial transcript | synthetic-sample
    sections: list[dict] = field(default_factory=list)  # {"heading", "level", "char_start", "char_end"}
    symbol: str | None = None  # UN document symbol, e.g. GA/DIS/3673, A/76/136
    source_char_start: int | None = None  # this statement's span in the source page's text
    source_char_end: int | None = None
    aligned_states: list[str] = field(default_factory=list)  # names or iso3 of aligning states
    original_language: str | None = None  # ISO 639-1 of the text as submitted, when `text` is a translation
    state: str | None = None  # iso3; filled from `speaker` by ResolveStatePipeline when None


@dataclass
class FetchErrorItem:
    """A URL that did not become a document, with a short reason code."""

    url: str
    reason: str
    status: int | None = None
    detail: str | None = None
