"""The counts section of nlp/data/labelled/README.md, generated from the two files so it
cannot drift from them: `python -m nlp.labelled_counts` rewrites it."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import yaml

LABELLED = Path(__file__).with_name("data") / "labelled"
README = LABELLED / "README.md"
FILES = ("train", "heldout")
STANCES = ("support", "oppose", "qualified", "mention")
TAGS = ("negation", "double-negation", "not-only-but-also", "reported-view", "conditional", "hedge",
        "multi-norm", "mention-only", "rhetorical-question", "implicit", "paraphrase", "contrast",
        "section-hint", "negative")
BLOCK = re.compile(r"(<!-- counts:start -->\n).*?(<!-- counts:end -->)", re.S)


def _rows(name: str) -> list[dict]:
    lines = (LABELLED / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def counts_markdown() -> str:
    norms = yaml.safe_load((Path(__file__).with_name("norms.yml")).read_text(encoding="utf-8"))
    family_of = {norm["id"]: norm["family"] for norm in norms}
    families = list(dict.fromkeys(family_of.values()))
    data = {name: _rows(name) for name in FILES}
    labels = {name: [(norm, stance) for row in rows for norm, stance in row["labels"].items()]
              for name, rows in data.items()}

    def pair(values: dict[str, int]) -> str:
        return " / ".join(str(values[name]) for name in FILES)

    lines = ["| | train | heldout | total |", "|---|---:|---:|---:|"]
    for title, count in (
        ("sentences", lambda name: len(data[name])),
        ("negatives (no label)", lambda name: sum(not row["labels"] for row in data[name])),
        ("labels (norm, stance)", lambda name: len(labels[name])),
    ):
        values = [count(name) for name in FILES]
        lines.append(f"| {title} | {' | '.join(map(str, values))} | {sum(values)} |")

    lines += ["", "**Labels by family and stance** (train / heldout)", "",
              "| family | norms | " + " | ".join(STANCES) + " | all |", "|---|---:|" + "---:|" * 5]
    for family in [*families, "all"]:
        inside = {name: [(n, s) for n, s in labels[name] if family in ("all", family_of[n])] for name in FILES}
        cells = [pair({name: sum(s == stance for _, s in inside[name]) for name in FILES}) for stance in STANCES]
        size = sum(f == family or family == "all" for f in family_of.values())
        lines.append(f"| {family} | {size} | {' | '.join(cells)} | {pair({n: len(inside[n]) for n in FILES})} |")
    both = Counter(stance for name in FILES for _, stance in labels[name])
    total = sum(both.values())
    lines += ["", "Stance share over both files: "
              + ", ".join(f"{stance} {round(100 * both[stance] / total)}%" for stance in STANCES) + "."]

    tags = {name: Counter(tag for row in data[name] for tag in row.get("tags", ())) for name in FILES}
    lines += ["", "**Tags** (sentences; train / heldout)", "", "| tag | train | heldout |", "|---|---:|---:|"]
    lines += [f"| {tag} | {tags['train'][tag]} | {tags['heldout'][tag]} |" for tag in TAGS]

    per_norm = {name: Counter(norm for row in data[name] for norm in row["labels"]) for name in FILES}
    lines += ["", "**Sentences per norm** (train / heldout)", "", "| norm | train | heldout |", "|---|---:|---:|"]
    lines += [f"| {norm} | {per_norm['train'][norm]} | {per_norm['heldout'][norm]} |" for norm in family_of]
    return "\n".join(lines) + "\n"


def update_readme(readme: Path = README) -> bool:
    """Rewrite the generated block; True when it changed."""
    text = readme.read_text(encoding="utf-8")
    updated = BLOCK.sub(lambda m: m.group(1) + counts_markdown() + m.group(2), text)
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":
    print("updated" if update_readme() else "already current")
