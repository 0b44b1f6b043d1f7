from __future__ import annotations

import uuid

from flask import current_app, request
from flask.views import MethodView

from server import db, disclosure
from server.audit.reads import personal_read
from server.conflicts import service
from server.conflicts.schemas import (
    ConflictPageSchema,
    ConflictQuerySchema,
    ConflictSchema,
    ResolveSchema,
)
from server.http import Blueprint, current_person, current_scope

blp = Blueprint("conflicts", __name__, description="Sync conflicts for supervisors to review")


def _shown_ids(items) -> list[str]:
    """The records a page shows: each conflict's own, and the household and child of its context."""
    ids = []
    for c in items:
        ids.append(c["record"]["id"])
        for part in ("household", "child"):
            if c["context"][part]:
                ids.append(c["context"][part]["id"])
    return list(dict.fromkeys(ids))


@blp.route("/conflicts")
class Conflicts(MethodView):
    @blp.login_required(*service.REVIEWERS)
    @blp.arguments(ConflictQuerySchema, location="query")
    @blp.response(200, ConflictPageSchema)
    @personal_read("conflict", shown=lambda page: (_shown_ids(page["items"]), len(page["items"])))
    def get(self, args):
        """List conflicts in your villages (open ones by default order: oldest first)."""
        return service.list_conflicts(db.session(), current_scope(), disclosure.viewer_of(current_person()),
                                      current_app.extensions["notoneless.vault"], args.get("status"),
                                      args.get("village"), args["page"], args["page_size"])


@blp.route("/conflicts/<uuid:conflict_id>/resolve")
class Resolve(MethodView):
    @blp.login_required(*service.REVIEWERS)
    @blp.arguments(ResolveSchema)
    @blp.response(200, ConflictSchema)
    def post(self, body, conflict_id: uuid.UUID):
        """Decide a conflict; the value is written as a new version that flows to tablets."""
        return service.resolve(db.session(), current_scope(), current_app.extensions["notoneless.vault"],
                               current_person(), conflict_id, body["value"], body["note"], request.remote_addr)
