"""Every query of the maps: household facts, GeoJSON layers, vector tiles, village counts.

PostGIS does the heavy lifting: GeoJSON and MVT are built by the database and leave it as one
value, so a layer never round-trips thousands of rows through Python.
"""

from __future__ import annotations

import uuid

from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.orm import Session

from server.accounts.scope import Scope
from server.cases import queries as case_queries
from server.cases.models import Case
from server.people import statuses
from server.people.models import Child, Household
from server.places.models import Town, Village

OUT_OF_SCHOOL = tuple(statuses.OUT_OF_SCHOOL)
# Households and children at zoom levels below this carry aggregates only (grid cells).
DETAIL_ZOOM = 13
# Grid cells per tile side for the aggregates of low zooms (256 px tiles -> 16 px cells).
CELLS_PER_TILE = 16
WEB_MERCATOR_WIDTH_M = 40075016.68557849

# A literal, not a bound parameter: a bound '[]' of type JSON would be serialised as the string "[]".
EMPTY_JSON_ARRAY = literal_column("'[]'::json")

# Priority of a household for the campaign, most urgent first; tasks and filters use the names.
PRIORITIES = ("out_of_school", "priority_group", "unsurveyed", "none")


def _children_of_household(scope: Scope):
    """Per household: its children's counts and flags (a LATERAL, evaluated per household); a
    school's scope counts its own students only."""
    campaign = Child.enrollment_status != "not_school_age"
    return (
        select(
            func.count().filter(campaign).label("children"),
            func.count().filter(Child.enrollment_status.in_(OUT_OF_SCHOOL)).label("out_of_school"),
            func.coalesce(func.bool_or(Child.disability), False).label("disabled"),
            func.coalesce(func.bool_or(Child.left_behind), False).label("left_behind"),
            func.coalesce(func.bool_or(Child.migrant), False).label("migrant"),
            func.coalesce(func.bool_or(func.cardinality(Child.vulnerable_family_types) > 0), False)
            .label("vulnerable"),
        )
        .where(Child.household_id == Household.id, scope.schools(Child.school_id))
        .lateral("k")
    )


def household_facts(scope: Scope, *, village: str | None = None, survey_status: str | None = None,
                    bbox: tuple[float, float, float, float] | None = None, envelope=None, located: bool = True):
    """Households in scope with their priority, as a select (filtered, not yet limited)."""
    k = _children_of_household(scope)
    vulnerable = or_(func.cardinality(Household.vulnerable_family_types) > 0, k.c.vulnerable)
    priority_group = or_(vulnerable, k.c.disabled, k.c.left_behind, k.c.migrant)
    priority = case(
        (k.c.out_of_school > 0, literal("out_of_school")),
        (priority_group, literal("priority_group")),
        (Household.survey_status == "not_visited", literal("unsurveyed")),
        else_=literal("none"),
    )
    query = (
        select(
            Household.id, Household.village_code, Household.head_name, Household.survey_status,
            Household.location, Household.location_approximate,
            k.c.children, k.c.out_of_school, k.c.disabled, k.c.left_behind, k.c.migrant,
            vulnerable.label("vulnerable"), priority.label("priority"),
        )
        .select_from(Household)
        .join(k, true())
        .where(scope.households(Household))
    )
    if located:
        query = query.where(Household.location.is_not(None))
    if village is not None:
        query = query.where(Household.village_code == village)
    if survey_status is not None:
        query = query.where(Household.survey_status == survey_status)
    if bbox is not None:
        query = query.where(Household.location.op("&&")(func.ST_MakeEnvelope(*bbox, 4326)))
    if envelope is not None:
        query = query.where(Household.location.op("&&")(envelope))
    return query


def _properties(pairs: dict, hidden: frozenset):
    """json_build_object's arguments, without the properties the viewer may not see."""
    return [x for name, column in pairs.items() if name not in hidden for x in (name, column)]


