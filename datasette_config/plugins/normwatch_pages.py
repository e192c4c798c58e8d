"""Pages a journalist starts from, without SQL: states, a state's profile, norms,
a norm's page (with the silent states), the state x norm matrix, the data dictionary.

Each page is a query on the published file plus a template in
datasette_config/templates; Jinja escapes every value, so statement text is
never rendered as HTML.
"""

from __future__ import annotations

import json
from collections import defaultdict

from datasette import NotFound, Response, hookimpl

STANCES = ("support", "qualified", "oppose", "mention")
PAGES = {
    r"^/states$": "states_page",
    r"^/state/(?P<iso3>[A-Za-z]{2,3})$": "state_page",
    r"^/norms$": "norms_page",
    r"^/norm/(?P<norm_id>[A-Za-z0-9._-]+)$": "norm_page",
    r"^/matrix$": "matrix_page",
    r"^/dictionary$": "dictionary_page",
}
# The document-level evidence behind each position, with its source.
POSITION_ROWS = """
select p.state, st.name as state_name, p.norm_id, n.label as norm, n.family, p.stance,
  p.confidence, p.documents, p.first_date, p.last_date, p.evidence_sentence_id,
  s.text as evidence, d.id as document_id, d.title as source_title, d.url as source_url,
  d.provenance, d.forum, p.earlier_stance, p.earlier_date, es.text as earlier_evidence,
  cs.text as counter_evidence
from positions p
join states st on st.iso3 = p.state
join norms n on n.id = p.norm_id
left join sentences s on s.id = p.evidence_sentence_id
left join documents d on d.id = p.evidence_document_id
left join sentences es on es.id = p.earlier_evidence_sentence_id
left join sentences cs on cs.id = p.counter_evidence_sentence_id
"""


@hookimpl
def register_routes():
    return [(pattern, globals()[name]) for pattern, name in PAGES.items()]


@hookimpl
def prepare_jinja2_environment(env):
    # Quotes are added by the page: drop the ones a sentence already carries.
    env.filters["unquote"] = lambda text: (text or "").strip().strip('"“”')


async def _rows(datasette, sql: str, params: dict | None = None) -> list[dict]:
    result = await datasette.get_database().execute(sql, params or {})
    return [dict(row) for row in result.rows]


async def _render(datasette, request, template: str, **context) -> Response:
    context["database"] = datasette.get_database().name
    # serve marks a synthetic file in the title (db.site.metadata_for): say so on every page
    context["synthetic"] = "synthetic" in (datasette.metadata("title") or "").lower()
    context["stances"] = STANCES
    return Response.html(await datasette.render_template(template, context, request=request))


async def states_page(datasette, request):
    states = await _rows(datasette, """
        select st.iso3, st.name, st.region, count(p.norm_id) as positions,
          sum(p.stance = 'support') as support, sum(p.stance = 'qualified') as qualified,
          sum(p.stance = 'oppose') as oppose, max(p.last_date) as last_date
        from states st left join positions p on p.state = st.iso3
        group by st.iso3 order by positions = 0, st.name
    """)
    return await _render(datasette, request, "normwatch_states.html", states=states)


async def state_page(datasette, request):
    iso3 = request.url_vars["iso3"].upper()
    found = await _rows(datasette, "select * from states where iso3 = :iso3", {"iso3": iso3})
    if not found:
        raise NotFound(f"No state with code {iso3}")
    state = {**found[0], "group_list": json.loads(found[0]["groups"] or "[]")}
    positions = await _rows(
        datasette, POSITION_ROWS + " where p.state = :iso3 order by n.family, p.norm_id", {"iso3": iso3}
    )
    closest = await _rows(datasette, """
        select a.other_state as iso3, st.name, a.agreement, a.same_stance, a.norms_both
        from state_agreement a join states st on st.iso3 = a.other_state
        where a.state = :iso3 order by a.agreement desc, a.norms_both desc, st.name limit 5
    """, {"iso3": iso3})
    group_statements = await _rows(datasette, """
        select id, date, title, on_behalf_of, url from documents
        where state = :iso3 and speaker_role = 'group' and state not in ('EUN', 'AU')
          and superseded_in_run is null
        order by date desc
    """, {"iso3": iso3})
    return await _render(
        datasette, request, "normwatch_state.html", state=state, positions=positions,
        closest=closest, group_statements=group_statements,
    )


async def norms_page(datasette, request):
    norms = await _rows(datasette, """
        select n.id, n.family, n.label, n.description,
          sum(p.stance = 'support') as support, sum(p.stance = 'qualified') as qualified,
          sum(p.stance = 'oppose') as oppose, sum(p.stance = 'mention') as mention
        from norms n left join positions p on p.norm_id = n.id
        group by n.id order by n.family, n.id
    """)
    families = defaultdict(list)
    for norm in norms:
        families[norm["family"]].append(norm)
    return await _render(datasette, request, "normwatch_norms.html", families=dict(families))


async def norm_page(datasette, request):
    norm_id = request.url_vars["norm_id"]
    found = await _rows(datasette, "select * from norms where id = :id", {"id": norm_id})
    if not found:
        raise NotFound(f"No norm with id {norm_id}")
    positions = await _rows(
        datasette, POSITION_ROWS + " where p.norm_id = :id order by p.confidence desc, st.name",
        {"id": norm_id},
    )
    by_stance = {stance: [row for row in positions if row["stance"] == stance] for stance in STANCES}
    silent = await _rows(datasette, """
        select iso3, name from states
        where (un_member = 1 or observer = 1 or iso3 in ('EUN', 'AU'))
          and iso3 not in (select state from positions where norm_id = :id)
        order by name
    """, {"id": norm_id})
    return await _render(
        datasette, request, "normwatch_norm.html", norm=found[0], by_stance=by_stance,
        silent=silent, total=len(positions),
    )


async def matrix_page(datasette, request):
    cells = await _rows(datasette, """
        select p.state, p.norm_id, p.stance, p.last_date, st.name
        from positions p join states st on st.iso3 = p.state
    """)
    norms = await _rows(datasette, """
        select id, label, family from norms where id in (select norm_id from positions)
        order by family, id
    """)
    grid: dict[str, dict[str, dict]] = defaultdict(dict)
    names = {}
    for cell in cells:
        grid[cell["state"]][cell["norm_id"]] = cell
        names[cell["state"]] = cell["name"]
    # One (stance, date) pair per cell, laid out here: the template's loop stays trivial,
    # which matters at 200 states x 47 norms (async Jinja pays per expression).
    rows = [
        (iso3, names[iso3], [
            (cell["stance"], cell["last_date"] or "undated") if (cell := grid[iso3].get(norm["id"])) else None
            for norm in norms
        ])
        for iso3 in sorted(grid, key=lambda iso3: names[iso3])
    ]
    return await _render(datasette, request, "normwatch_matrix.html", rows=rows, norms=norms)


async def dictionary_page(datasette, request):
    columns = await _rows(datasette, "select * from data_dictionary order by table_name, position")
    tables = defaultdict(list)
    for column in columns:
        tables[column["table_name"]].append(column)
    return await _render(datasette, request, "normwatch_dictionary.html", tables=dict(tables))
