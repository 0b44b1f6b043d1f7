"""OpenRosa endpoints under a device's own URL, `/api/v1/openrosa/<token>`: the path is the
credential (as ODK Central's app users have), so ODK Collect needs no password and a lost
tablet is cut off by revoking its device. Every answer is an OpenRosa document, refusals too:
Collect shows their message to the surveyor."""

from __future__ import annotations

import functools
from email.utils import formatdate

from flask import Response, current_app, g, request
from flask.views import MethodView

from server import db
from server.errors import DomainError
from server.http import Blueprint, authenticate_device, current_scope
from server.openrosa import documents, service

blp = Blueprint("openrosa", __name__, description="OpenRosa for ODK Collect, KoboCollect and Enketo: form list, "
                "XForms, manifests with the device's entity lists, submissions (merged like a push)")
XML = "text/xml; charset=utf-8"

# What Collect shows for a refused request (it puts the message in front of the surveyor).
_MESSAGES = {
    "auth.invalid_token": "这个服务器地址不对或已失效，请让督导重新生成二维码并扫码设置。",
    "auth.device_revoked": "这台平板已被停用，请联系督导。",
    "auth.device_token_expired": "这台平板的登记已过期，请让督导重新生成二维码并扫码设置。",
    "attachment.too_large": "附件太大，请重新拍摄（照片不要超过 10 MB）后再发送。",
    "attachment.unsupported_type": "附件只能是照片（JPEG、PNG、WebP、HEIC）或 PDF。",
    "openrosa.missing_submission": "请求中没有表单文件（xml_submission_file）。",
}


def _headers(response: Response) -> Response:
    response.headers["X-OpenRosa-Version"] = "1.0"
    response.headers["Date"] = formatdate(usegmt=True)
    response.headers["Cache-Control"] = "private, no-store"  # the device's villages' records
    return response


def _xml(body: bytes, status: int = 200) -> Response:
    return _headers(Response(body, status=status, content_type=XML))


# Refusals an OpenRosa endpoint may answer, documented as what they are: OpenRosaResponse XML.
_REFUSALS = {400: "a malformed or refused instance", 403: "an unknown, revoked or expired device URL, or a "
             "record outside the device's villages", 404: "no such form version or entity list",
             409: "the instanceID was sent with other content, or names a record not yet on the server",
             413: "the request is larger than X-OpenRosa-Accept-Content-Length",
             415: "an attachment that is no photo or PDF", 422: "a malformed request",
             503: "the server is busy: send again later"}


def openrosa(view=None, *, generic_plans: bool = False):
    """Authenticate the device of the path's token; answer refusals as OpenRosa responses.
    `generic_plans`: for a submission, as for a push (db.prefer_generic_plans)."""
    if view is None:
        return functools.partial(openrosa, generic_plans=generic_plans)
    for status, description in _REFUSALS.items():
        view = blp.alt_response(status, content_type=XML, description=f"OpenRosaResponse: {description}")(view)

    @functools.wraps(view)
    def wrapper(*args, token: str, **kwargs):
        try:
            if generic_plans:
                db.prefer_generic_plans()
            authenticate_device(token)
            return view(*args, **kwargs)
        except DomainError as refusal:
            message = _MESSAGES.get(refusal.code) or refusal.message
            # 403, not 401, for a refused token: Collect answers 401 with a password prompt,
            # and there is no password to give.
            status = 403 if refusal.code.startswith("auth.") else refusal.status
            return _xml(documents.response(f"{message}（{refusal.code}）", "error"), status)

    return wrapper


def _base() -> str:
    """This device's OpenRosa root, as the client reached it."""
    return server_url(request.view_args["token"])


def server_url(token: str) -> str:
    return f"{request.url_root.rstrip('/')}/api/v1/openrosa/{token}"


@blp.route("/openrosa/<token>/formList")
class FormList(MethodView):
    @blp.response(200, content_type=XML, description="OpenRosa xformsList")
    @openrosa
    def get(self):
        """The forms in use (OpenRosa form list), each with its XForm and manifest URLs."""
        return _xml(service.form_list(db.session(), _base()))


@blp.route("/openrosa/<token>/forms/<form_id>/versions/<version>/form.xml")
class XForm(MethodView):
    @blp.response(200, content_type=XML, description="the XForm")
    @openrosa
    def get(self, form_id, version):
        """The XForm of a form version (pyxform's, with its ODK entity declarations)."""
        row = service.form_version(db.session(), form_id, version)
        return _xml(row.xform.encode("utf-8"))


@blp.route("/openrosa/<token>/forms/<form_id>/versions/<version>/manifest")
class Manifest(MethodView):
    @blp.response(200, content_type=XML, description="OpenRosa manifest")
    @openrosa
    def get(self, form_id, version):
        """The form's media: this device's entity lists (households, children of its villages)."""
        return _xml(service.manifest(db.session(), current_scope(), form_id, version, _base()))


@blp.route("/openrosa/<token>/entity-lists/<name>.csv")
class EntityList(MethodView):
    @blp.response(200, content_type="text/csv", description="an ODK entity list")
    @openrosa
    def get(self, name):
        """An entity list of this device's villages (name, label, __version, properties)."""
        content = service.entity_list(db.session(), current_scope(), name)
        response = Response(content.content, content_type="text/csv; charset=utf-8")
        response.headers["ETag"] = f'"{content.md5}"'
        return _headers(response)


@blp.route("/openrosa/<token>/entity-lists/<name>/integrity")
class EntityListIntegrity(MethodView):
    @blp.response(200, content_type=XML, description="ODK integrity document")
    @openrosa
    def get(self, name):
        """Which of the entities a tablet holds (`?id=a,b,c`) are gone from its list."""
        return _xml(service.integrity(db.session(), current_scope(), name, request.args.get("id", "")))


@blp.route("/openrosa/<token>/submission")
class Submission(MethodView):
    @blp.response(204, description="ready for submissions")
    @openrosa
    def head(self):
        """OpenRosa's pre-flight: the largest request this server takes."""
        return self._ready()

    @blp.response(204, description="ready for submissions")
    @openrosa
    def get(self):
        """OpenRosa's pre-flight (some clients use GET)."""
        return self._ready()

    @staticmethod
    def _ready() -> Response:
        response = _headers(Response(status=204))
        response.headers["X-OpenRosa-Accept-Content-Length"] = str(current_app.config["MAX_CONTENT_LENGTH"])
        return response

    @blp.response(201, content_type=XML, description="OpenRosaResponse")
    @openrosa(generic_plans=True)
    def post(self):
        """Send one instance (multipart: xml_submission_file and its files; `*isIncomplete*`
        for all but the last part of a split upload)."""
        upload = request.files.get("xml_submission_file")
        if upload is None:
            raise DomainError("openrosa.missing_submission")
        files = {}
        for key, storage in request.files.items(multi=True):
            if key != "xml_submission_file":
                files[storage.filename or key] = storage.read()
        incomplete = (request.form.get("*isIncomplete*") or "").strip().lower() == "yes"
        answer = service.receive(
            db.session(), g.device, g.person, current_scope(), current_app.extensions["notoneless.vault"],
            upload.read(), files, incomplete, attachments_dir=current_app.config["ATTACHMENTS_DIR"],
            max_attachment_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
            max_batch=current_app.config["SYNC_MAX_BATCH"])
        response = _xml(answer.body, answer.status)
        if answer.status == 201:
            response.headers["Location"] = request.base_url
        return response