def households_geojson(session: Session, scope: Scope, *, village=None, survey_status=None, priority=None,
                       bbox=None, approximate: bool | None = None, limit: int = 10000,
                       hidden: frozenset = frozenset()) -> tuple[str, list, bool]:
    """A FeatureCollection of households (head's name and counts, never ID numbers), their ids,
    and whether more households matched than `limit` (the collection then says so itself)."""
    facts = household_facts(scope, village=village, survey_status=survey_status, bbox=bbox)
    if approximate is not None:
        facts = facts.where(Household.location_approximate.is_(approximate))
    f = facts.subquery("f")
    rows = select(f).order_by(f.c.village_code, f.c.id)
    if priority is not None:
        rows = rows.where(f.c.priority == priority)
    # One row past the limit tells a truncated answer from a complete one, without a count.
    probe = rows.limit(limit + 1).cte("p")
    r = select(probe).order_by(probe.c.village_code, probe.c.id).limit(limit).subquery("r")
    more = select(func.count()).select_from(probe).scalar_subquery() > limit
    feature = func.json_build_object(
        "type", "Feature", "id", r.c.id,
        "geometry", cast(func.ST_AsGeoJSON(r.c.location, 6), JSON),
        "properties", func.json_build_object(*_properties({
            "id": r.c.id, "village_code": r.c.village_code, "head_name": r.c.head_name,
            "survey_status": r.c.survey_status, "priority": r.c.priority,
            "location_approximate": r.c.location_approximate, "children": r.c.children,
            "out_of_school": r.c.out_of_school, "disabled": r.c.disabled, "left_behind": r.c.left_behind,
            "migrant": r.c.migrant, "vulnerable": r.c.vulnerable,
        }, hidden)),
    )
    collection = func.json_build_object(
        "type", "FeatureCollection",
        "features", func.coalesce(func.json_agg(feature), EMPTY_JSON_ARRAY),
        # foreign members (RFC 7946 §6.1): a map that stops at the limit says so
        "limit", literal(limit), "truncated", more,
    )
    # The ids come out of the same pass, for the audit trail's row of this read.
    text, ids, truncated = session.execute(
        select(cast(collection, String), func.array_agg(r.c.id), more).select_from(r)).one()
    return text, ids or [], bool(truncated)


def _child_status_filter(status: str | None):
    groups = {"out_of_school": statuses.OUT_OF_SCHOOL, "enrolled": statuses.ENROLLED,
              "legitimately_not_enrolled": statuses.LEGITIMATELY_NOT_ENROLLED,
              "unresolved": statuses.UNRESOLVED}
    if status is None:
        return Child.enrollment_status != "not_school_age"
    if status in groups:
        return Child.enrollment_status.in_(tuple(groups[status]))
    return Child.enrollment_status == status


def _child_priority_filter(priority: str | None):
    return {
        None: true(),
        "disabled": Child.disability,
        "left_behind": Child.left_behind,
        "migrant": Child.migrant,
        "vulnerable": func.cardinality(Child.vulnerable_family_types) > 0,
    }[priority]


def children_geojson(session: Session, scope: Scope, *, village=None, status=None, priority=None, bbox=None,
                     limit: int = 10000, hidden: frozenset = frozenset()) -> tuple[str, list]:
    """A FeatureCollection of children at their household's point (name and status, no ID number)
    and their ids."""
    query = (
        select(Child.id, Child.household_id, Child.village_code, Child.name, Child.gender, Child.birth_date,
               Child.enrollment_status, Child.disability, Child.left_behind, Child.migrant,
               Child.grade, Child.school_name, Household.location)
        .join(Household, Household.id == Child.household_id)
        .where(scope.children(Child), Household.location.is_not(None),
               _child_status_filter(status), _child_priority_filter(priority))
        .order_by(Child.village_code, Child.id)
        .limit(limit)
    )
    if village is not None:
        query = query.where(Child.village_code == village)
    if bbox is not None:
        query = query.where(Household.location.op("&&")(func.ST_MakeEnvelope(*bbox, 4326)))
    r = query.subquery("r")
    feature = func.json_build_object(
        "type", "Feature", "id", r.c.id,
        "geometry", cast(func.ST_AsGeoJSON(r.c.location, 6), JSON),
        "properties", func.json_build_object(*_properties({
            "id": r.c.id, "household_id": r.c.household_id, "village_code": r.c.village_code,
            "name": r.c.name, "gender": r.c.gender, "birth_date": r.c.birth_date,
            "enrollment_status": r.c.enrollment_status, "disability": r.c.disability,
            "left_behind": r.c.left_behind, "migrant": r.c.migrant, "grade": r.c.grade,
            "school_name": r.c.school_name,
        }, hidden)),
    )
    collection = func.json_build_object(
        "type", "FeatureCollection",
        "features", func.coalesce(func.json_agg(feature), EMPTY_JSON_ARRAY),
    )
    text, ids = session.execute(select(cast(collection, String), func.array_agg(r.c.id)).select_from(r)).one()
    return text, ids or []


# --- vector tiles -------------------------------------------------------------------------------

