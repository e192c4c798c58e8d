"""A world map of states' stances on one norm, drawn server-side as SVG:
/-/stance-map/<norm_id>.svg (no JavaScript, no tiles, nothing fetched at run time).

Shapes come from world-atlas 2.0.2 `countries-110m.json` (Natural Earth, public
domain), vendored by `make` into datasette_config/vendor/. States too small for
that scale are drawn as dots at their capitals; without the file every state is
a dot on a graticule, so the norm page never breaks.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape

from datasette import NotFound, Response, hookimpl

CONFIG = Path(__file__).resolve().parents[1]
SHAPES_FILE = CONFIG / "vendor" / "countries-110m.json"
ISO_NUMERIC_FILE = CONFIG / "iso_numeric.csv"
ROUTE = r"^/-/stance-map/(?P<norm_id>[^/]+)\.svg$"

STANCES = ("support", "qualified", "oppose", "mention")
# Okabe-Ito colours: every pair stays apart (CIELAB distance >= 18) under simulated
# protan, deutan and tritan vision, which red/green would not.
COLOURS = {"support": "#0072B2", "qualified": "#F0E442", "oppose": "#D55E00", "mention": "#CC79A7",
           "none": "#D9D9D9"}
LABELS = {"none": "not addressed", "untracked": "not tracked"}
UNTRACKED_FILL = "url(#nwmap-hatch)"
OCEAN, BORDER, GRID = "#EEF3F7", "#FFFFFF", "#D6E0EA"
FONT = "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"
ANTARCTICA = "010"
LAT_MIN, LAT_MAX = -58.0, 84.0  # crops Antarctica; keeps Tierra del Fuego and Greenland
WIDTH, HEIGHT, MARGIN, LEGEND_TOP, DOT_RADIUS = 960, 500, 4, 436, 3.5
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
SVG_DEFS = (
    '<defs><pattern id="nwmap-hatch" width="4" height="4" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="4" height="4" fill="#F7F7F7"/>'
    '<line x1="0" y1="0" x2="0" y2="4" stroke="#BBBBBB" stroke-width="1.2"/></pattern>'
    # Scoped by class: the SVG may be inlined into an HTML page.
    "<style>.nwmap .c:hover{stroke:#222;stroke-width:1}</style></defs>"
)

logger = logging.getLogger(__name__)


class Shape(NamedTuple):
    numeric: str | None  # ISO 3166-1 numeric as in the TopoJSON ids, e.g. "250"
    name: str
    rings: list[list[tuple[float, float]]]  # (longitude, latitude)


class CountryPath(NamedTuple):
    iso3: str | None
    name: str
    d: str  # SVG path data, already projected


def decode_topology(topology: dict, object_name: str = "countries") -> list[Shape]:
    """TopoJSON -> shapes: arcs are delta-encoded when quantized; ~i is arc i reversed."""
    transform = topology.get("transform")
    arcs: list[list[tuple[float, float]]] = []
    for arc in topology["arcs"]:
        if not transform:
            arcs.append([(p[0], p[1]) for p in arc])
            continue
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        arcs.append([])
        for dx, dy, *_ in arc:
            x, y = x + dx, y + dy
            arcs[-1].append((x * sx + tx, y * sy + ty))

    def ring(indices: list[int]) -> list[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        for index in indices:
            arc = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(arc[1:] if points else arc)  # consecutive arcs share an end point
        return points

    shapes = []
    for geometry in topology["objects"][object_name]["geometries"]:
        polygons = {"Polygon": [geometry.get("arcs")], "MultiPolygon": geometry.get("arcs")}.get(
            geometry.get("type"), []
        )
        rings = [ring(r) for polygon in polygons for r in polygon]
        name = (geometry.get("properties") or {}).get("name", "")
        shapes.append(Shape(geometry.get("id"), name, rings))
    return shapes


def _natural_earth(lon: float, lat: float) -> tuple[float, float]:
    """Natural Earth I (Savric et al. 2015, as d3.geoNaturalEarth1), unscaled, y up."""
    lam, phi = math.radians(lon), math.radians(max(LAT_MIN, min(LAT_MAX, lat)))
    p2 = phi * phi
    p4 = p2 * p2
    x = lam * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4)))
    y = phi * (1.007226 + p2 * (0.015085 + p4 * (0.028874 * p2 - 0.044475 - 0.005916 * p4)))
    return x, y


_SCALE = (WIDTH - 2 * MARGIN) / (2 * _natural_earth(180, 0)[0])  # the equator is the widest line
_TOP = MARGIN + _SCALE * _natural_earth(0, LAT_MAX)[1]


def project(lon: float, lat: float) -> tuple[float, float]:
    """Longitude, latitude -> viewBox x, y."""
    x, y = _natural_earth(lon, lat)
    return WIDTH / 2 + _SCALE * x, _TOP - _SCALE * y


def _points(coordinates: Sequence[tuple[float, float]]) -> list[str]:
    points: list[str] = []
    for lon, lat in coordinates:
        x, y = project(lon, lat)
        point = f"{x:.1f} {y:.1f}"
        if not points or point != points[-1]:  # 0.1 px is below what a screen shows
            points.append(point)
    return points


def _unwrap(ring: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """world-atlas rings (Russia, Fiji) cross the antimeridian: make longitudes continuous."""
    unwrapped: list[tuple[float, float]] = []
    offset = 0.0
    for lon, lat in ring:
        if unwrapped and abs(lon + offset - unwrapped[-1][0]) > 180:
            offset += 360 if lon + offset < unwrapped[-1][0] else -360
        unwrapped.append((lon + offset, lat))
    return unwrapped


def _path(rings: Sequence[Sequence[tuple[float, float]]]) -> str:
    parts = []
    for ring in map(_unwrap, rings):
        lons = [lon for lon, _ in ring] or [0.0]
        # A ring past +-180 is drawn again on the other edge; the clip path trims both copies.
        shifts = [0.0] + [360.0] * (min(lons) < -180) + [-360.0] * (max(lons) > 180)
        for shift in shifts:
            points = _points([(lon + shift, lat) for lon, lat in ring])
            if len(points) > 2:
                parts.append("M" + " ".join(points) + "Z")
    return "".join(parts)


def read_iso_numeric(path: Path = ISO_NUMERIC_FILE) -> dict[str, str]:
    """TopoJSON id (ISO 3166-1 numeric, zero-padded) -> the alpha-3 code `states` uses."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["numeric"]: row["iso3"] for row in csv.DictReader(handle)}


