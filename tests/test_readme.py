"""The README lists what the code defines: spiders, commands, canned queries, norms."""

from __future__ import annotations

import yaml

import pipeline
from db.site import METADATA_TEMPLATE
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_shows_the_two_commands():
    assert "make demo" in README and "make test" in README


def test_readme_lists_every_spider_and_command():
    for spider in pipeline.available_spiders():
        assert f"`{spider}`" in README
    for command in pipeline.cli.commands:
        assert f"`{command}" in README


def test_readme_lists_every_canned_query_and_norm():
    metadata = yaml.safe_load(METADATA_TEMPLATE.read_text(encoding="utf-8"))
    for query in metadata["databases"]["normwatch"]["queries"]:
        assert f"`{query}`" in README
    norms = yaml.safe_load((REPO / "nlp" / "norms.yml").read_text(encoding="utf-8"))
    for norm in norms:
        assert f"| `{norm['id']}` | {norm['label']} |" in README


def test_readme_data_dictionary_is_generated_from_the_current_schema():
    from db.dictionary import README_BLOCK, dictionary_rows, markdown

    block = README_BLOCK.search(README)
    assert block, "README lacks the generated data-dictionary section"
    assert README[block.end(1):block.start(2)] == markdown(dictionary_rows()), (
        "run: python pipeline.py dictionary --readme README.md"
    )
