from __future__ import annotations

import base64
import datetime as dt
import io
import json
import uuid

import segno
from flask import current_app, request
from flask.views import MethodView

from server import db
from server.accounts import throttle
from server.accounts.models import Person
from server.devices import queries, schemas, service
from server.devices.models import Device
from server.errors import DomainError, not_found
from server.http import (
    Blueprint,
    ErrorSchema,
    bearer_token,
    current_device,
    current_person,
    current_scope,
)

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
            device, token = service.enroll(db.session(), body["enrollment_code"], body["device_name"], body["platform"],
                                           _token_lifetime())
        except DomainError as refusal:
            if refusal.code == "devices.invalid_enrollment_code":
                throttle.failed("enroll")  # codes cannot be guessed at the speed of the network
            raise
        return {"device_id": str(device.id), "token": token, "expires_at": device.token_expires_at}


def _token_lifetime() -> dt.timedelta:
    return dt.timedelta(days=current_app.config["DEVICE_TOKEN_DAYS"])


@blp.route("/devices/token")
class RenewToken(MethodView):
    @blp.device_required()
    @blp.response(200, schemas.EnrolledSchema)
    def post(self):
        """Renew this tablet's token before it expires; the old one works a short while more."""
        device = current_device()
        grace = dt.timedelta(minutes=current_app.config["DEVICE_TOKEN_GRACE_MINUTES"])
        token = service.renew_token(db.session(), device, bearer_token(), _token_lifetime(), grace)
        return {"device_id": str(device.id), "token": token, "expires_at": device.token_expires_at}


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
                "qr_png_base64": _qr_png(code)}


def _qr_png(code: str) -> str:
    """The QR code a tablet scans: the server's address and the code, as a base64 PNG. It is
    made with the code, never fetched by a URL that carries it (access logs keep URLs)."""
    payload = json.dumps({"server": f'{request.host_url.rstrip("/")}/api/v1', "enrollment_code": code},
                         separators=(",", ":"))
    out = io.BytesIO()
    segno.make(payload, error="m").save(out, kind="png", scale=6)
    return base64.b64encode(out.getvalue()).decode()


def _collect_lifetime() -> dt.timedelta:
    return dt.timedelta(days=current_app.config["COLLECT_TOKEN_DAYS"])


def _collect_settings(device: Device, token: str, surveyor: Person) -> dict:
    """The device's server URL and ODK Collect's settings QR, made here and shown once."""
    from server.openrosa.routes import server_url
    from server.openrosa.service import collect_qr

    url = server_url(token)
    settings, png = collect_qr(url, surveyor.full_name)
    return {"device_id": str(device.id), "server_url": url, "settings": settings,
            "qr_png_base64": base64.b64encode(png).decode(), "expires_at": device.token_expires_at}


@blp.route("/devices/collect")
class CollectDevices(MethodView):
    @blp.login_required(*ISSUERS)
    @blp.arguments(schemas.NewCollectDeviceSchema)
    @blp.response(201, schemas.CollectSettingsSchema)
    def post(self, body):
        """Enroll an ODK Collect (or KoboCollect) tablet for a surveyor in your area: its OpenRosa
        URL and the settings QR that Collect's "scan QR code" imports."""
        session = db.session()
        device, token = service.enroll_collect(session, current_person(), current_scope(), body["surveyor_id"],
                                               body["device_name"], _collect_lifetime())
        return _collect_settings(device, token, session.get(Person, device.person_id))


@blp.route("/devices/<uuid:device_id>/collect-settings")
class CollectSettings(MethodView):
    @blp.login_required(*ISSUERS)
    @blp.response(200, schemas.CollectSettingsSchema)
    def post(self, device_id: uuid.UUID):
        """Re-issue a Collect tablet's URL and QR (a new token; the old URL stops working)."""
        session = db.session()
        device = session.get(Device, device_id)
        owner = session.get(Person, device.person_id) if device else None
        if owner is None or device.revoked_at is not None or device.platform != service.COLLECT_PLATFORM \
                or not service.in_area(session, current_scope(), owner):
            raise not_found("device")
        token = service.reissue_collect(session, device, _collect_lifetime())
        return _collect_settings(device, token, owner)


@blp.route("/devices")
class Devices(MethodView):
    @blp.login_required(*ISSUERS)
    @blp.response(200, schemas.DeviceSchema(many=True))
    def get(self):
        """List the tablets of surveyors in your area."""
        session = db.session()
        rows = service.devices_in_scope(session, current_scope())
        teams = queries.team_names_of(session, [p.id for _d, p in rows])
        now = db.now(session)
        return [
            {"device_id": str(d.id), "device_name": d.name, "platform": d.platform, "surveyor_id": p.id,
             "surveyor": p.full_name, "surveyor_username": p.username, "teams": teams.get(p.id, []),
             "enrolled_at": d.enrolled_at, "last_seen_at": d.last_seen_at, "revoked_at": d.revoked_at,
             "token_expires_at": d.token_expires_at, "status": service.device_status(d, p, now)}
            for d, p in rows
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
        people: dict[int, dict] = {}
        for person, village in queries.surveyors_of_managed_teams(session, scope, service.SURVEYING_ROLES,
                                                                   args.get("village")):
            entry = people.setdefault(person.id, {"id": person.id, "username": person.username,
                                                  "full_name": person.full_name, "role": person.role,
                                                  "line": person.line, "village_codes": []})
            entry["village_codes"].append(village)
        return list(people.values())
