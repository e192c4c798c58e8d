"""Self-checks for the state registry data file db/states.csv."""

import csv
from pathlib import Path

import pytest

CSV_PATH = Path(__file__).resolve().parents[1] / "db" / "states.csv"

HEADER = [
    "iso3", "name", "short_name", "aliases", "un_member", "observer",
    "region", "subregion", "groups", "capital", "latitude", "longitude",
]
GROUP_VOCAB = {
    "EU", "NATO", "AU", "NAM", "SCO", "BRICS", "G77", "ASEAN", "OAS",
    "ARAB_LEAGUE", "OIC", "CSTO", "G7", "G20", "FIVE_EYES",
}
REGIONS = {"", "Africa", "Americas", "Asia", "Europe", "Oceania"}


def _norm(label):
    label = label.strip().lower()
    return label[4:] if label.startswith("the ") else label


@pytest.fixture(scope="module")
def rows():
    with CSV_PATH.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == HEADER
        return list(reader)


def _members(rows, group):
    return {r["iso3"] for r in rows if group in r["groups"].split(";")}


def test_row_counts(rows):
    assert len(rows) == 197
    assert sum(r["un_member"] == "1" for r in rows) == 193
    observers = {r["iso3"] for r in rows if r["observer"] == "1"}
    assert observers == {"VAT", "PSE"}
    for r in rows:
        assert r["un_member"] in {"0", "1"} and r["observer"] in {"0", "1"}
        assert not (r["un_member"] == "1" and r["observer"] == "1")


def test_entities_present(rows):
    by_iso = {r["iso3"]: r for r in rows}
    for code in ("EUN", "AU"):
        assert code in by_iso
        assert by_iso[code]["un_member"] == "0"
        assert by_iso[code]["observer"] == "0"
        assert by_iso[code]["groups"] == ""


def test_unique_sorted_iso3(rows):
    codes = [r["iso3"] for r in rows]
    assert len(codes) == len(set(codes))
    assert codes == sorted(codes)


def test_no_alias_collisions(rows):
    owner = {}
    for r in rows:
        labels = [r["name"], r["short_name"]]
        labels += [a for a in r["aliases"].split(";") if a.strip()]
        for label in labels:
            key = _norm(label)
            assert key, f"empty label in {r['iso3']}"
            assert owner.setdefault(key, r["iso3"]) == r["iso3"], (
                f"{label!r} maps to both {owner[key]} and {r['iso3']}"
            )
    assert "korea" not in owner


def test_groups_vocabulary(rows):
    for r in rows:
        groups = [g for g in r["groups"].split(";") if g]
        assert set(groups) <= GROUP_VOCAB, r["iso3"]
        assert len(groups) == len(set(groups)), r["iso3"]


def test_regions(rows):
    for r in rows:
        assert r["region"] in REGIONS, r["iso3"]
        assert bool(r["region"]) == bool(r["subregion"]), r["iso3"]


def test_coordinates_in_range(rows):
    for r in rows:
        lat, lon = float(r["latitude"]), float(r["longitude"])
        assert -90 <= lat <= 90, r["iso3"]
        assert -180 <= lon <= 180, r["iso3"]
        assert r["capital"], r["iso3"]


def test_eu_and_nato_sizes(rows):
    assert len(_members(rows, "EU")) == 27
    assert len(_members(rows, "NATO")) == 32
    assert {"FIN", "SWE"} <= _members(rows, "NATO")