def _tile_rows(scope: Scope, layer: str, z: int, x: int, y: int, tallies: dict | None = None):
    """The rows of one tile layer, each with an MVT `geom` and properties that name no one."""
    env = func.ST_TileEnvelope(z, x, y)
    env4326 = func.ST_Transform(env, 4326)

    def mvt_geom(geom):
        return func.ST_AsMVTGeom(func.ST_Transform(geom, 3857), env, 4096, 64, True).label("geom")

    if layer == "villages":
        counts = village_counts(scope, tallies).subquery("c")
        return (
            select(mvt_geom(Village.boundary), Village.code.label("village_code"), counts.c.households,
                   counts.c.surveyed, counts.c.children, counts.c.out_of_school, counts.c.returned)
            .join(counts, counts.c.code == Village.code)
            .where(Village.boundary.op("&&")(env4326))
            .order_by(Village.code)  # a stable tile for a stable ETag
        )
    if layer == "households":
        f = household_facts(scope, envelope=env4326).subquery("f")
        if z >= DETAIL_ZOOM:
            return select(mvt_geom(f.c.location), cast(f.c.id, String).label("id"), f.c.village_code,
                          f.c.survey_status, f.c.priority, f.c.children, f.c.out_of_school,
                          f.c.location_approximate)
        cell = func.ST_SnapToGrid(func.ST_Transform(f.c.location, 3857), _cell_size(z))
        return (
            select(
                func.ST_AsMVTGeom(func.ST_Centroid(func.ST_Collect(func.ST_Transform(f.c.location, 3857))),
                                  env, 4096, 64, True).label("geom"),
                cast(func.count(), Integer).label("households"),
                cast(func.count().filter(f.c.out_of_school > 0), Integer).label("out_of_school_households"),
                cast(func.sum(f.c.out_of_school), Integer).label("out_of_school"),
                cast(func.count().filter(f.c.survey_status == "not_visited"), Integer).label("unsurveyed"),
            )
            .group_by(cell)
        )
    if layer == "children":
        base = (
            select(Child.household_id, Child.enrollment_status, Child.disability, Child.left_behind,
                   Child.migrant, Household.location)
            .join(Household, Household.id == Child.household_id)
            .where(scope.children(Child), Household.location.op("&&")(env4326),
                   Child.enrollment_status != "not_school_age")
        ).subquery("b")
        if z >= DETAIL_ZOOM:
            return select(mvt_geom(base.c.location), cast(base.c.household_id, String).label("household_id"),
                          base.c.enrollment_status, base.c.disability, base.c.left_behind, base.c.migrant)
        cell = func.ST_SnapToGrid(func.ST_Transform(base.c.location, 3857), _cell_size(z))
        return (
            select(
                func.ST_AsMVTGeom(func.ST_Centroid(func.ST_Collect(func.ST_Transform(base.c.location, 3857))),
                                  env, 4096, 64, True).label("geom"),
                cast(func.count(), Integer).label("children"),
                cast(func.count().filter(base.c.enrollment_status.in_(OUT_OF_SCHOOL)), Integer)
                .label("out_of_school"),
            )
            .group_by(cell)
        )
    raise ValueError(layer)


def _cell_size(z: int) -> float:
    return WEB_MERCATOR_WIDTH_M / (2 ** z) / CELLS_PER_TILE


TILE_LAYERS = ("households", "children", "villages")


