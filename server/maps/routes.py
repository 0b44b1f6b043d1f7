from __future__ import annotations

import uuid

from flask import Response, current_app, request
from flask.views import MethodView

from server import db, disclosure
from server.audit.reads import current as current_read
from server.audit.reads import items, personal_read
from server.http import Blueprint, current_person, current_scope
from server.maps import schemas, service, tasks

blp = Blueprint("maps", __name__, description="Map layers, vector tiles and the village choropleth")

GEOJSON = "application/geo+json"


def _viewer() -> str:
    return disclosure.viewer_of(current_person())


def _geojson(text: str) -> Response:
    response = Response(text, mimetype=GEOJSON)
    # Layers depend on who asks (scope): never shared by caches between people.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.route("/maps/households")
class HouseholdLayer(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.HouseholdLayerArgsSchema, location="query")
    @blp.alt_response(200, description="GeoJSON FeatureCollection of households", content_type=GEOJSON,
                      success=True)
    @personal_read("household")
    def get(self, args):
        """Map the households you may see, by survey status, priority group, village and bbox."""
        text, ids = service.households_layer(db.read_session(), current_scope(), _viewer(), args)
        current_read().showed(ids)
        return _geojson(text)


@blp.route("/maps/children")
class ChildLayer(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.ChildLayerArgsSchema, location="query")
    @blp.alt_response(200, description="GeoJSON FeatureCollection of children", content_type=GEOJSON,
                      success=True)
    @personal_read("child")
    def get(self, args):
        """Map the children you may see at their household's point, by status and priority group."""
        text, ids = service.children_layer(db.read_session(), current_scope(), _viewer(), args)
        current_read().showed(ids)
        return _geojson(text)


@blp.route("/maps/villages")
class VillageChoropleth(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.ChoroplethArgsSchema, location="query")
    @blp.alt_response(200, description="GeoJSON FeatureCollection of villages with counts and rates",
                      content_type=GEOJSON, success=True)
    def get(self, args):
        """Count households surveyed and children out of school or returned, per village."""
        import json

        return _geojson(json.dumps(service.choropleth(db.read_session(), current_scope(), args.get("town")),
                                   ensure_ascii=False))


@blp.route("/maps/households/outside")
class OutsideVillage(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.OutsideArgsSchema, location="query")
    @blp.response(200, schemas.OutsideHouseholdSchema(many=True))
    @personal_read("household", shown=items())
    def get(self, args):
        """List surveyed points outside their village's polygon (farthest first), for review."""
        return service.outside_village(db.read_session(), current_scope(), _viewer(), args["min_distance_m"],
                                       args.get("village"))


@blp.route("/maps/households/without-gps")
class WithoutGps(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.WithoutGpsArgsSchema, location="query")
    @blp.response(200, schemas.WithoutGpsPageSchema)
    @personal_read("household", shown=items())
    def get(self, args):
        """List the households with no surveyed GPS point (most urgent first), to show beside the map."""
        return service.households_without_gps(db.read_session(), current_scope(), _viewer(), args)


@blp.route("/maps/towns")
class TownBorders(MethodView):
    @blp.login_required()
    @blp.alt_response(200, description="GeoJSON FeatureCollection of town borders with their counts",
                      content_type=GEOJSON, success=True)
    def get(self):
        """Draw the towns' borders (their villages' union) with counts, the city's low-zoom aggregates."""
        import json

        return _geojson(json.dumps(service.town_borders(db.read_session(), current_scope()), ensure_ascii=False))


@blp.route("/maps/search")
class MapSearch(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.SearchSchema)
    @blp.response(200, schemas.SearchResultSchema)
    @personal_read("child", shown=items())
    def post(self, args):
        """Find a child by name or by a full ID number (exact, by its lookup hash), with household and case.

        A POST: the number travels in the body, never in a URL that access logs keep."""
        return service.search_children(db.read_session(), current_scope(), current_app.extensions["notoneless.vault"],
                                       _viewer(), args)


@blp.route("/maps/config")
class MapConfig(MethodView):
    @blp.login_required()
    @blp.response(200, schemas.MapConfigSchema)
    def get(self):
        """The county's basemap settings (none configured: the map draws on a plain background)."""
        return service.map_config(current_app.config)


@blp.route("/maps/households/<uuid:household_id>")
class MapHousehold(MethodView):
    @blp.login_required()
    @blp.response(200, schemas.MapHouseholdSchema)
    @personal_read("household", shown=lambda h: ([h["id"], *(c["id"] for c in h["children"])], 1 + len(h["children"])),
                   subject="household_id")
    def get(self, household_id: uuid.UUID):
        """Show a household of the map with its children (ID numbers masked)."""
        return service.household(db.read_session(), current_scope(), current_app.extensions["notoneless.vault"],
                                 _viewer(), household_id)


