from __future__ import annotations

from flask import Response, current_app, g, request, send_file
from flask.views import MethodView

from server import db
from server.attachments import service
from server.audit import service as audit
from server.errors import DomainError, not_found
from server.http import Blueprint, ErrorSchema, current_actor, current_person, current_scope

UPLOADERS = ("city", "town_supervisor", "team_leader")
blp = Blueprint("attachments", __name__, description="Photos of certificates and visits, by SHA-256")


@blp.route("/attachments/<sha256>")
class AttachmentView(MethodView):
    @blp.device_or_login_required()
    @blp.response(201, description="stored (200 when it was already there)")
    @blp.alt_response(403, schema=ErrorSchema, description="auth.forbidden: only tablets and staff upload")
    @blp.alt_response(415, schema=ErrorSchema, description="attachment.unsupported_type: JPEG, PNG, WebP, HEIC "
                      "or PDF, judged by the bytes")
    def put(self, sha256):
        """Upload a photo or PDF; its address is the SHA-256 of its bytes (idempotent)."""
        actor = current_actor()
        device_id = getattr(actor, "token_hash", None) and actor.id
        person = g.person
        # Tablets, and staff attaching a certificate to a case; a surveyor's or a school's
        # password login has no file to give.
        if device_id is None and person.role not in UPLOADERS:
            raise DomainError("auth.forbidden")
        new = service.store(db.session(), current_app.config["ATTACHMENTS_DIR"], sha256, request.get_data(),
                            person.id, device_id, current_app.config["ATTACHMENT_MAX_BYTES"])
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
        # A download, never shown inline, never sniffed into another type.
        response = send_file(path.resolve(), mimetype=service.download_type(row), as_attachment=True,
                             download_name=f"{row.sha256}.{service.TYPES.get(row.content_type, 'bin')}", max_age=0)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
