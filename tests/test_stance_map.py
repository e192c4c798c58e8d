"""The stance map: the pure SVG renderer on hand-made shapes, the vendored world
(skipped until `make vendor`), and the /-/stance-map/<norm>.svg route in-process."""

from __future__ import annotations

import asyncio
import csv
import importlib.util
import logging
from pathlib import Path
from xml.etree import ElementTree

import pytest
from datasette.app import Datasette
from datasette.plugins import pm

from db.publish import publish
from nlp.analyzer import Analyzer
from nlp.process import process
from tests.conftest import REPO, FakeEmbedder, load_sample_documents

PLUGINS = REPO / "datasette_config" / "plugins"
_spec = importlib.util.spec_from_file_location("stance_map", PLUGINS / "stance_map.py")
stance_map = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stance_map)

SVG = "{http://www.w3.org/2000/svg}"
NEEDS_SHAPES = pytest.mark.skipif(
    not stance_map.SHAPES_FILE.exists(),
    reason=f"{stance_map.SHAPES_FILE} absent: run `make vendor` (make test builds it)",
)
# Two squares sharing arcs (one drawn with both arcs reversed) and Taiwan, quantized.
TOPOLOGY = {
    "type": "Topology",
    "transform": {"scale": [1, 1], "translate": [0, 0]},
    "arcs": [
        [[0, 40], [10, 0], [0, 10]],
        [[10, 50], [-10, 0], [0, -10]],
        [[120, 20], [2, 0], [0, 3], [-2, 0], [0, -3]],
    ],
    "objects": {"countries": {"type": "GeometryCollection", "geometries": [
        {"type": "Polygon", "id": "250", "arcs": [[0, 1]], "properties": {"name": "France"}},
        {"type": "Polygon", "id": "158", "arcs": [[2]], "properties": {"name": "Taiwan"}},
        {"type": "MultiPolygon", "id": "999", "arcs": [[[~1, ~0]]], "properties": {"name": "Mirror"}},
    ]}},
}
STATES = [
    {"iso3": "FRA", "name": "France", "short_name": "France", "latitude": 48.86, "longitude": 2.35,
     "un_member": 1, "observer": 0},
    {"iso3": "ZZZ", "name": "<script>& Land", "short_name": None, "latitude": 1.0, "longitude": 1.0,
     "un_member": 1, "observer": 0},
    {"iso3": "TUV", "name": "Tuvalu", "short_name": "Tuvalu", "latitude": -8.52, "longitude": 179.2,
     "un_member": 1, "observer": 0},
    {"iso3": "SGP", "name": "Singapore", "short_name": "Singapore", "latitude": 1.29, "longitude": 103.85,
     "un_member": 1, "observer": 0},
    {"iso3": "EUN", "name": "European Union", "short_name": "EU", "latitude": 50.85, "longitude": 4.35,
     "un_member": 0, "observer": 0},
]
STANCES = {
    "FRA": {"stance": "support", "last_date": "2024-03-01"},
    "ZZZ": {"stance": "oppose", "last_date": None},
    "TUV": {"stance": "qualified", "last_date": "2023-10-10"},
    "EUN": {"stance": "support", "last_date": "2024-05-02"},
}


def render(**kwargs) -> ElementTree.Element:
    paths = stance_map.country_paths(TOPOLOGY, {"250": "FRA", "999": "ZZZ"})
    svg = stance_map.render_stance_map(STANCES, STATES, **{"paths": paths, **kwargs})
    return ElementTree.fromstring(svg)  # raises on invalid XML


def drawn(root: ElementTree.Element, iso3: str) -> list[ElementTree.Element]:
    return [e for e in root.iter() if e.get("data-iso3") == iso3]


def title(element: ElementTree.Element) -> str:
    return element.find(f"{SVG}title").text


def test_decode_topology_applies_transform_deltas_and_reversed_arcs():
    topology = {**TOPOLOGY, "transform": {"scale": [2, 0.5], "translate": [-180, -90]}}
    france, taiwan, mirror = stance_map.decode_topology(topology)
    assert (france.numeric, france.name) == ("250", "France")
    assert france.rings == [[(-180, -70), (-160, -70), (-160, -65), (-180, -65), (-180, -70)]]
    assert taiwan.rings[0][0] == (60, -80) and len(taiwan.rings[0]) == 5
    assert mirror.rings == [[(-180, -70), (-180, -65), (-160, -65), (-160, -70), (-180, -70)]]


def test_a_ring_across_the_antimeridian_is_drawn_on_both_edges():
    topology = {"type": "Topology", "arcs": [[[170, -10], [-170, -10], [-170, 10], [170, 10], [170, -10]]],
                "objects": {"countries": {"geometries": [{"type": "Polygon", "id": "242", "arcs": [[0]]}]}}}
    (fiji,) = stance_map.country_paths(topology, {"242": "FJI"})
    assert fiji.iso3 == "FJI" and fiji.d.count("M") == 2


def test_the_renderer_draws_valid_svg_with_stance_fills_and_hover_titles():
    root = render(title="A new treaty")
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 960 500"
    assert title(root) == "Stances on A new treaty"
    (france,) = drawn(root, "FRA")
    assert france.tag == f"{SVG}path" and france.get("fill") == stance_map.COLOURS["support"]
    assert title(france) == "France: support, latest 2024-03-01"
    taiwan = [e for e in root.iter(f"{SVG}path") if e.get("class") == "c untracked"]
    assert [title(e) for e in taiwan] == ["Taiwan: not tracked"]
    assert taiwan[0].get("fill") == stance_map.UNTRACKED_FILL


