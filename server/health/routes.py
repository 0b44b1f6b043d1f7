from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask.views import MethodView

from server import db, jobs
from server.health import service
from server.http import Blueprint

blp = Blueprint("health", __name__, description="Is the service up")


class PartSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "up, down or unknown"})
    version = ma.fields.String(allow_none=True)
    detail = ma.fields.String()
    workers = ma.fields.List(ma.fields.Dict())
    queues_without_worker = ma.fields.List(ma.fields.String())


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "up when every part is up, else degraded"})
    database = ma.fields.Nested(PartSchema)
    postgis = ma.fields.Nested(PartSchema)
    redis = ma.fields.Nested(PartSchema)
    worker = ma.fields.Nested(PartSchema)


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """Report the database, PostGIS, Redis and the background worker."""
        queue_names = [q.name for q in (jobs.queue(n) for n in jobs.QUEUES)]
        return service.check(db.session(), jobs.redis_connection(current_app), queue_names,
                             current_app.config["RQ_QUEUE_PREFIX"])
