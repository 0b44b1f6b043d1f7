"""The HTTP edge: the Api and Blueprint classes, authentication, one transaction per request,
and the single mapping from exceptions to the stable error shape of `server.errors`."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping

import flask
import flask_smorest
import marshmallow as ma
from flask import g, jsonify, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, UnicodeConverter

from server import caps, db
from server.accounts.scope import Scope, scope_of
from server.errors import DomainError, FieldError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "request.malformed",
    401: "auth.missing_token",
    403: "auth.forbidden",
    404: "request.not_found",
    405: "request.method_not_allowed",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    422: "request.invalid",
}


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(allow_none=True)
    code = ma.fields.String()
    message = ma.fields.String()


class ErrorSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "Stable machine-readable error code"})
    message = ma.fields.String(metadata={"description": "Human-readable message"})
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))


def error_response(error: DomainError):
    response = jsonify(error.as_dict())
    response.status_code = error.status
    for key, value in (getattr(error, "headers", None) or {}).items():
        response.headers[key] = value
    return response


def _flatten(messages, prefix: str = "") -> list[FieldError]:
    """webargs/marshmallow nest messages by location and field; the tablet wants a flat list."""
    out: list[FieldError] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = key if not prefix else f"{prefix}.{key}"
            if prefix == "" and key in ("json", "query", "form", "files", "headers", "path"):
                name = ""
            out.extend(_flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        for message in messages:
            out.append(FieldError(prefix or None, "request.invalid_field", message))
    elif isinstance(messages, list):
        for item in messages:
            out.extend(_flatten(item, prefix))
    else:
        out.append(FieldError(prefix or None, "request.invalid_field", str(messages)))
    return out


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        original = getattr(error, "original_exception", None)
        if original is not None:
            return _handle_unexpected(original)
        data = getattr(error, "data", None) or {}
        code = _HTTP_CODES.get(error.code, "server.internal_error" if error.code >= 500 else "request.malformed")
        field_errors = _flatten(data.get("messages") or data.get("errors") or {})
        domain = DomainError(code, data.get("message"), field_errors, status=error.code)
        if request.path.startswith("/api/v1/openrosa/"):
            return openrosa_refusal(domain)  # an XForm client reads OpenRosaResponse XML only
        response = error_response(domain)
        for key, value in (data.get("headers") or {}).items():
            response.headers[key] = value
        return response


def openrosa_refusal(error: DomainError):
    """A refusal as an OpenRosaResponse (ODK Collect shows its message to the surveyor)."""
    from server.openrosa.documents import response as openrosa_response

    response = flask.Response(openrosa_response(f"{error.message}（{error.code}）", "error"), status=error.status,
                              content_type="text/xml; charset=utf-8")
    response.headers["X-OpenRosa-Version"] = "1.0"
    return response


def _handle_unexpected(exc: BaseException):
    if isinstance(exc, DomainError):
        return error_response(exc)
    if db.connection_lost(exc):
        log.warning("database unavailable: %s", exc)
        return error_response(DomainError("db.unavailable"))
    if isinstance(exc, IntegrityError):
        return error_response(DomainError("db.conflict"))
    log.exception("unexpected error", exc_info=exc)
    return error_response(DomainError("server.internal_error"))


def _nul_fields(schema: ma.Schema, data, prefix: str = "") -> list[str]:
    """The text fields of `data` whose value holds a NUL character, which PostgreSQL's text
    cannot store (nor compare: psycopg refuses such a parameter outright)."""
    if not isinstance(data, Mapping):
        return []
    found = []
    for name, field in schema.fields.items():
        key = field.data_key or name
        if key in data:
            found += _nul_in(field, data[key], prefix + key)
    return found


def _nul_in(field: ma.fields.Field, value, name: str) -> list[str]:
    if isinstance(field, ma.fields.String):
        return [name] if isinstance(value, str) and "\x00" in value else []
    if isinstance(field, ma.fields.List) and isinstance(value, list):
        return sorted({n for item in value for n in _nul_in(field.inner, item, name)})
    if isinstance(field, ma.fields.Nested) and isinstance(field.schema, ma.Schema):
        items = value if field.many and isinstance(value, list) else [value]
        return sorted({n for item in items for n in _nul_fields(field.schema, item, name + ".")})
    return []  # Raw and Dict values are the service's to judge (a push refuses one submission alone)


class Parser(FlaskParser):
    def _raw_load_json(self, req):
        # The depth is capped: a body nested 100,000 deep is a 400, not a RecursionError's 500.
        from webargs.flaskparser import is_json_request

        if not is_json_request(req):
            return ma.missing
        return caps.parse_json(req.get_data(cache=True))

    def pre_load(self, location_data, *, schema, req, location):
        names = _nul_fields(schema, location_data)
        if names:
            raise ma.ValidationError({n: ["Text may not contain the NUL character (\\u0000)."] for n in names})
        return super().pre_load(location_data, schema=schema, req=req, location=location)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def device_required(self, snapshot: bool = False, generic_plans: bool = False):
        """Require an enrolled tablet's token, before the body is read; document it in OpenAPI.

        `snapshot`: start the transaction in REPEATABLE READ first (db.begin_snapshot), so that
        the token lookup and every read after it share one snapshot (a page and its hash).
        `generic_plans`: the request's statements are planned once per connection, the token
        lookup's included (db.prefer_generic_plans)."""

        def decorator(view):
            @functools.wraps(view)
            def wrapper(*args, **kwargs):
                if snapshot:
                    db.begin_snapshot()
                if generic_plans:
                    db.prefer_generic_plans()
                current_device()
                return view(*args, **kwargs)

            documented = self.doc(security=[{"bearerAuth": []}])(wrapper)
            return self.alt_response(401, schema=ErrorSchema, description="Not an enrolled tablet")(documented)

        return decorator

    def device_or_login_required(self):
        """Require either an enrolled tablet or a logged-in person."""

        def decorator(view):
            @functools.wraps(view)
            def wrapper(*args, **kwargs):
                current_actor()
                return view(*args, **kwargs)

            documented = self.doc(security=[{"bearerAuth": []}])(wrapper)
            return self.alt_response(401, schema=ErrorSchema, description="Not logged in")(documented)

        return decorator

    def login_required(self, *roles: str):
        """Require a logged-in person, of one of `roles` when given; document it in OpenAPI."""

        def decorator(view):
            @functools.wraps(view)
            def wrapper(*args, **kwargs):
                person = current_person()
                if roles and person.role not in roles:
                    raise DomainError("auth.forbidden")
                return view(*args, **kwargs)

            documented = self.doc(security=[{"bearerAuth": []}])(wrapper)
            return self.alt_response(401, schema=ErrorSchema, description="Not logged in")(
                self.alt_response(403, schema=ErrorSchema, description="Not allowed")(documented)
            )

        return decorator


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_person():
    """The person behind the request's bearer token (auth.missing_token / auth.invalid_token)."""
    if "person" not in g:
        from server.accounts.service import person_for_token

        token = bearer_token()
        if token is None:
            raise DomainError("auth.missing_token")
        g.person, g.access_token, g.scope = person_for_token(db.session(), token)
    return g.person