def country_paths(topology: dict, numeric_to_iso3: Mapping[str, str]) -> list[CountryPath]:
    return [
        CountryPath(numeric_to_iso3.get(shape.numeric or ""), shape.name, _path(shape.rings))
        for shape in decode_topology(topology)
        if shape.numeric != ANTARCTICA
    ]


@lru_cache(maxsize=1)
def vendored_paths() -> tuple[CountryPath, ...]:
    """The projected world, once per process; empty (dots only) if the file is unusable."""
    try:
        topology = json.loads(SHAPES_FILE.read_text(encoding="utf-8"))
        return tuple(country_paths(topology, read_iso_numeric()))
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        logger.warning("stance_map shapes=unavailable path=%s error=%r fallback=capital-dots "
                       "fix='make datasette_config/vendor/countries-110m.json'", SHAPES_FILE, error)
        return ()


def _text(value: object) -> str:
    """Escaped for XML text and attribute values; drops characters XML 1.0 forbids."""
    return escape(_NOT_XML.sub("", str(value)), {'"': "&quot;"})


def _is_grouping(state: Mapping) -> bool:
    """EU, AU: in `states` for their statements, but neither members nor observers."""
    return not state.get("un_member", 1) and not state.get("observer", 0)


def _stance(position: Mapping | None) -> str:
    if not position:
        return "none"
    # An unknown stance value still means the state addressed the norm.
    return position["stance"] if position.get("stance") in STANCES else "mention"


def _describe(name: str, position: Mapping | None) -> str:
    """The hover text: name, stance and the date of the latest document taking it."""
    date = f", latest {position['last_date']}" if position and position.get("last_date") else ""
    return f"{name}: {position.get('stance') if position else LABELS['none']}{date}"


@lru_cache(maxsize=1)
def _backdrop() -> str:
    """Ocean and a 30-degree graticule: the same on every map."""
    span = [float(lat) for lat in range(int(LAT_MIN), int(LAT_MAX) + 1, 2)]
    edges = [(-180.0, lat) for lat in span] + [(180.0, lat) for lat in reversed(span)]
    ocean = "M" + " ".join(_points(edges)) + "Z"  # not _path: its +-180 edges are not a crossing
    lines = [[(-180.0, float(lat)), (180.0, float(lat))] for lat in range(-30, 90, 30)]
    lines += [[(float(lon), lat) for lat in span] for lon in range(-150, 180, 30)]
    grid = "".join(f'<path d="M{" ".join(_points(line))}"/>' for line in lines)
    return (f'<clipPath id="nwmap-clip"><path d="{ocean}"/></clipPath>\n'
            f'<path class="ocean" fill="{OCEAN}" d="{ocean}"/>\n'
            f'<g class="graticule" fill="none" stroke="{GRID}" stroke-width="0.6">{grid}</g>')