def test_names_from_the_database_are_escaped():
    svg = stance_map.render_stance_map(STANCES, STATES, paths=stance_map.country_paths(TOPOLOGY, {"999": "ZZZ"}))
    assert "<script>" not in svg
    (element,) = drawn(ElementTree.fromstring(svg), "ZZZ")
    assert title(element) == "<script>& Land: oppose"
    control = [{**STATES[0], "short_name": "Fr\x00ance\x1b \"quoted\""}]
    ElementTree.fromstring(stance_map.render_stance_map({}, control, title='<b>"x" & y</b>', paths=[]))


def test_a_small_island_state_with_a_stance_is_a_dot_at_its_capital():
    root = render()
    (tuvalu,) = drawn(root, "TUV")
    assert tuvalu.tag == f"{SVG}circle" and tuvalu.get("fill") == stance_map.COLOURS["qualified"]
    x, y = stance_map.project(179.2, -8.52)
    assert (float(tuvalu.get("cx")), float(tuvalu.get("cy"))) == pytest.approx((x, y), abs=0.1)
    assert not drawn(root, "SGP")  # no stance, no shape: left out rather than a grey dot


def test_groupings_are_in_the_legend_not_on_the_map_and_counts_add_up():
    root = render()
    assert not drawn(root, "EUN")
    texts = [e.text or "" for e in root.iter(f"{SVG}text")]
    assert any("European Union: support, latest 2024-05-02" in t for t in texts)
    for label in ("support 1", "qualified 1", "oppose 1", "mention 0", "not addressed 1", "not tracked"):
        assert label in texts


def test_state_links_and_dots_only_fallback():
    root = render(state_url="/site/state/{iso3}")
    links = [e.get("href") for e in root.iter(f"{SVG}a")]
    assert "/site/state/FRA" in links and "/site/state/TUV" in links
    fallback = ElementTree.fromstring(stance_map.render_stance_map(STANCES, STATES, paths=[]))
    dots = {e.get("data-iso3"): e for e in fallback.iter(f"{SVG}circle")}
    assert set(dots) == {"FRA", "ZZZ", "TUV", "SGP"}
    assert dots["SGP"].get("fill") == stance_map.COLOURS["none"]
    assert any("shapes unavailable" in (e.text or "") for e in fallback.iter(f"{SVG}text"))


def test_a_missing_shapes_file_logs_a_warning_and_falls_back(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(stance_map, "SHAPES_FILE", tmp_path / "missing.json")
    stance_map.vendored_paths.cache_clear()
    try:
        with caplog.at_level(logging.WARNING):
            assert stance_map.vendored_paths() == ()
        assert "shapes=unavailable" in caplog.text
        ElementTree.fromstring(stance_map.render_stance_map(STANCES, STATES))
    finally:
        monkeypatch.undo()
        stance_map.vendored_paths.cache_clear()


def test_every_tracked_state_has_an_iso_numeric_code():
    with (REPO / "db" / "states.csv").open(encoding="utf-8") as handle:
        states = [row for row in csv.DictReader(handle)]
    countries = {s["iso3"] for s in states if s["un_member"] == "1" or s["observer"] == "1"}
    codes = stance_map.read_iso_numeric()
    assert set(codes.values()) == countries and len(codes) == len(countries)
    assert all(len(numeric) == 3 and numeric.isdigit() for numeric in codes)


@NEEDS_SHAPES
def test_the_vendored_world_maps_states_and_leaves_territories_untracked():
    paths = stance_map.vendored_paths()
    by_iso3 = {p.iso3: p for p in paths if p.iso3}
    assert {"FRA", "RUS", "USA", "CHN", "BRA", "PSE", "SSD"} <= set(by_iso3)
    untracked = {p.name for p in paths if not p.iso3}
    assert {"Taiwan", "W. Sahara", "Greenland", "Kosovo"} <= untracked
    assert "Antarctica" not in {p.name for p in paths}
    rows = [{"iso3": iso3, "name": iso3, "latitude": 0, "longitude": 0} for iso3 in ("FRA", "RUS")]
    root = ElementTree.fromstring(stance_map.render_stance_map({"FRA": {"stance": "support"}}, rows))
    (france,) = drawn(root, "FRA")
    assert france.tag == f"{SVG}path" and france.get("fill") == stance_map.COLOURS["support"]
    assert drawn(root, "RUS")[0].get("fill") == stance_map.COLOURS["none"]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    from db.connection import open_db

    folder = tmp_path_factory.mktemp("stance-map")
    db = open_db(folder / "work.db")
    load_sample_documents(db)
    process(db, Analyzer(), FakeEmbedder())
    db.close()
    return publish(folder / "work.db", folder / "normwatch.db")


@pytest.fixture(scope="module")
def site(published):
    before = set(pm.get_plugins())
    yield Datasette([str(published)], plugins_dir=str(PLUGINS))
    for plugin in set(pm.get_plugins()) - before:  # Datasette's plugin manager is global
        pm.unregister(plugin)


def get(site: Datasette, path: str):
    return asyncio.run(site.client.get(path))


def test_the_route_serves_the_map_of_a_norm(site):
    response = get(site, "/-/stance-map/debate.new-treaty.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    root = ElementTree.fromstring(response.text)
    assert drawn(root, "FRA")[0].get("fill") == stance_map.COLOURS["oppose"]
    assert drawn(root, "IRN")[0].get("fill") == stance_map.COLOURS["support"]
    assert any("African Union: support" in (e.text or "") for e in root.iter(f"{SVG}text"))


def test_the_route_answers_404_for_an_unknown_norm(site):
    assert get(site, "/-/stance-map/no.such-norm.svg").status_code == 404
