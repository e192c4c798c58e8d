"""`ingest`: local statements from a JSONL manifest; bad lines reported and skipped."""

from __future__ import annotations

import json

from click.testing import CliRunner

import pipeline
from crawler.ingest import read_manifest


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing `text` (hand-built, so the test needs no PDF writer)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def write_manifest(tmp_path, lines: list) -> str:
    (tmp_path / "statements").mkdir()
    (tmp_path / "statements" / "chile.txt").write_text(
        "Chile considers that international humanitarian law applies to cyber operations in armed conflict.\n",
        encoding="utf-8",
    )
    (tmp_path / "statements" / "ghana.html").write_text(
        "<html><body><article><h1>Statement</h1><p>Ghana supports a Programme of Action as the "
        "permanent mechanism for the regular institutional dialogue on ICT security at the United Nations.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    (tmp_path / "statements" / "peru.pdf").write_bytes(
        minimal_pdf("Peru considers that due diligence is a binding obligation in cyberspace.")
    )
    (tmp_path / "statements" / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return str(manifest)


GOOD = [
    {"path": "statements/chile.txt", "state": "CHL", "date": "2023-03-07", "title": "OEWG statement"},
    {"path": "statements/ghana.html", "state": "Ghana", "date": "2022-07-28", "forum": "OEWG 2021-25"},
    {"path": "statements/peru.pdf", "state": "PER", "date": "2021-05-01"},
    {"text": "The European Union and its Member States reaffirm that existing international law applies.",
     "state": "EUN", "date": "2024-10-10", "url": "https://example.org/eu", "language": "en"},
    {"text": "The African Union supports a new legally binding instrument.", "state": "AU",
     "date": "2024-01-29"},
]
BAD = [
    "{not json",
    {"text": "No state given.", "date": "2020-01-01"},
    {"text": "Unknown state.", "state": "Atlantis", "date": "2020-01-01"},
    {"text": "Bad date.", "state": "FRA", "date": "2020-13-45"},
    {"text": "Loose date.", "state": "FRA", "date": "5 May 2020"},
    {"path": "statements/missing.txt", "state": "FRA", "date": "2020-01-01"},
    {"path": "statements/chile.txt", "text": "both", "state": "FRA", "date": "2020-01-01"},
    {"path": "statements/broken.pdf", "state": "FRA", "date": "2020-01-01"},
    {"text": "   ", "state": "FRA", "date": "2020-01-01"},
    {"text": "Extra field.", "state": "FRA", "date": "2020-01-01", "speaker": "x"},
    ["a", "list"],
]


def test_manifest_lines_are_parsed_or_explained(tmp_path):
    manifest = write_manifest(tmp_path, GOOD[:2] + BAD[:2] + GOOD[2:] + BAD[2:])
    lines = list(read_manifest(__import__("pathlib").Path(manifest)))
    good = [line for line in lines if line.document]
    bad = [line for line in lines if line.error]
    assert len(good) == len(GOOD) and len(bad) == len(BAD)
    assert [line.number for line in bad] == [3, 4] + list(range(8, 8 + len(BAD) - 2))
    chile, ghana, peru, eu, au = (line.document for line in good)
    assert chile.state == "CHL" and chile.title == "OEWG statement" and chile.date == "2023-03-07"
    assert chile.text.startswith("Chile considers that international humanitarian law applies")
    assert ghana.state == "GHA" and "Programme of Action" in ghana.text and ghana.forum == "OEWG 2021-25"
    assert "due diligence is a binding obligation" in peru.text
    assert (eu.state, eu.url, eu.language) == ("EUN", "https://example.org/eu", "en")
    assert au.state == "AU" and au.spider == "ingest"
    reasons = {line.number: line.error for line in bad}
    assert "not valid JSON" in reasons[3]
    assert "missing 'state'" in reasons[4]
    assert "unknown state 'Atlantis'" in reasons[8]
    assert "not YYYY-MM-DD" in reasons[9] and "not YYYY-MM-DD" in reasons[10]
    assert "file not found" in reasons[11]
    assert "exactly one of" in reasons[12]
    assert "cannot read broken.pdf" in reasons[13]
    assert "missing 'text'" in reasons[14]
    assert "unknown field(s): speaker" in reasons[15]
    assert "expected a JSON object" in reasons[16]


def test_ingest_command_keeps_good_lines_and_reports_bad_ones(tmp_path):
    manifest = write_manifest(tmp_path, GOOD + BAD)
    db_path = tmp_path / "work.db"
    runner = CliRunner()
    result = runner.invoke(pipeline.cli, ["--db", str(db_path), "ingest", manifest])
    assert result.exit_code == 0, result.output
    assert "Ingested 5 new, 0 already present, 11 skipped." in result.output
    assert f"{manifest}:6: skipped: not valid JSON" in result.output

    again = runner.invoke(pipeline.cli, ["--db", str(db_path), "ingest", "--strict", manifest])
    assert again.exit_code == 2
    assert "Ingested 0 new, 5 already present, 11 skipped." in again.output

    import sqlite_utils

    states = {row["state"] for row in sqlite_utils.Database(db_path).query("select state from documents")}
    assert states == {"CHL", "GHA", "PER", "EUN", "AU"}


def test_missing_manifest_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(pipeline.cli, ["--db", str(tmp_path / "w.db"), "ingest", "nope.jsonl"])
    assert result.exit_code == 2
    assert "does not exist" in result.output
