"""The human-coded iLIT passages (../shared/data/ilit), mapped to NormWatch propositions.

For measuring only: nothing here may be used to train or tune rules. The data
are CC BY 4.0, Global Cyber Law Project (Temple iLIT / AU WCL TLS); they are read
from the shared folder at run time and never copied into the repository.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from db.states import registry

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "ilit"
ANSWERS = {"yes": "support", "no": "oppose", "ambiguous": "qualified"}

# Question -> proposition. Sovereignty Q3 asks whether sovereignty is a stand-alone
# primary rule; non-intervention Q3 whether the prohibition applies to cyber operations.
MAPPING = (
    ("sovereignty_citations_extracted-july2026.csv", "iso", re.compile(r"^3\.\s"), "law.sovereignty-rule"),
    ("nonintervention_citations-feb2026.csv", "ISO", re.compile(r"^3\.\s"), "law.non-intervention"),
)


@dataclass(frozen=True)
class CodedPassage:
    entity: str  # iso3, EUN or AU
    norm_id: str
    stance: str  # support | oppose | qualified
    text: str


def normalise_answer(raw: str) -> str | None:
    """Yes/No/Ambiguous with the data's typing variants ("Yes.", "Ambigous"); None for Silent and the rest."""
    word = re.sub(r"[^a-z]", "", raw.strip().split("\n")[0].lower())
    if word in ("ambigous", "ambiguous"):
        word = "ambiguous"
    return ANSWERS.get(word)


def coded_passages(folder: Path = DEFAULT_DIR) -> list[CodedPassage]:
    passages = []
    for filename, iso_column, question, norm_id in MAPPING:
        with (folder / filename).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                stance = normalise_answer(row.get("Answer") or "")
                text = (row.get("Citation") or "").strip()
                # The iso cell is empty for a few entities (Korea, Russia): resolve the name.
                entity = (row.get(iso_column) or "").strip().upper() or (
                    registry().resolve(row.get("Entity") or "") or ""
                )
                if stance and text and entity and question.match((row.get("Question") or "").strip()):
                    passages.append(CodedPassage(entity, norm_id, stance, text))
    return passages


def available(folder: Path = DEFAULT_DIR) -> bool:
    return all((folder / filename).is_file() for filename, *_ in MAPPING)
