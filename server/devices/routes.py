from __future__ import annotations

import datetime as dt
import io
import uuid

import segno
from flask import Response, request, url_for
from flask.views import MethodView
from sqlalchemy import select

from server import db
from server.accounts import throttle
from server.accounts.models import Person, team_members, team_villages
from server.devices import schemas, service
from server.devices.models import Device, EnrollmentCode
from server.errors import DomainError, not_found
from server.http import Blueprint, ErrorSchema, current_person, current_scope

blp = Blueprint("devices", __name__, description="Tablets: enrollment codes, enrollment, revocation")
ISSUERS = ("city", "town_supervisor", "team_leader")


@blp.route("/devices/enroll")
class Enroll(MethodView):
    @blp.arguments(schemas.EnrollSchema)
    @blp.response(200, schemas.EnrolledSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="devices.invalid_enrollment_code")
    @blp.alt_response(429, schema=ErrorSchema, description="auth.rate_limited: too many wrong codes from this "
                      "address; Retry-After says when to try again")
    def post(self, body):
        """Trade a one-time enrollment code for a device id and token."""
        throttle.check("enroll")
        try:
            device, token = service.enroll(db.session(), body["enrollment_code"], body["device_name"], body["platform"])
        except DomainError as refusal:
            if refusal.code == "devices.invalid_enrollment_code":
                throttle.failed("enroll")  # codes cannot be guessed at the speed of the network
            raise
        return {"device_id": str(device.id), "token": token}


@blp.route("/devices/enrollment-codes")
class EnrollmentCodes(MethodView):
    @blp.login_required(*ISSUERS)
    @blp.arguments(schemas.NewCodeSchema)
    @blp.response(201, schemas.CodeSchema)
    def post(self, body):
        """Issue a one-time, expiring enrollment code for a surveyor in your area."""
        code, row = service.issue_code(db.session(), current_person(), current_scope(), body["surveyor_id"],
                                       dt.timedelta(hours=body["expires_in_hours"]))
        return {"id": row.id, "enrollment_code": code, "expires_at": row.expires_at, "surveyor_id": row.person_id,
                "qr_png_url": url_for("devices.EnrollmentCodeQr", code_id=row.id, code=code)}


@blp.route("/devices/enrollment-codes/<int:code_id>/qr.png")
class EnrollmentCodeQr(MethodView):
    @blp.login_required(*ISSUERS)
    @blp.arguments(schemas.QrQuerySchema, location="query")
    @blp.response(200, content_type="image/png", description="a QR code of the server address and the code")
    def get(self, args, code_id):
        """Show an enrollment code as a QR code for the tablet to scan."""
        row = db.session().get(EnrollmentCode, code_id)
        if row is None or row.issued_by != current_person().id or not service.code_matches(row, args["code"]):
            raise not_found("enrollment code")
        payload = f'{{"server":"{request.host_url.rstrip("/")}/api/v1","enrollment_code":"{args["code"]}"}}'
        out = io.BytesIO()
        segno.make(payload, error="m").save(out, kind="png", scale=6)
        return Response(out.getvalue(), mimetype="image/png", headers={"Cache-Control": "no-store"})


@blp.route("/devices")
class Devices(MethodView):
    @blp.login_required(*ISSUERS)
    @blp.response(200, schemas.DeviceSchema(many=True))
    def get(self):
        """List the tablets of surveyors in your area."""
        return [
            {"device_id": str(d.id), "device_name": d.name, "platform": d.platform, "surveyor_id": p.id,
             "surveyor": p.full_name, "enrolled_at": d.enrolled_at, "last_seen_at": d.last_seen_at,
             "revoked_at": d.revoked_at}
            for d, p in service.devices_in_scope(db.session(), current_scope())
        ]


@blp.route("/devices/<uuid:device_id>/revoke")
class Revoke(MethodView):
    @blp.login_required(*ISSUERS)
    @blp.response(204)
    def post(self, device_id: uuid.UUID):
        """Revoke a tablet: its token stops working at once (a lost or stolen tablet)."""
        session = db.session()
        device = session.get(Device, device_id)
        owner = session.get(Person, device.person_id) if device else None
        scope = current_scope()
        if owner is None or not service.in_area(session, scope, owner):
            raise not_found("device")
        service.revoke(session, device_id, current_person())


@blp.route("/devices/surveyors")
class Surveyors(MethodView):
    @blp.login_required(*ISSUERS)
    @blp.arguments(schemas.SurveyorQuerySchema, location="query")
    @blp.response(200, schemas.SurveyorSchema(many=True))
    def get(self, args):
        """List the surveyors and team leaders of the teams you manage (or of one village)."""
        session, scope = db.session(), current_scope()
        query = (select(Person, team_villages.c.village_code)
                 .join(team_members, team_members.c.person_id == Person.id)
                 .join(team_villages, team_villages.c.team_id == team_members.c.team_id)
                 .where(Person.role.in_(service.SURVEYING_ROLES), Person.active.is_(True),
                        scope.managed(team_members.c.team_id)))
        if args.get("village"):
            query = query.where(team_villages.c.village_code == args["village"])
        people: dict[int, dict] = {}
        for person, village in session.execute(query.order_by(Person.id)):
            entry = people.setdefault(person.id, {"id": person.id, "username": person.username,
                                                  "full_name": person.full_name, "role": person.role,
                                                  "line": person.line, "village_codes": []})
            entry["village_codes"].append(village)
        return list(people.values())
