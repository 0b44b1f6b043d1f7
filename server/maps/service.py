"""Use cases of the maps: layers, tiles, the village choropleth, points to review."""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy.orm import Session

from server import disclosure
from server.accounts.scope import Scope
from server.errors import DomainError
from server.maps import queries
from server.people.protection import IdNumberVault, child_subject
from server.tallies import service as tallies

MAX_ZOOM = 22
# The map's household classes (queries.PRIORITIES), most urgent first, for its legend.
PRIORITY_LABELS = {"out_of_school": "疑似失学辍学", "priority_group": "重点群体", "unsurveyed": "未走访",
                   "none": "其他"}

# The personal properties of the layers, and the field of the reader policy each one shows (a
# flag shows whether the field is empty). PostGIS builds the GeoJSON, so a property the policy
# does not show in full is left out of the layer rather than masked there.
HOUSEHOLD_PROPERTIES = {"head_name": ("household", "head_name"),
                        "vulnerable": ("household", "vulnerable_family_types")}
CHILD_PROPERTIES = {"name": ("child", "name"), "gender": ("child", "gender"), "birth_date": ("child", "birth_date")}


def _hidden(viewer: str, properties: dict) -> frozenset:
    return frozenset(name for name, (record_type, field) in properties.items()
                     if disclosure.level(viewer, record_type, field) != disclosure.FULL)


def households_layer(session: Session, scope: Scope, viewer: str, args: dict) -> tuple[str, list]:
    """The GeoJSON of the households in scope, and their ids; the collection carries `limit`
    and `truncated` (more households matched than it holds)."""
    text, ids, _truncated = queries.households_geojson(
        session, scope, village=args.get("village"), survey_status=args.get("status"),
        priority=args.get("priority"), bbox=args.get("bbox"), approximate=args.get("approximate"),
        limit=args["limit"], hidden=_hidden(viewer, HOUSEHOLD_PROPERTIES))
    return text, ids


def children_layer(session: Session, scope: Scope, viewer: str, args: dict) -> tuple[str, list]:
    """The GeoJSON of the children in scope, and their ids."""
    return queries.children_geojson(session, scope, village=args.get("village"), status=args.get("status"),
                                    priority=args.get("priority"), bbox=args.get("bbox"), limit=args["limit"],
                                    hidden=_hidden(viewer, CHILD_PROPERTIES))


def tile(session: Session, scope: Scope, layer: str, z: int, x: int, y: int) -> tuple[bytes, str]:
    """The tile's bytes and its ETag (a hash of the bytes: the same scope and data, the same tag)."""
    if layer not in queries.TILE_LAYERS:
        raise DomainError("maps.unknown_layer")
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise DomainError("maps.invalid_tile")
    data = queries.tile(session, scope, layer, z, x, y, _tallies(session, scope) if layer == "villages" else None)
    return data, hashlib.sha256(data).hexdigest()[:32]


# Below this many villages the map counts its scope live: a town's 20 villages are counted from
# their rows in about the time the tallies take to be read and checked (the change log, the
# cases), while the city's 230 cost ten times that (server/tallies).
KEPT_FROM_VILLAGES = 40


def _tallies(session: Session, scope: Scope) -> dict | None:
    """The kept village tallies for a wide scope of whole villages; None (count live) otherwise."""
    if scope.students_only or (not scope.everywhere and len(scope.village_codes) < KEPT_FROM_VILLAGES):
        return None
    return tallies.map_tallies(session, None if scope.everywhere else sorted(scope.village_codes))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def choropleth(session: Session, scope: Scope, town: str | None) -> dict:
    """Villages as a FeatureCollection with counts and rates, for the choropleth and progress."""
    features = []
    for row in queries.village_choropleth(session, scope, town, _tallies(session, scope)):
        ever_out = row.out_of_school + row.returned
        features.append({
            "type": "Feature", "id": row.code,
            "geometry": json.loads(row.boundary) if row.boundary else None,
            "properties": {
                "code": row.code, "name": row.name, "town_code": row.town_code,
                "lon": row.lon, "lat": row.lat,
                "households": row.households, "surveyed": row.surveyed,
                "surveyed_share": _rate(row.surveyed, row.households),
                "children": row.children, "out_of_school": row.out_of_school,
                "out_of_school_rate": _rate(row.out_of_school, row.children),
                "returned": row.returned, "returned_share": _rate(row.returned, ever_out),
            },
        })
    return {"type": "FeatureCollection", "features": features}


