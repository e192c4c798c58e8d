"""Turning fetched bytes into normalised statement text.

Text is normalised before it is hashed, so typographic noise (curly quotes,
non-breaking hyphens and spaces) never makes an unchanged statement look new.
"""

from __future__ import annotations

import re
import unicodedata

_TYPOGRAPHY = str.maketrans(
    {
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",
        "\u00ad": None,  # soft hyphen
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00a0": " ",
        "\u202f": " ",
        "\u2007": " ",
        "\u200b": None,  # zero-width space
        "\ufeff": None,  # byte order mark
    }
)
_INLINE_SPACE = re.compile(r"[ \t\f\v]+")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """NFC, plain quotes and hyphens, single spaces, paragraphs separated by one blank line."""
    text = unicodedata.normalize("NFC", text).translate(_TYPOGRAPHY)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str, url: str | None = None) -> str:
    """Main text of an HTML page (trafilatura), paragraphs kept."""
    import trafilatura

    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=False, favor_recall=True
    )
    return normalise_text((text or "").replace("\n", "\n\n"))


def pdf_to_text(data: bytes) -> str:
    """Text of a PDF (extracted in a worker process); ValueError says why there is none."""
    from crawler.pdf import extract_pdf

    extracted = extract_pdf(data)
    if not extracted.ok:
        raise ValueError(f"{extracted.reason}: {extracted.detail}")
    return normalise_text(extracted.text)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language (langdetect, seeded so it is repeatable)."""
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0
    try:
        return detect(text[:5000])
    except LangDetectException:
        return None
