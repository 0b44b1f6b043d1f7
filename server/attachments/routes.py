from __future__ import annotations

from flask import Response, current_app, request, send_file
from flask.views import MethodView

from server import db
from server.attachments import service
from server.audit import service as audit
from server.errors import not_found
from server.http import Blueprint, current_actor, current_person, current_scope

blp = Blueprint("attachments", __name__, description="Photos of certificates and visits, by SHA-256")


@blp.route("/attachments/<sha256>")
class AttachmentView(MethodView):
    @blp.device_or_login_required()
    @blp.response(201, description="stored (200 when it was already there)")
    def put(self, sha256):
        """Upload a file; its address is the SHA-256 of its bytes (idempotent)."""
        actor = current_actor()
        device_id = getattr(actor, "token_hash", None) and actor.id
        new = service.store(db.session(), current_app.config["ATTACHMENTS_DIR"], sha256, request.get_data(),
                            request.mimetype or None, device_id, current_app.config["ATTACHMENT_MAX_BYTES"])
        return Response(status=201 if new else 200)

    @blp.device_or_login_required()
    @blp.response(200, description="the server has this file")
    def head(self, sha256):
        """Ask whether the server has a file."""
        row = service.find(db.session(), sha256)
        if row is None:
            raise not_found("attachment")
        return Response(status=200, headers={"Content-Length": str(row.size)})

    @blp.login_required("city", "town_supervisor", "team_leader")
    @blp.response(200, content_type="application/octet-stream", description="the file")
    def get(self, sha256):
        """Download a file (supervisors); the read is written to the audit trail."""
        row = service.find(db.session(), sha256)
        # Only a file that a record of your villages refers to (answered like an unknown one).
        if row is None or not service.referred_to_in(db.session(), current_scope(), row.sha256):
            raise not_found("attachment")
        audit.record(db.session(), current_person().id, "read_attachment", "attachment", row.sha256,
                     remote_addr=request.remote_addr)
        path = service.path_of(current_app.config["ATTACHMENTS_DIR"], row.sha256)
        return send_file(path.resolve(), mimetype=row.content_type or "application/octet-stream", max_age=0)
