"""The data dictionary as Markdown, generated from the published schema and the
site metadata, so the README's section cannot drift from the file people download."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import tempfile
from pathlib import Path

from db.connection import open_db
from db.publish import publish

README_BLOCK = re.compile(r"(<!-- data-dictionary:start -->\n).*?(<!-- data-dictionary:end -->)", re.S)


def dictionary_rows() -> list[tuple[str, str, str, str, str]]:
    """(table, column, type, description, table description) of an empty published file."""
    with tempfile.TemporaryDirectory() as folder:
        open_db(Path(folder) / "work.db").close()
        published = publish(Path(folder) / "work.db", Path(folder) / "normwatch.db")
        with contextlib.closing(sqlite3.connect(published)) as conn:
            return conn.execute(
                "SELECT table_name, column_name, type, description, table_description "
                "FROM data_dictionary ORDER BY table_name, position"
            ).fetchall()


def markdown(rows: list[tuple[str, str, str, str, str]]) -> str:
    lines: list[str] = []
    current = None
    for table, column, kind, description, table_description in rows:
        if table != current:
            if current is not None:
                lines.append("")
            lines += [f"#### `{table}`", "", table_description or "", "",
                      "| column | type | meaning |", "|---|---|---|"]
            current = table
        lines.append(f"| `{column}` | {kind or ''} | {(description or '').replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def update_readme(readme: Path) -> bool:
    """Rewrite the README's generated block; True when it changed."""
    text = readme.read_text(encoding="utf-8")
    updated = README_BLOCK.sub(lambda m: m.group(1) + markdown(dictionary_rows()) + m.group(2), text)
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    return updated != text
