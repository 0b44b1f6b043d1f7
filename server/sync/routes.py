from __future__ import annotations

from flask import Response, current_app, g, jsonify
from flask.views import MethodView

from server import db
from server.http import Blueprint, current_device, current_scope
from server.sync import push as pushing
from server.sync import schemas, service

blp = Blueprint("sync", __name__, description="The tablet sync contract (sync-contract.md)")


def _vault():
    return current_app.extensions["notoneless.vault"]


def limits() -> service.Limits:
    return current_app.extensions["notoneless.sync_limits"]


@blp.route("/sync/manifest")
class Manifest(MethodView):
    @blp.device_required()
    @blp.response(200, schemas.ManifestSchema)
    def get(self):
        """Describe this tablet's surveyor, villages, forms and limits."""
        device = current_device()
        return service.manifest(db.session(), device, g.person, current_scope(), limits())


@blp.route("/sync/changes")
class Changes(MethodView):
    @blp.device_required(snapshot=True)
    @blp.arguments(schemas.ChangesQuerySchema, location="query")
    @blp.response(200, schemas.ChangesSchema)
    def get(self, args):
        """Page through the changes of this tablet's scope after a cursor."""
        body = service.changes(db.session(), current_scope().village_codes, args["cursor"],
                               min(args["limit"], limits().max_page_size))
        return Response(service.dumps(body), mimetype="application/json")


@blp.route("/sync/push")
class Push(MethodView):
    @blp.device_required(generic_plans=True)
    @blp.arguments(schemas.PushSchema)
    @blp.response(200, schemas.ReceiptsSchema)
    def post(self, body):
        """Send offline submissions; get one receipt each, in order."""
        device = current_device()
        receipts = pushing.push(db.session(), device, g.person, current_scope(), _vault(), body["submissions"],
                                limits().max_batch_submissions, alone=True)
        return jsonify({"receipts": receipts})


@blp.route("/sync/repair")
class Repair(MethodView):
    @blp.device_required(snapshot=True)
    @blp.arguments(schemas.RepairRequestSchema)
    @blp.response(200, schemas.RepairSchema)
    def post(self, body):
        """Get what makes this tablet's copy equal to the server's."""
        answer = service.repair(db.session(), current_scope().village_codes, body["have"])
        return Response(service.dumps(answer), mimetype="application/json")
