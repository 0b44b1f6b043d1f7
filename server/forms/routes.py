from __future__ import annotations

import marshmallow as ma
from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest.fields import Upload

from server import db
from server.campaigns import queries as campaign_queries
from server.errors import DomainError, FieldError, not_found
from server.forms import queries, service
from server.http import Blueprint, current_person

blp = Blueprint("forms", __name__, description="Survey forms: versions, XForms, publishing")


class FormVersionSchema(ma.Schema):
    form_id = ma.fields.String()
    version = ma.fields.String()
    title = ma.fields.String()
    record_type = ma.fields.String()
    sha256 = ma.fields.String()
    published_at = ma.fields.DateTime()
    retired_at = ma.fields.DateTime(allow_none=True)
    in_use = ma.fields.Boolean(metadata={"description": "the newest live version the campaign's tablets get"})


class UploadSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "an XLSForm workbook (.xlsx)"})


class CampaignFormsSchema(ma.Schema):
    form_ids = ma.fields.List(ma.fields.String(), required=True)


def _describe(row, in_use: set) -> dict:
    return {"form_id": row.form_id, "version": row.version, "title": row.title, "record_type": row.record_type,
            "sha256": row.sha256, "published_at": row.published_at, "retired_at": row.retired_at,
            "in_use": (row.form_id, row.version) in in_use}


@blp.route("/forms")
class Forms(MethodView):
    @blp.device_or_login_required()
    @blp.response(200, FormVersionSchema(many=True))
    def get(self):
        """List every published form version."""
        session = db.session()
        in_use = {(f.form_id, f.version) for f in service.forms_in_use(session)}
        return [_describe(r, in_use) for r in queries.all_versions(session)]

    @blp.login_required("city")
    @blp.arguments(UploadSchema, location="files")
    @blp.response(201, FormVersionSchema)
    def post(self, files):
        """Publish a form version from an XLSForm (errors come back with sheet and row)."""
        upload = files["file"]
        row = service.publish(db.session(), upload.read(), upload.filename, current_person().id)
        in_use = {(f.form_id, f.version) for f in service.forms_in_use(db.session())}
        return _describe(row, in_use)


@blp.route("/forms/<form_id>/versions/<version>")
class FormVersion(MethodView):
    @blp.device_or_login_required()
    @blp.response(200, description="the compiled form: fields, types, choices, required, merge policies")
    def get(self, form_id, version):
        """Fetch a compiled form version."""
        row = queries.version(db.session(), form_id, version)
        if row is None:
            raise not_found("form version")
        response = jsonify(row.compiled)
        response.headers["ETag"] = f'"{row.sha256}"'
        response.headers["Cache-Control"] = "private, max-age=86400"  # a version never changes
        return response


@blp.route("/forms/<form_id>/versions/<version>/xform")
class FormVersionXForm(MethodView):
    @blp.device_or_login_required()
    @blp.response(200, content_type="application/xml", description="the XForm for ODK-family clients")
    def get(self, form_id, version):
        """Fetch a form version as XForm XML (for ODK Collect and its family)."""
        row = queries.version(db.session(), form_id, version)
        if row is None:
            raise not_found("form version")
        return Response(row.xform, mimetype="application/xml")


@blp.route("/forms/<form_id>/versions/<version>/retire")
class RetireFormVersion(MethodView):
    @blp.login_required("city")
    @blp.response(204)
    def post(self, form_id, version):
        """Retire a version: tablets stop getting it; submissions made with it are still taken."""
        session = db.session()
        if queries.version(session, form_id, version) is None:
            raise not_found("form version")
        queries.retire(session, form_id, version)


@blp.route("/campaigns/current/forms")
class CampaignForms(MethodView):
    @blp.login_required("city")
    @blp.arguments(CampaignFormsSchema)
    @blp.response(200, CampaignFormsSchema)
    def put(self, body):
        """Choose the forms the active campaign's tablets use."""
        session = db.session()
        campaign = campaign_queries.active(session)
        if campaign is None:
            raise not_found("active campaign")
        known = {r.form_id for r in queries.all_versions(session)}
        unknown = [f for f in body["form_ids"] if f not in known]
        if unknown:
            raise DomainError("request.invalid", errors=[FieldError("form_ids", "forms.unknown_form",
                                                                    f"no published form {', '.join(unknown)}")])
        queries.set_campaign_forms(session, campaign.id, sorted(set(body["form_ids"])))
        return {"form_ids": queries.campaign_form_ids(session, campaign.id)}