def current_device():
    """The enrolled, unrevoked tablet behind the request's bearer token."""
    if "device" not in g:
        token = bearer_token()
        if token is None:
            raise DomainError("auth.missing_token")
        authenticate_device(token)
    return g.device


def authenticate_device(token: str):
    """The enrolled, unrevoked tablet of a token (a bearer's, or an OpenRosa URL's path)."""
    from server.devices.service import device_for_token

    holder = device_for_token(db.session(), token)
    if holder is None:
        raise DomainError("auth.invalid_token")
    g.device = _checked_device(holder)
    return g.device


def _checked_device(holder):
    """Refuse a revoked tablet, one whose token expired, or one whose surveyor left; remember
    its surveyor and their scope (read with the token)."""
    from server.devices.service import token_expired

    device = holder.device
    if device.revoked_at is not None:
        raise DomainError("auth.device_revoked")
    if token_expired(db.session(), device):
        raise DomainError("auth.device_token_expired")
    g.person = holder.person
    if g.person is None or not g.person.active:
        raise DomainError("auth.device_revoked", "The surveyor of this tablet is no longer active.")
    scope = holder.scope()
    if scope is not None:
        g.scope = scope
    return device


def current_actor():
    """The tablet or the person behind the bearer token, whichever it belongs to."""
    from server.devices.service import device_for_token

    if "device" in g:
        return g.device
    token = bearer_token()
    holder = device_for_token(db.session(), token) if token is not None else None
    if holder is None:
        return current_person()
    g.device = _checked_device(holder)  # current_device() then needs no second token lookup
    return g.device


def current_scope() -> Scope:
    if "scope" not in g:
        g.scope = scope_of(db.session(), current_person())
    return g.scope


class IdConverter(IntegerConverter):
    """`<int:…>` in a path is an id (or a tile's z/x/y): a PostgreSQL integer. A larger number
    matches no route (404, request.not_found) instead of reaching a query the database refuses
    (integer out of range, a 500); the OpenAPI document says `maximum` accordingly."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", db.INT4_MAX)
        super().__init__(url_map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    """A path's text part (a village code, a form id): any character but `/` and NUL, which
    PostgreSQL's text cannot hold, so `%00` in a path matches no route (404) instead of reaching
    a query psycopg refuses (a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]", 1)


def init_app(app) -> None:
    # Before any route is added.
    app.url_map.converters.update({"int": IdConverter, "default": TextConverter, "string": TextConverter})
    app.register_error_handler(DomainError, error_response)
    # Database errors, SQLAlchemy's own after a lost connection (a transaction that cannot
    # roll back, a closed connection) included: 503 when the database is away, not a 500.
    app.register_error_handler(SQLAlchemyError, _handle_unexpected)

    @app.after_request
    def commit_request_transaction(response):
        # One transaction per request, committed here, before the response leaves: a client
        # that got a 2xx can rely on the write being durable.
        session = g.pop("db_session", None)
        if session is None:
            return response
        try:
            # A refusal whose bookkeeping must stand (a failed login's count) commits too.
            if response.status_code < 400 or g.pop("commit_refusal", False):
                session.commit()
            else:
                session.rollback()
        except SQLAlchemyError as exc:
            try:
                session.rollback()
            except SQLAlchemyError:
                pass  # the connection is gone; the pool discards it
            response = _handle_unexpected(exc)
        finally:
            session.close()
        return response

    @app.teardown_appcontext
    def close_session(_exc):
        db.close_read_session()
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
