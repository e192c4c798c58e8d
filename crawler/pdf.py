"""PDF text extraction, isolated in a worker process with a memory limit and a timeout.

pypdf raises almost anything on damaged files and pdfminer can hang for minutes
on a tiny one, so extraction never runs in the crawler's own process: a child
(`python -m crawler.pdf`) reads the PDF on stdin and answers JSON on stdout.
pypdf first; pdfplumber when pypdf finds no text. Every outcome has a reason.
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY_MB = 1024
MIN_TEXT_CHARS = 20  # fewer characters than this on every page: a scan without a text layer

# Reason codes, shared with fetch_errors.reason.
NOT_PDF = "not_pdf"
ENCRYPTED = "pdf_encrypted"
NO_TEXT = "pdf_no_text"
DAMAGED = "pdf_damaged"
TIMEOUT = "pdf_timeout"
TOO_BIG = "pdf_memory"


@dataclass
class PdfText:
    pages: list[str] = field(default_factory=list)
    reason: str | None = None  # None when text was extracted
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def text(self) -> str:
        return "\n\n".join(page for page in self.pages if page.strip())


def extract_pdf(
    data: bytes, timeout: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB
) -> PdfText:
    """Text of each page of a PDF, or the reason there is none."""
    if not data.lstrip()[:5] == b"%PDF-":
        return PdfText(reason=NOT_PDF, detail=f"starts with {data[:8]!r}")
    limit = memory_mb * 1024 * 1024

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    try:
        completed = subprocess.run(
            [sys.executable, "-m", "crawler.pdf"],
            input=data,
            capture_output=True,
            timeout=timeout,
            preexec_fn=limit_memory,
            cwd=REPO,
        )
    except subprocess.TimeoutExpired:
        return PdfText(reason=TIMEOUT, detail=f"no answer within {timeout:g} s")
    if completed.returncode != 0:
        stderr = completed.stderr.decode("utf-8", "replace")
        reason = TOO_BIG if "MemoryError" in stderr or completed.returncode < 0 else DAMAGED
        return PdfText(reason=reason, detail=stderr.strip().splitlines()[-1:] and stderr.strip().splitlines()[-1][:300])
    answer = json.loads(completed.stdout)
    return PdfText(pages=answer["pages"], reason=answer["reason"], detail=answer.get("detail"))


def _extract_in_worker(data: bytes) -> dict:
    """Runs in the child process."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return {"pages": [], "reason": ENCRYPTED, "detail": "needs a password"}
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as error:  # noqa: BLE001 - damaged PDFs raise anything
        if "encrypt" in str(error).lower() or type(error).__name__ == "FileNotDecryptedError":
            return {"pages": [], "reason": ENCRYPTED, "detail": str(error)[:300]}
        pages, pypdf_error = [], f"{type(error).__name__}: {error}"[:300]
    else:
        pypdf_error = None
    if sum(len(page.strip()) for page in pages) < MIN_TEXT_CHARS:
        pages = _pdfplumber_pages(data) or pages
    if sum(len(page.strip()) for page in pages) < MIN_TEXT_CHARS:
        if pypdf_error:
            return {"pages": [], "reason": DAMAGED, "detail": pypdf_error}
        return {"pages": pages, "reason": NO_TEXT, "detail": "no text layer (a scan?)"}
    return {"pages": pages, "reason": None}


def _pdfplumber_pages(data: bytes) -> list[str]:
    try:
        import pdfplumber

        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return [page.extract_text() or "" for page in pdf.pages]
    except Exception:  # noqa: BLE001 - the fallback may fail like the first try
        return []


if __name__ == "__main__":
    sys.stdout.write(json.dumps(_extract_in_worker(sys.stdin.buffer.read())))
