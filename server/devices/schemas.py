from __future__ import annotations

import marshmallow as ma

from server.db import INT4_MAX


class EnrollSchema(ma.Schema):
    enrollment_code = ma.fields.String(required=True, validate=ma.validate.Length(4, 64))
    device_name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    platform = ma.fields.String(load_default=None, validate=ma.validate.Length(max=50))


class EnrolledSchema(ma.Schema):
    device_id = ma.fields.String()
    token = ma.fields.String(metadata={"description": "send as Authorization: Bearer <token> on every call"})
    expires_at = ma.fields.DateTime(metadata={"description": "when the token stops working unless renewed "
                                                             "(POST /devices/token)"})


class NewCodeSchema(ma.Schema):
    surveyor_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=INT4_MAX))
    expires_in_hours = ma.fields.Integer(load_default=24, validate=ma.validate.Range(1, 24 * 14))


class CodeSchema(ma.Schema):
    id = ma.fields.Integer()
    enrollment_code = ma.fields.String(metadata={"description": "shown once: only its hash is kept"})
    expires_at = ma.fields.DateTime()
    surveyor_id = ma.fields.Integer()
    qr_png_base64 = ma.fields.String(metadata={
        "description": "the QR code of the server address and the code, a base64 PNG; shown once, with the code "
                       "(a code in a URL would land in access logs)"})


class DeviceSchema(ma.Schema):
    device_id = ma.fields.String()
    device_name = ma.fields.String()
    platform = ma.fields.String(allow_none=True)
    surveyor_id = ma.fields.Integer()
    surveyor = ma.fields.String()
    surveyor_username = ma.fields.String()
    teams = ma.fields.List(ma.fields.String(), metadata={"description": "the names of the surveyor's teams"})
    enrolled_at = ma.fields.DateTime()
    last_seen_at = ma.fields.DateTime(allow_none=True, metadata={"description": "the tablet's last request (sync)"})
    revoked_at = ma.fields.DateTime(allow_none=True)
    token_expires_at = ma.fields.DateTime()
    status = ma.fields.String(metadata={"description": "active, revoked, expired (the token) or surveyor_inactive"})


class SurveyorQuerySchema(ma.Schema):
    village = ma.fields.String(validate=ma.validate.Regexp(r"^\d{12}$"))


class SurveyorSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    full_name = ma.fields.String()
    role = ma.fields.String()
    line = ma.fields.String(allow_none=True)
    village_codes = ma.fields.List(ma.fields.String())


class NewCollectDeviceSchema(ma.Schema):
    surveyor_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=INT4_MAX))
    device_name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))


class CollectSettingsSchema(ma.Schema):
    device_id = ma.fields.String()
    server_url = ma.fields.String(metadata={
        "description": "the device's OpenRosa root (its token is in the path): ODK Collect's server URL, "
                       "no username or password; shown once"})
    settings = ma.fields.String(metadata={
        "description": "ODK Collect's settings (zlib-deflated JSON, base64), as its 'scan QR code' reads them"})
    qr_png_base64 = ma.fields.String(metadata={"description": "the settings as a QR code (base64 PNG)"})
    expires_at = ma.fields.DateTime(metadata={"description": "when the URL stops working unless re-issued"})
