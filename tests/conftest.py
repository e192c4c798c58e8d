"""Shared fixtures: temporary databases, a deterministic embedder, the sample site."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import numpy as np
import pytest
from scrapy.http import HtmlResponse

from crawler.pipelines import document_from_item
from crawler.sample_server import SAMPLE_ROOT, serve_sample_site
from crawler.spiders.ccdcoe_positions import CcdcoePositionsSpider
from db.connection import open_db
from db.states import registry
from db.store import insert_document

REPO = Path(__file__).resolve().parents[1]
CCDCOE_PAGES = SAMPLE_ROOT / "ccdcoe" / "wiki"
SAMPLE_BASE = "https://cyberlaw.ccdcoe.org"


class FakeEmbedder:
    """Deterministic unit vectors from a hash of the text; counts what it embeds."""

    model_name = "fake-hash-8"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.extend(texts)
        rows = []
        for text in texts:
            digest = hashlib.sha256(text.encode()).digest()
            vector = np.frombuffer(digest[:32], dtype=np.uint8).astype(np.float32)[:8] + 1
            rows.append(vector / np.linalg.norm(vector))
        return np.vstack(rows)


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path / "work.db")
    yield database
    database.close()


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


def sample_response(filename: str, base: str = SAMPLE_BASE) -> HtmlResponse:
    """A saved sample page as Scrapy would receive it from `base`."""
    path = CCDCOE_PAGES / filename
    url = f"{base}/wiki/{path.stem}"
    return HtmlResponse(url=url, body=path.read_bytes(), encoding="utf-8")


def position_pages() -> list[Path]:
    return sorted(p for p in CCDCOE_PAGES.glob("*position_of_*.html"))


def load_sample_documents(database) -> int:
    """Parse every sample position page with the spider and store it, as a crawl would."""
    spider = CcdcoePositionsSpider()
    for page in position_pages():
        for item in spider.parse_document(sample_response(page.name), listing={}):
            item.state = registry().resolve(item.speaker)
            insert_document(database, document_from_item(item, spider.name, None))
    return len(position_pages())


@pytest.fixture(scope="session")
def sample_site():
    with serve_sample_site() as base_urls:
        yield base_urls


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