@blp.route("/tiles/<layer>/<int:z>/<int:x>/<int:y>.mvt")
class Tile(MethodView):
    @blp.login_required()
    @blp.alt_response(200, description="A Mapbox Vector Tile", content_type="application/vnd.mapbox-vector-tile",
                      success=True)
    @blp.alt_response(304, description="Not modified (If-None-Match)", success=True)
    def get(self, layer: str, z: int, x: int, y: int):
        """Get a vector tile (households, children, villages); below zoom 13 only aggregates."""
        data, etag = service.tile(db.read_session(), current_scope(), layer, z, x, y)
        if etag in request.if_none_match:
            response = Response(status=304)
        else:
            response = Response(data, mimetype="application/vnd.mapbox-vector-tile")
        response.set_etag(etag)
        # Scoped data: private caches only, revalidated with the ETag after a minute.
        response.headers["Cache-Control"] = "private, max-age=60, must-revalidate"
        response.headers["Vary"] = "Authorization"
        return response


TASK_MANAGERS = ("city", "town_supervisor", "team_leader")


@blp.route("/teams/<int:team_id>/tasks")
class TeamTasks(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.TaskQuerySchema, location="query")
    @blp.response(200, schemas.TaskSchema(many=True))
    @personal_read("team", shown=items("household_id"), subject="team_id")
    def get(self, args, team_id: int):
        """List a team's visit list in walking order."""
        viewer = _viewer()
        return [disclosure.show(viewer, "household", {**row._asdict(),
                                                      "place": tasks.group_number(*tasks.door(
                                                          row.group_name, row.household_number, row.address))})
                for row in tasks.list_tasks(db.session(), current_scope(), team_id, args.get("status"))]


@blp.route("/teams/<int:team_id>/tasks/generate")
class GenerateTasks(MethodView):
    @blp.login_required(*TASK_MANAGERS)
    @blp.arguments(schemas.GenerateTasksSchema)
    @blp.response(200, schemas.TaskSchema(many=True))
    def post(self, body, team_id: int):
        """Rebuild a team's visit list: out of school first, then priority groups, then unsurveyed."""
        return tasks.generate(db.session(), current_scope(), team_id, body.get("start"))


@blp.route("/towns/<code>/tasks/generate")
class GenerateTownTasks(MethodView):
    @blp.login_required("city", "town_supervisor")
    @blp.response(202, schemas.TownTasksQueuedSchema)
    def post(self, code: str):
        """Queue the rebuild of every team's visit list in a town (job on the "maps" queue)."""
        return tasks.enqueue_town(db.session(), current_scope(), code)


@blp.route("/teams/<int:team_id>/tasks.<any(gpx, kml):fmt>")
class ExportTasks(MethodView):
    # An export of heads' names and doors: for those who manage visit lists. A surveyor's
    # tablet gets its list by sync; a school's town scope is not a team's.
    @blp.login_required(*TASK_MANAGERS)
    @blp.alt_response(200, description="GPX 1.1 or KML 2.2 of the open tasks in route order", success=True,
                      content_type="application/xml")
    def get(self, team_id: int, fmt: str):
        """Export a team's open visit list as GPX or KML for a phone's map app."""
        body, mimetype = tasks.export(db.session(), current_scope(), current_person(), team_id, fmt,
                                      request.remote_addr)
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="team-{team_id}-tasks.{fmt}"'
        return response


@blp.route("/visit-lists")
class VisitLists(MethodView):
    @blp.login_required(*TASK_MANAGERS, "surveyor")
    @blp.response(200, schemas.VisitListTeamSchema(many=True))
    def get(self):
        """List the teams whose visit lists you read, with their villages and their lists' counts."""
        return tasks.visit_lists(db.session(), current_scope())


@blp.route("/teams/<int:team_id>/tasks/build")
class BuildTasks(MethodView):
    @blp.login_required(*TASK_MANAGERS)
    @blp.response(200, schemas.TaskBuildSchema)
    def get(self, team_id: int):
        """Show how far the background build of a team's visit list has got (poll this)."""
        return tasks.build_status(db.session(), current_scope(), current_app._get_current_object(), team_id)

    @blp.login_required(*TASK_MANAGERS)
    @blp.response(202, schemas.TaskBuildSchema)
    def post(self, team_id: int):
        """Build a team's visit list in the background (job on the "maps" queue, queued after commit)."""
        return tasks.enqueue_build(db.session(), current_scope(), current_app._get_current_object(), team_id)


@blp.route("/teams/<int:team_id>/tasks.<any(pdf, xlsx):fmt>")
class PrintTasks(MethodView):
    @blp.login_required(*TASK_MANAGERS)
    @blp.alt_response(200, description="The open visit list in route order as a PDF (A4 landscape) or XLSX",
                      success=True, content_type="application/pdf")
    def get(self, team_id: int, fmt: str):
        """Print a team's open visit list: 组/号, address, head of household, phone, reason."""
        body, mimetype = tasks.export(db.session(), current_scope(), current_person(), team_id, fmt,
                                      request.remote_addr)
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="team-{team_id}-visits.{fmt}"'
        return response
