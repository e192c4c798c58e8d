"""The published site in a real browser: `pipeline.py serve` on loopback, headless chromium.

Assertions are on what a reader sees (rendered element text), not on the HTML source;
each page is saved to tests/screenshots/ (git-ignored) for a human look.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from crawler.ingest import parse_line
from db.connection import open_db
from db.publish import publish
from db.store import insert_documents
from nlp.analyzer import Analyzer
from nlp.process import process
from tests.browser import browser_missing, chrome, screenshot, serving
from tests.conftest import FakeEmbedder, load_sample_documents

if (_missing := browser_missing()) is not None:
    pytest.skip(_missing, allow_module_level=True)

STANCES = {"support", "qualified", "oppose", "mention"}
HOSTILE = "<script>alert(1)</script> Sovereignty is a rule of international law."
RESULTS = "table.rows-and-columns"  # Datasette's table of rows


@dataclass(frozen=True)
class Site:
    """The running server's base URL, its published file and the hostile document's id."""

    base: str
    published: Path
    hostile_id: str

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(f"file:{self.published}?mode=ro", uri=True)) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("browser-site")
    working = folder / "work.db"
    db = open_db(working)
    load_sample_documents(db)
    # Through the ingest path, as `pipeline.py ingest` would store a researcher's file.
    hostile = parse_line(json.dumps({"text": HOSTILE, "state": "CHL", "date": "2023-03-01",
                                     "provenance": "synthetic-sample"}), folder)
    insert_documents(db, [hostile])
    process(db, Analyzer(), FakeEmbedder())
    db.close()
    published = publish(working, folder / "normwatch.db")  # served as /normwatch/...
    with serving(working, published) as base:
        yield Site(base, published, hostile.id)


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Iterator[WebDriver]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")  # selenium-manager, if ever reached, must not download
        for name in ("no_proxy", "NO_PROXY"):  # selenium -> chromedriver stays on loopback
            env.setenv(name, "127.0.0.1,localhost")
        browser = chrome(tmp_path_factory.mktemp("chrome-profile"))
        try:
            yield browser
        finally:
            browser.quit()



def visit(driver: WebDriver, site: Site, path: str, name: str, focus: str | None = None) -> str:
    """Load a page, save its screenshot (scrolled to `focus` if it is below the fold),
    return its visible text."""
    driver.get(site.base + path)
    if focus and (found := driver.find_elements(By.CSS_SELECTOR, focus)):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", found[0])
    screenshot(driver, name)
    return driver.find_element(By.TAG_NAME, "body").text


def column(driver: WebDriver, name: str) -> list[str]:
    """The visible cells of one column of Datasette's results table."""
    return [cell.text for cell in driver.find_elements(
        By.CSS_SELECTOR, f"{RESULTS} tbody td.col-{name}")]


def test_home_page_names_the_site_and_says_the_data_are_synthetic(driver, site):
    text = visit(driver, site, "/", "home")
    assert "NormWatch" in driver.find_element(By.TAG_NAME, "h1").text
    assert "synthetic sample" in text.lower()


def test_search_finds_sentences_about_sovereignty(driver, site):
    visit(driver, site, "/normwatch/sentences?_search=sovereignty", "search-sovereignty", RESULTS)
    texts = column(driver, "text")
    assert any("sovereignty" in text.lower() for text in texts), texts


def test_positions_for_state_shows_france_with_stances(driver, site):
    visit(driver, site, "/normwatch/positions_for_state?state=France", "positions-for-france", RESULTS)
    states, norms, stances = column(driver, "state"), column(driver, "norm_id"), column(driver, "stance")
    assert states and set(states) == {"FRA"}
    assert set(stances) <= STANCES
    assert dict(zip(norms, stances, strict=True))["debate.new-treaty"] == "oppose"


def test_state_profile_shows_france_stance_and_evidence(driver, site):
    visit(driver, site, "/state/FRA", "state-FRA")
    assert "France" in driver.find_element(By.TAG_NAME, "h1").text
    row = driver.find_element(By.XPATH, "//table//tr[td[contains(., 'debate.new-treaty')]]")
    assert "oppose" in [cell.text.strip() for cell in row.find_elements(By.TAG_NAME, "td")]
    quotes = [quote.text.strip() for quote in row.find_elements(By.CSS_SELECTOR, ".evidence")]
    assert any(quotes), "no quoted evidence beside the stance"


def test_norm_page_groups_states_by_stance_and_lists_the_silent(driver, site):
    visit(driver, site, "/norm/debate.new-treaty", "norm-debate.new-treaty")
    (label,) = site.query("select label from norms where id = 'debate.new-treaty'")[0]
    assert label in driver.find_element(By.TAG_NAME, "h1").text
    assert "France" in driver.find_element(By.CSS_SELECTOR, "section#oppose").text
    assert "Iran" in driver.find_element(By.CSS_SELECTOR, "section#support").text
    silent = driver.find_element(By.CSS_SELECTOR, "section#silence")
    names = [item.text for item in silent.find_elements(By.TAG_NAME, "li")]
    assert names and "France" not in names and not any(name.startswith("Iran") for name in names)


def test_statement_markup_is_shown_as_text_not_run(driver, site):
    visit(driver, site, f"/normwatch/sentences?document_id={site.hostile_id}", "escaped-script", RESULTS)
    assert any("<script>" in text for text in column(driver, "text"))
    assert driver.find_elements(By.CSS_SELECTOR, f"{RESULTS} script") == []
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018 - the property raises when no alert is open