def _sql_list(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


_H = table("households", column("id"), column("village_code")).alias("h")
_C = table("children", column("village_code"), column("school_id")).alias("c")


def _scope_sql(scope: Scope, records: str) -> str:
    """Scope's filter on the households (h) or children (c) of the SQL text below, its codes
    inlined (12-digit village codes checked by the villages table, integer ids), so each tile is
    one fixed statement plus this filter."""
    clause = {"households": lambda: scope.households(_H.c), "children": lambda: scope.children(_C.c),
              "students": lambda: scope.schools(_C.c.school_id)}[records]()
    return str(clause.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


# Features in a fixed order: the ETag hashes the bytes, so the same data must give the same tile
# whichever plan or worker answered.
# ST_AsMVT skips rows whose geometry ST_AsMVTGeom clipped away (NULL): no outer filter, which
# PostgreSQL would otherwise evaluate by running ST_AsMVTGeom a second time per row.
# Tiles are the hottest path of the map (a viewport asks for a dozen at once), so their SQL is
# written out as text: building and caching the equivalent Core construct (GeoAlchemy2 functions,
# a LATERAL, a CASE) cost more per tile than PostgreSQL took to answer it.
_ENV = "ST_TileEnvelope(:z, :x, :y)"
_HOUSEHOLD_DETAIL = f"""
SELECT ST_AsMVT(t, 'households', 4096, 'geom' ORDER BY t.id) FROM (
  SELECT ST_AsMVTGeom(ST_Transform(h.location, 3857), {_ENV}, 4096, 64, true) AS geom,
         h.id::text AS id, h.village_code, h.survey_status,
         CASE WHEN k.out_of_school > 0 THEN 'out_of_school'
              WHEN cardinality(h.vulnerable_family_types) > 0 OR k.flagged THEN 'priority_group'
              WHEN h.survey_status = 'not_visited' THEN 'unsurveyed' ELSE 'none' END AS priority,
         k.children, k.out_of_school, h.location_approximate
    FROM households h
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE c.enrollment_status <> 'not_school_age')::int AS children,
             count(*) FILTER (WHERE c.enrollment_status IN {_sql_list(OUT_OF_SCHOOL)})::int AS out_of_school,
             coalesce(bool_or(c.disability OR c.left_behind OR c.migrant
                              OR cardinality(c.vulnerable_family_types) > 0), false) AS flagged
        FROM children c WHERE c.household_id = h.id AND {{students}}) k
   WHERE h.location && ST_Transform({_ENV}, 4326) AND {{scope}}
) t"""  # noqa: S608 - constants; the scope filter is compiled by SQLAlchemy
_HOUSEHOLD_CELLS = f"""
SELECT ST_AsMVT(t, 'households', 4096, 'geom' ORDER BY t.geom) FROM (
  SELECT ST_AsMVTGeom(ST_Centroid(ST_Collect(s.g)), {_ENV}, 4096, 64, true) AS geom,
         count(*)::int AS households,
         count(*) FILTER (WHERE s.oos > 0)::int AS out_of_school_households,
         coalesce(sum(s.oos), 0)::int AS out_of_school,
         count(*) FILTER (WHERE s.survey_status = 'not_visited')::int AS unsurveyed
    FROM (SELECT ST_Transform(h.location, 3857) AS g, h.survey_status, coalesce(o.n, 0) AS oos
            FROM households h
            LEFT JOIN (SELECT c.household_id, count(*) AS n FROM children c
                        WHERE c.enrollment_status IN {_sql_list(OUT_OF_SCHOOL)} AND {{child_scope}}
                        GROUP BY c.household_id) o ON o.household_id = h.id
           WHERE h.location && ST_Transform({_ENV}, 4326) AND {{scope}}) s
   GROUP BY ST_SnapToGrid(s.g, :cell)
) t"""  # noqa: S608 - constants; the scope filter is compiled by SQLAlchemy
_CHILD_DETAIL = f"""
SELECT ST_AsMVT(t, 'children', 4096, 'geom'
                ORDER BY t.household_id, t.enrollment_status, t.disability, t.left_behind, t.migrant) FROM (
  SELECT ST_AsMVTGeom(ST_Transform(h.location, 3857), {_ENV}, 4096, 64, true) AS geom,
         c.household_id::text AS household_id, c.enrollment_status, c.disability, c.left_behind, c.migrant
    FROM children c JOIN households h ON h.id = c.household_id
   WHERE h.location && ST_Transform({_ENV}, 4326) AND c.enrollment_status <> 'not_school_age' AND {{child_scope}}
) t"""  # noqa: S608 - constants; the scope filter is compiled by SQLAlchemy
_CHILD_CELLS = f"""
SELECT ST_AsMVT(t, 'children', 4096, 'geom' ORDER BY t.geom) FROM (
  SELECT ST_AsMVTGeom(ST_Centroid(ST_Collect(s.g)), {_ENV}, 4096, 64, true) AS geom,
         count(*)::int AS children,
         count(*) FILTER (WHERE s.enrollment_status IN {_sql_list(OUT_OF_SCHOOL)})::int AS out_of_school
    FROM (SELECT ST_Transform(h.location, 3857) AS g, c.enrollment_status
            FROM children c JOIN households h ON h.id = c.household_id
           WHERE h.location && ST_Transform({_ENV}, 4326) AND c.enrollment_status <> 'not_school_age'
             AND {{child_scope}}) s
   GROUP BY ST_SnapToGrid(s.g, :cell)
) t"""  # noqa: S608 - constants; the scope filter is compiled by SQLAlchemy


def tile(session: Session, scope: Scope, layer: str, z: int, x: int, y: int, tallies: dict | None = None) -> bytes:
    """One Mapbox Vector Tile of `layer` (ST_AsMVT), empty bytes when nothing is in it."""
    if layer == "villages":
        rows = _tile_rows(scope, layer, z, x, y, tallies).subquery("t")
        data = session.scalar(
            select(func.ST_AsMVT(literal_column("t"), layer, 4096, "geom")).select_from(rows)
            .where(rows.c.geom.is_not(None))
        )
        return bytes(data or b"")
    detail = z >= DETAIL_ZOOM
    template = {("households", True): _HOUSEHOLD_DETAIL, ("households", False): _HOUSEHOLD_CELLS,
                ("children", True): _CHILD_DETAIL, ("children", False): _CHILD_CELLS}[(layer, detail)]
    sql = template.format(scope=_scope_sql(scope, "households"), child_scope=_scope_sql(scope, "children"),
                          students=_scope_sql(scope, "students"))
    params = {"z": z, "x": x, "y": y} | ({} if detail else {"cell": _cell_size(z)})
    return bytes(session.execute(text(sql), params).scalar() or b"")


# --- villages -----------------------------------------------------------------------------------

_COUNT_COLUMNS = ("households", "surveyed", "children", "out_of_school", "returned")


def kept_village_counts(scope: Scope, tallies: dict[str, dict]):
    """The same rows as village_counts_select, from the kept tallies (server/tallies) of the
    scope's villages, as a table of the statement: one parameter instead of two county scans."""
    rows = [{"code": code, **{k: counts[k] for k in _COUNT_COLUMNS}}
            for code, counts in tallies.items() if scope.covers(code)]
    recordset = func.jsonb_to_recordset(literal(rows, type_=JSONB)).table_valued(
        column("code", String), *(column(k, Integer) for k in _COUNT_COLUMNS)).render_derived(
        name="kept", with_types=True)
    return select(recordset.c.code, *(recordset.c[k] for k in _COUNT_COLUMNS))


def village_counts(scope: Scope, tallies: dict[str, dict] | None):
    """Per village in scope, its counts: kept ones when given (a scope of whole villages), else counted."""
    return village_counts_select(scope) if tallies is None else kept_village_counts(scope, tallies)


def village_counts_select(scope: Scope):
    """Per village in scope: households, surveyed, school-age children, out of school, returned.

    "Returned" (已复学) counts the children whose case ended returned
    (cases.queries.outcomes_per_child), as the rates and the cases header do. Not a child's
    history: a register import moving a suspected child to enrolled found a child who was in
    school all along, and reading every version of every child made the map's cost grow with
    each push.
    """
    h = (
        select(Household.village_code, func.count().label("households"),
               func.count().filter(Household.survey_status != "not_visited").label("surveyed"))
        .where(scope.households(Household))
        .group_by(Household.village_code)
        .subquery("h")
    )
    outcomes = case_queries.outcomes_per_child()
    c = (
        select(Child.village_code,
               func.count().filter(Child.enrollment_status != "not_school_age").label("children"),
               func.count().filter(Child.enrollment_status.in_(OUT_OF_SCHOOL)).label("out_of_school"),
               func.count().filter(outcomes.c.returned.is_(True)).label("returned"))
        .outerjoin(outcomes, outcomes.c.child_id == Child.id)
        .where(scope.children(Child))
        .group_by(Child.village_code)
        .subquery("ch")
    )
    return (
        select(Village.code,
               cast(func.coalesce(h.c.households, 0), Integer).label("households"),
               cast(func.coalesce(h.c.surveyed, 0), Integer).label("surveyed"),
               cast(func.coalesce(c.c.children, 0), Integer).label("children"),
               cast(func.coalesce(c.c.out_of_school, 0), Integer).label("out_of_school"),
               cast(func.coalesce(c.c.returned, 0), Integer).label("returned"))
        .outerjoin(h, h.c.village_code == Village.code)
        .outerjoin(c, c.c.village_code == Village.code)
        .where(scope.villages(Village.code))
    )


def village_choropleth(session: Session, scope: Scope, town: str | None = None, tallies: dict | None = None):
    counts = village_counts(scope, tallies).subquery("c")
    query = (
        select(Village.code, Village.name, Village.town_code, counts.c.households, counts.c.surveyed,
               counts.c.children, counts.c.out_of_school, counts.c.returned,
               func.ST_AsGeoJSON(Village.boundary, 6).label("boundary"),
               func.ST_X(Village.centroid).label("lon"), func.ST_Y(Village.centroid).label("lat"))
        .join(counts, counts.c.code == Village.code)
        .order_by(Village.code)
    )
    if town is not None:
        query = query.where(Village.town_code == town)
    return session.execute(query).all()


def households_outside_village(session: Session, scope: Scope, min_distance_m: float, village: str | None = None):
    """Surveyed points (not import centroids) outside their village's polygon, farthest first."""
    inside = Village.__table__.alias("inside")
    distance = func.ST_Distance(func.geography(Household.location), func.geography(Village.boundary))
    query = (
        select(Household.id, Household.village_code, Village.name.label("village_name"),
               Household.head_name, Household.survey_status,
               func.ST_X(Household.location).label("lon"), func.ST_Y(Household.location).label("lat"),
               cast(distance, Float).label("distance_m"),
               select(inside.c.code).where(func.ST_Contains(inside.c.boundary, Household.location))
               .limit(1).scalar_subquery().label("point_in_village"))
        .join(Village, Village.code == Household.village_code)
        .where(scope.households(Household), Household.location.is_not(None),
               Household.location_approximate.is_(False), Village.boundary.is_not(None),
               ~func.ST_Contains(Village.boundary, Household.location),
               distance >= min_distance_m)
        .order_by(distance.desc())
    )
    if village is not None:
        query = query.where(Household.village_code == village)
    return session.execute(query).all()


def household_in_scope(session: Session, scope: Scope, household_id: uuid.UUID):
    facts = household_facts(scope).where(Household.id == household_id).subquery("f")
    return session.execute(
        select(facts.c.id, facts.c.village_code, facts.c.head_name, facts.c.survey_status, facts.c.priority,
               facts.c.location_approximate, func.ST_X(facts.c.location).label("lon"),
               func.ST_Y(facts.c.location).label("lat"), Household.address, Village.name.label("village_name"))
        .join(Household, Household.id == facts.c.id).join(Village, Village.code == facts.c.village_code)
    ).first()


def _case_of_child():
    """The child's case to open from the map: the open one, else the latest closed one."""
    return (select(Case.id).where(Case.child_id == Child.id)
            .order_by(Case.closed_at.is_not(None), Case.opened_at.desc(), Case.id.desc())
            .limit(1).correlate(Child).scalar_subquery())


def children_of(session: Session, scope: Scope, household_id: uuid.UUID):
    return session.execute(
        select(Child.id, Child.name, Child.gender, Child.birth_date, Child.enrollment_status, Child.school_name,
               Child.grade, Child.disability, Child.left_behind, Child.migrant, Child.dropout_reason,
               Child.id_number_cipher, _case_of_child().label("case_id"))
        .where(Child.household_id == household_id, scope.children(Child)).order_by(Child.birth_date)
    ).all()


def _gps_missing():
    """No surveyed GPS point: no location at all, or the village centre an import put there."""
    return or_(Household.location.is_(None), Household.location_approximate.is_(True))


def households_without_gps(session: Session, scope: Scope, *, village: str | None, offset: int, limit: int):
    """A page of the households in scope with no surveyed point, with their priority: the map
    lists them beside itself instead of stacking them on their village's centre."""
    f = household_facts(scope, village=village, located=False).where(_gps_missing()).subquery("f")
    total = session.scalar(select(func.count()).select_from(f))
    rows = session.execute(
        select(f.c.id, f.c.village_code, Village.name.label("village_name"), Household.group_name,
               Household.household_number, Household.address, f.c.head_name, f.c.survey_status, f.c.priority,
               f.c.children, f.c.out_of_school)
        .join(Household, Household.id == f.c.id).join(Village, Village.code == f.c.village_code)
        .order_by(case({p: i for i, p in enumerate(PRIORITIES)}, value=f.c.priority), f.c.village_code,
                  Household.group_name, Household.household_number, f.c.id)
        .offset(offset).limit(limit)
    ).all()
    return total, rows


def town_borders(session: Session, scope: Scope, tallies: dict | None = None):
    """Per town in scope: its border (the union of its villages' polygons), the centre of its
    villages and its counts (the sums of village_counts_select), plus its households without a
    surveyed point."""
    counts = village_counts(scope, tallies).subquery("c")
    no_gps = (select(Household.village_code, func.count().label("n")).where(scope.households(Household),
                                                                           _gps_missing())
              .group_by(Household.village_code).subquery("g"))
    total = func.coalesce(func.sum(counts.c.households), 0)
    return session.execute(
        select(Town.code, Town.name,
               cast(func.count(), Integer).label("villages"),
               cast(total, Integer).label("households"),
               cast(func.coalesce(func.sum(counts.c.surveyed), 0), Integer).label("surveyed"),
               cast(func.coalesce(func.sum(counts.c.children), 0), Integer).label("children"),
               cast(func.coalesce(func.sum(counts.c.out_of_school), 0), Integer).label("out_of_school"),
               cast(func.coalesce(func.sum(counts.c.returned), 0), Integer).label("returned"),
               cast(func.coalesce(func.sum(no_gps.c.n), 0), Integer).label("without_gps"),
               func.ST_AsGeoJSON(func.ST_Union(Village.boundary), 6).label("boundary"),
               func.ST_X(func.ST_Centroid(func.ST_Collect(Village.centroid))).label("lon"),
               func.ST_Y(func.ST_Centroid(func.ST_Collect(Village.centroid))).label("lat"))
        .select_from(Village)
        .join(counts, counts.c.code == Village.code)
        .join(Town, Town.code == Village.town_code)
        .outerjoin(no_gps, no_gps.c.village_code == Village.code)
        .group_by(Town.code, Town.name)
        .order_by(Town.code)
    ).all()


def _like_escaped(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_children(session: Session, scope: Scope, *, name: str | None = None, lookup: bytes | None = None,
                    limit: int):
    """Children in scope by a part of their name, or exactly by their ID number's lookup hash;
    one row past `limit` tells the caller there were more."""
    query = (
        select(Child.id, Child.household_id, Child.village_code, Village.name.label("village_name"),
               Town.name.label("town_name"), Child.name, Child.gender, Child.birth_date, Child.enrollment_status,
               Child.school_name, Child.grade, Child.id_number_cipher, Household.head_name,
               _case_of_child().label("case_id"),
               case((_gps_missing(), None), else_=func.ST_X(Household.location)).label("lon"),
               case((_gps_missing(), None), else_=func.ST_Y(Household.location)).label("lat"))
        .join(Household, Household.id == Child.household_id)
        .join(Village, Village.code == Child.village_code)
        .join(Town, Town.code == Village.town_code)
        .where(scope.children(Child))
    )
    if lookup is not None:
        query = query.where(Child.id_number_lookup == lookup)
    else:
        pattern = f"%{_like_escaped(name or '')}%"
        # exact names first, then by village and birth date
        query = query.where(Child.name.ilike(pattern, escape="\\")).order_by(Child.name != name)
    return session.execute(query.order_by(Child.village_code, Child.birth_date, Child.id).limit(limit + 1)).all()


# --- visit lists (tasks) ------------------------------------------------------------------------

def team(session: Session, team_id: int):
    from server.accounts.models import Team, team_villages

    row = session.get(Team, team_id)
    if row is None:
        return None, []
    codes = sorted(session.scalars(select(team_villages.c.village_code).where(team_villages.c.team_id == team_id)))
    return row, codes


def visit_candidates(session: Session, scope: Scope, village_codes: list[str]):
    """Households of these villages that need a visit, with the flags that say why."""
    f = household_facts(scope, located=False).where(Household.village_code.in_(village_codes)).subquery("f")
    return session.execute(
        select(f.c.id, f.c.village_code, f.c.head_name, f.c.priority, f.c.out_of_school, f.c.disabled,
               f.c.left_behind, f.c.migrant, f.c.vulnerable, f.c.location_approximate,
               Household.group_name, Household.household_number, Household.address,
               func.ST_X(f.c.location).label("lon"), func.ST_Y(f.c.location).label("lat"))
        .join(Household, Household.id == f.c.id)
        .where(f.c.priority != "none")
        .order_by(f.c.village_code, f.c.id)
    ).all()


def village_centroid(session: Session, code: str):
    return session.execute(select(func.ST_X(Village.centroid), func.ST_Y(Village.centroid))
                           .where(Village.code == code)).first()


def save_tasks(session: Session, team_id: int, tasks: list[dict]) -> None:
    """Upsert the team's open tasks and drop the open ones no longer on the list.

    A done task stays done: the visit happened, and the list does not send the team back
    to the same door because it was regenerated the same afternoon.
    """
    from sqlalchemy.dialects.postgresql import insert

    from server.maps.models import Task

    if tasks:
        statement = insert(Task).values([{**t, "team_id": team_id} for t in tasks])
        statement = statement.on_conflict_do_update(
            index_elements=[Task.team_id, Task.household_id],
            set_={"priority": statement.excluded.priority, "reason": statement.excluded.reason,
                  "route_order": statement.excluded.route_order, "village_code": statement.excluded.village_code},
            where=and_(Task.status == "open", or_(
                Task.priority != statement.excluded.priority, Task.reason != statement.excluded.reason,
                Task.route_order != statement.excluded.route_order,
                Task.village_code != statement.excluded.village_code)),
        )
        session.execute(statement)
    keep = [t["household_id"] for t in tasks]
    session.execute(
        Task.__table__.delete().where(Task.team_id == team_id, Task.status == "open",
                                      ~Task.household_id.in_(keep) if keep else true())
    )


def tasks_of_team(session: Session, team_id: int, status: str | None = None):
    from server.maps.models import Task

    query = (
        select(Task.id, Task.village_code, Task.household_id, Task.team_id, Task.priority, Task.reason,
               Task.route_order, Task.status, Task.version, Task.updated_at, Household.head_name,
               Household.address, Household.group_name, Household.household_number, Household.phone,
               Household.location_approximate, Village.name.label("village_name"),
               func.ST_X(Household.location).label("lon"), func.ST_Y(Household.location).label("lat"))
        .join(Household, Household.id == Task.household_id)
        .join(Village, Village.code == Task.village_code)
        .where(Task.team_id == team_id)
        .order_by(Task.route_order)
    )
    if status is not None:
        query = query.where(Task.status == status)
    return session.execute(query).all()


def teams_of_town(session: Session, town_code: str) -> list[int]:
    from server.accounts.models import Team

    return list(session.scalars(select(Team.id).where(Team.town_code == town_code).order_by(Team.id)))


def teams_in_scope(session: Session, scope: Scope):
    """The teams whose visit lists `scope` reads, with town, leader and their lists' counts."""
    from server.accounts.models import Person, Team
    from server.maps.models import Task
    from server.places.models import Town

    counts = (select(Task.team_id, func.count().filter(Task.status == "open").label("open"),
                     func.count().filter(Task.status == "done").label("done"),
                     func.max(Task.updated_at).label("updated_at"))
              .group_by(Task.team_id).subquery("c"))
    query = (
        select(Team.id, Team.name, Team.town_code, Town.name.label("town_name"), Team.line, Team.leader_id,
               Person.full_name.label("leader_name"), func.coalesce(counts.c.open, 0).label("tasks_open"),
               func.coalesce(counts.c.done, 0).label("tasks_done"), counts.c.updated_at.label("tasks_updated_at"))
        .join(Town, Town.code == Team.town_code)
        .outerjoin(Person, Person.id == Team.leader_id)
        .outerjoin(counts, counts.c.team_id == Team.id)
        .order_by(Team.town_code, Team.name, Team.id)
    )
    if not scope.everywhere:
        readable = sorted(scope.teams | scope.managed_teams)
        if not readable:
            return []
        query = query.where(Team.id.in_(readable))
    return session.execute(query).all()


def villages_of_teams(session: Session, team_ids: list[int]):
    from server.accounts.models import team_villages

    if not team_ids:
        return []
    return session.execute(
        select(team_villages.c.team_id, Village.code, Village.name)
        .join(Village, Village.code == team_villages.c.village_code)
        .where(team_villages.c.team_id.in_(team_ids))
        .order_by(team_villages.c.team_id, Village.code)
    ).all()


def village_names(session: Session, codes: list[str]) -> dict[str, str]:
    return dict(session.execute(select(Village.code, Village.name).where(Village.code.in_(codes))).all())


def lock_team_list(session: Session, team_id: int) -> None:
    """Serialise the builds of one team's list (two deliveries of the same job, two clicks)."""
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext("maps.tasks"), team_id)))


def pending_builds(session: Session, job_name: str, team_id: int):
    """The outbox rows of this team's list builds not finished yet, newest first."""
    from server.jobs.models import OutboxJob

    return session.execute(
        select(OutboxJob.id, OutboxJob.args, OutboxJob.attempts, OutboxJob.created_at)
        .where(OutboxJob.function == job_name, OutboxJob.args[0].as_integer() == team_id)
        .order_by(OutboxJob.id.desc())
    ).all()


def task_counts(session: Session, team_id: int) -> tuple[int, int]:
    from server.maps.models import Task

    row = session.execute(select(func.count().filter(Task.status == "open"), func.count().filter(Task.status == "done"))
                          .where(Task.team_id == team_id)).one()
    return row[0], row[1]