def outside_village(session: Session, scope: Scope, viewer: str, min_distance_m: float,
                    village: str | None) -> list[dict]:
    """Households whose surveyed point lies outside their village's polygon, for review."""
    return [
        disclosure.show(viewer, "household", {**row._asdict(), "id": str(row.id), "distance_m": round(row.distance_m, 1)})
        for row in queries.households_outside_village(session, scope, min_distance_m, village)
    ]


def household(session: Session, scope: Scope, vault: IdNumberVault, viewer: str, household_id: uuid.UUID) -> dict:
    """One household of the map with its children, as the viewer may see them (ID numbers masked)."""
    row = queries.household_in_scope(session, scope, household_id)
    if row is None:
        raise DomainError("request.not_found")
    children = []
    for c in queries.children_of(session, scope, household_id):
        child = c._asdict()
        if scope.students_only:
            # A school confirms attendance: why a child left school is the teams' and the
            # towns' to read, as in the child's own record's lists.
            child.pop("dropout_reason")
        children.append(_shown_child(vault, viewer, child))
    return {**disclosure.show(viewer, "household", row._asdict()), "children": children}


def _shown_child(vault: IdNumberVault, viewer: str, child: dict) -> dict:
    cipher = child.pop("id_number_cipher")
    child["id_number"] = vault.decrypt(cipher, child_subject(child["id"])) if cipher is not None else None
    return disclosure.show(viewer, "child", child)


def households_without_gps(session: Session, scope: Scope, viewer: str, args: dict) -> dict:
    """A page of the households that have no surveyed GPS point, most urgent first."""
    page, page_size = args["page"], args["page_size"]
    total, rows = queries.households_without_gps(session, scope, village=args.get("village"),
                                                 offset=(page - 1) * page_size, limit=page_size)
    items = [disclosure.show(viewer, "household", {**row._asdict(), "id": str(row.id)}) for row in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def town_borders(session: Session, scope: Scope) -> dict:
    """Towns as a FeatureCollection: each border (its villages' union) with the town's counts,
    the aggregates of the city's map at low zoom."""
    features = []
    for row in queries.town_borders(session, scope, _tallies(session, scope)):
        props = {k: v for k, v in row._asdict().items() if k != "boundary"}
        props["surveyed_share"] = _rate(row.surveyed, row.households)
        props["out_of_school_rate"] = _rate(row.out_of_school, row.children)
        features.append({"type": "Feature", "id": row.code,
                         "geometry": json.loads(row.boundary) if row.boundary else None, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def search_children(session: Session, scope: Scope, vault: IdNumberVault, viewer: str, args: dict) -> dict:
    """Children in scope by name (a part of it) or by a full ID number (exactly, through the
    lookup hash); each with its household and its case, the ID number as the viewer sees it in
    lists (masked)."""
    limit = args["limit"]
    if "id_number_lookup" in args:
        rows = queries.search_children(session, scope, lookup=bytes.fromhex(args["id_number_lookup"]), limit=limit)
    else:
        rows = queries.search_children(session, scope, name=args["name"], limit=limit)
    items = []
    for row in rows[:limit]:
        child = {**row._asdict(), "id": str(row.id), "household_id": str(row.household_id)}
        head = child.pop("head_name")
        shown = _shown_child(vault, viewer, child)
        shown["head_name"] = disclosure.show(viewer, "household", {"head_name": head}).get("head_name")
        items.append(shown)
    return {"items": items, "by": "id_number" if "id_number_lookup" in args else "name",
            "truncated": len(rows) > limit}


def map_config(config) -> dict:
    """The county's basemap: 天地图 with its key, a local tile server, or none (polygons and
    points on a plain background, no request leaves the server)."""
    import os

    def setting(name: str) -> str:
        return config.get(name) or os.environ.get(name, "")

    return {"basemap_url": setting("BASEMAP_URL"), "basemap_attribution": setting("BASEMAP_ATTRIBUTION"),
            # a GCJ-02 basemap (高德, 腾讯) needs points shifted for display; WGS84 stays stored
            "gcj02": setting("BASEMAP_GCJ02").lower() in ("1", "true", "yes")}