def render_stance_map(
    stances: Mapping[str, Mapping],
    states: Sequence[Mapping],
    *,
    title: str = "",
    paths: Sequence[CountryPath] | None = None,
    state_url: str | None = None,
) -> str:
    """SVG of each state's stance. `stances`: iso3 -> position row (stance, last_date);
    `states`: rows of the states table; `paths`: projected shapes (default: the vendored
    world; empty: capital dots only); `state_url`: e.g. "/state/{iso3}" to link shapes."""
    paths = vendored_paths() if paths is None else paths
    groupings = [state for state in states if _is_grouping(state)]
    countries = {state["iso3"]: state for state in states if not _is_grouping(state)}
    counts = Counter(_stance(stances.get(iso3)) for iso3 in countries)

    def element(tag: str, geometry: str, iso3: str) -> str:
        state, position = countries[iso3], stances.get(iso3)
        stance = _stance(position)
        label = _describe(state.get("short_name") or state["name"], position)
        svg = (f'<{tag} class="c {stance}" data-iso3="{_text(iso3)}" fill="{COLOURS[stance]}" '
               f"{geometry}><title>{_text(label)}</title></{tag}>")
        if state_url:
            svg = f'<a href="{_text(state_url.replace("{iso3}", iso3))}" target="_top">{svg}</a>'
        return svg

    body = []
    for shape in paths:
        if shape.iso3 in countries:
            body.append(element("path", f'd="{shape.d}"', shape.iso3))
        else:
            label = f"{shape.name}: {LABELS['untracked']}"
            body.append(f'<path class="c untracked" fill="{UNTRACKED_FILL}" d="{shape.d}">'
                        f"<title>{_text(label)}</title></path>")
    drawn = {shape.iso3 for shape in paths}
    for iso3, state in sorted(countries.items()):
        # With shapes, only states with a stance get a dot: ~30 grey dots would clutter the map.
        if iso3 in drawn or (paths and iso3 not in stances) or state.get("latitude") is None:
            continue
        x, y = project(float(state["longitude"]), float(state["latitude"]))
        geometry = f'cx="{x:.1f}" cy="{y:.1f}" r="{DOT_RADIUS}" stroke="#444" stroke-width="0.6"'
        body.append(element("circle", geometry, iso3))
    heading = _text(f"Stances on {title}" if title else "Stances of states")
    opening = (f'<svg xmlns="http://www.w3.org/2000/svg" class="nwmap" viewBox="0 0 {WIDTH} {HEIGHT}" '
               f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{heading}" '
               f'font-family="{FONT}" font-size="13">\n<title>{heading}</title>')
    countries_group = f'<g class="countries" clip-path="url(#nwmap-clip)" stroke="{BORDER}" stroke-width="0.5">'
    legend = _legend(counts, groupings, stances, shapes_drawn=bool(paths))
    return "\n".join([opening, SVG_DEFS, _backdrop(), countries_group, *body, "</g>", legend, "</svg>"])


def _legend(counts: Counter, groupings: Sequence[Mapping], stances: Mapping[str, Mapping],
            *, shapes_drawn: bool) -> str:
    keys = [*STANCES, "none"] + (["untracked"] if shapes_drawn else [])
    items = []
    for i, key in enumerate(keys):
        x = 12 + i * 156
        fill = UNTRACKED_FILL if key == "untracked" else COLOURS[key]
        count = "" if key == "untracked" else f" {counts.get(key, 0)}"
        items.append(f'<g class="legend-item {key}"><rect x="{x}" y="{LEGEND_TOP}" width="14" '
                     f'height="14" fill="{fill}" stroke="#999" stroke-width="0.5"/>'
                     f'<text x="{x + 20}" y="{LEGEND_TOP + 12}">{LABELS.get(key, key)}{count}</text></g>')
    notes = [_describe(g["name"], stances.get(g["iso3"])) for g in groupings]
    caption = "Groupings, not on the map: " + "; ".join(notes) if notes else ""
    if not shapes_drawn:
        caption += (" · " if caption else "") + "map shapes unavailable: states shown at their capitals"
    return (f'<g class="legend" fill="#222">{"".join(items)}'
            f'<text class="caption" x="12" y="{LEGEND_TOP + 40}" fill="#444">{_text(caption)}</text></g>')


async def stance_map_svg(datasette, norm_id: str, state_url: str | None = None) -> str | None:
    """The map for one norm from the first database, or None for an unknown norm;
    for templates that inline the SVG instead of an <img>/<object>."""
    db = datasette.get_database()
    norm = (await db.execute("select id, label from norms where id = :id", {"id": norm_id})).first()
    if norm is None:
        return None
    positions = await db.execute("select state, stance, last_date from positions "
                                 "where norm_id = :id", {"id": norm_id})
    states = await db.execute("select iso3, name, short_name, latitude, longitude, un_member, observer "
                              "from states order by iso3")
    return render_stance_map({row["state"]: dict(row) for row in positions.rows},
                             [dict(row) for row in states.rows],
                             title=norm["label"] or norm["id"], state_url=state_url)


async def stance_map(datasette, request) -> Response:
    norm_id = request.url_vars["norm_id"]
    svg = await stance_map_svg(datasette, norm_id, datasette.urls.path("/state/") + "{iso3}")
    if svg is None:
        raise NotFound(f"No norm with id {norm_id}")
    return Response(svg, content_type="image/svg+xml; charset=utf-8", headers={
        "Cache-Control": f"max-age={datasette.setting('default_cache_ttl')}",
        # Opened directly, an SVG is a document: allow nothing but its own inline style.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        "X-Content-Type-Options": "nosniff",
    })


@hookimpl
def register_routes():
    return [(ROUTE, stance_map)]


@hookimpl
def startup(datasette):
    vendored_paths()  # decode and project once, before the first request; warns if missing
