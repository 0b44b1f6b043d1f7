from __future__ import annotations

from flask.views import MethodView

from server import db
from server.http import Blueprint, current_scope
from server.places import schemas, service

blp = Blueprint("places", __name__, description="Towns and villages, with their counts")


@blp.route("/towns")
class Towns(MethodView):
    @blp.login_required()
    @blp.response(200, schemas.TownSchema(many=True))
    def get(self):
        """List the towns you may see, with household and child counts."""
        return service.list_towns(db.session(), current_scope())


@blp.route("/villages")
class Villages(MethodView):
    @blp.login_required()
    @blp.arguments(schemas.VillageQuerySchema, location="query")
    @blp.response(200, schemas.VillageSchema(many=True))
    def get(self, args):
        """List the villages you may see, with household and child counts."""
        return service.list_villages(db.session(), current_scope(), args.get("town"))


@blp.route("/villages/<code>")
class VillageDetail(MethodView):
    @blp.login_required()
    @blp.response(200, schemas.VillageDetailSchema)
    def get(self, code):
        """Show one village with its boundary and counts."""
        return service.get_village(db.session(), current_scope(), code)
