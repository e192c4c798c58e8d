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
    provenance: str = "official"
    sections: list[dict] = field(default_factory=list)
    state: str | None = None  # filled by ResolveStatePipeline


@dataclass
class FetchErrorItem:
    """A URL that did not become a document, with a short reason code."""

    url: str
    reason: str
    status: int | None = None
    detail: str | None = None
