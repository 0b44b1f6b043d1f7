from __future__ import annotations

import marshmallow as ma

from server.accounts.models import LINES, ROLES


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(1, 50))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(1, 200))


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(1, 200))
    new_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(1, 200),
                                    metadata={"description": "at least 10 characters, not the username"})


class PersonSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    full_name = ma.fields.String()
    role = ma.fields.String(metadata={"description": ", ".join(f"{k} ({v})" for k, v in ROLES.items())})
    line = ma.fields.String(allow_none=True, metadata={"description": ", ".join(LINES)})
    town_code = ma.fields.String(allow_none=True)
    school_id = ma.fields.Integer(allow_none=True)


class TokenSchema(ma.Schema):
    token = ma.fields.String(metadata={"description": "send as Authorization: Bearer <token>"})
    expires_at = ma.fields.DateTime()
    person = ma.fields.Nested(PersonSchema)


class MeSchema(PersonSchema):
    village_codes = ma.fields.List(
        ma.fields.String(), allow_none=True,
        metadata={"description": "villages in your scope; null means every village"},
    )
