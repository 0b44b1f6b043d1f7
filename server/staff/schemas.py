from __future__ import annotations

import marshmallow as ma

from server import caps
from server.accounts.models import LINES, ROLES
from server.db import INT4_MAX
from server.places.schemas import VillageRefSchema

CODE = ma.validate.Regexp(r"^\d{12}$", error="a 12-digit code")
ID = ma.validate.Range(min=1, max=INT4_MAX)
USERNAME = ma.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,49}$",
                              error="3 to 50 letters, digits, '_', '.' or '-', starting with a letter or digit")
PHONE = ma.validate.Regexp(r"^\+?[0-9][0-9 -]{4,28}[0-9]$", error="digits, spaces and '-' (e.g. 13800000000, 0513-88888888)")
NAME = ma.validate.Length(1, 50)


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("must not be blank")


class PeopleQuerySchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ID)
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))
    role = ma.fields.String(validate=ma.validate.OneOf(list(ROLES)))
    active = ma.fields.Boolean()
    q = ma.fields.String(validate=ma.validate.Length(1, 50),
                         metadata={"description": "part of the username or the full name"})


class NewPersonSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=USERNAME)
    full_name = ma.fields.String(required=True, validate=[NAME, _not_blank])
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(list(ROLES)),
                            metadata={"description": ", ".join(f"{k} ({v})" for k, v in ROLES.items())})
    line = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.OneOf(list(LINES)),
                            metadata={"description": "required for team leaders and surveyors"})
    town_code = ma.fields.String(load_default=None, allow_none=True, validate=CODE,
                                 metadata={"description": "required for a town supervisor; a surveyor's town "
                                                          "lets its supervisor put them on a team"})
    school_id = ma.fields.Integer(load_default=None, allow_none=True, validate=ID,
                                  metadata={"description": "required for a school account"})
    phone = ma.fields.String(load_default=None, allow_none=True, validate=PHONE)
    password = ma.fields.String(load_default=None, allow_none=True, load_only=True,
                                validate=ma.validate.Length(1, 200),
                                metadata={"description": "at least 10 characters; leave out to have one generated "
                                                         "(answered once as initial_password)"})


class PersonEditSchema(ma.Schema):
    """What the bureau corrects on an account: the name shown everywhere and the phone a team
    is called on. Role, town and school decide what the account sees: a new account for those."""

    full_name = ma.fields.String(validate=[NAME, _not_blank])
    phone = ma.fields.String(allow_none=True, validate=PHONE, metadata={"description": "null clears it"})

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("give full_name or phone", "_schema")


class TeamRefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class StaffPersonSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    full_name = ma.fields.String()
    role = ma.fields.String()
    line = ma.fields.String(allow_none=True)
    town_code = ma.fields.String(allow_none=True)
    town_name = ma.fields.String(allow_none=True)
    school_id = ma.fields.Integer(allow_none=True)
    school_name = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    teams = ma.fields.List(ma.fields.Nested(TeamRefSchema))


class PeoplePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(StaffPersonSchema))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()


class CreatedPersonSchema(StaffPersonSchema):
    initial_password = ma.fields.String(allow_none=True, metadata={
        "description": "the generated password, shown this once (null when the request set one)"})


class PasswordResetSchema(ma.Schema):
    password = ma.fields.String(load_default=None, allow_none=True, load_only=True,
                                validate=ma.validate.Length(1, 200),
                                metadata={"description": "at least 10 characters; leave out to have one generated"})


class PasswordResetDoneSchema(ma.Schema):
    id = ma.fields.Integer()
    initial_password = ma.fields.String(allow_none=True, metadata={"description": "the generated password, once"})


class ActiveSchema(ma.Schema):
    id = ma.fields.Integer()
    active = ma.fields.Boolean()
    tokens_revoked = ma.fields.Integer(metadata={"description": "logins ended by this change"})


class TeamQuerySchema(ma.Schema):
    town = ma.fields.String(validate=CODE)


class MemberSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    full_name = ma.fields.String()
    role = ma.fields.String()
    active = ma.fields.Boolean()


class LeaderSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    full_name = ma.fields.String()


class TeamSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    town_code = ma.fields.String()
    town_name = ma.fields.String(allow_none=True)
    line = ma.fields.String()
    leader = ma.fields.Nested(LeaderSchema, allow_none=True)
    villages = ma.fields.List(ma.fields.Nested(VillageRefSchema))
    members = ma.fields.List(ma.fields.Nested(MemberSchema))


class NewTeamSchema(caps.Capped, ma.Schema):
    CAPS = {"village_codes": caps.MAX_LIST_ITEMS}
    name = ma.fields.String(required=True, validate=[ma.validate.Length(1, 100), _not_blank])
    town_code = ma.fields.String(required=True, validate=CODE)
    line = ma.fields.String(required=True, validate=ma.validate.OneOf(list(LINES)))
    village_codes = ma.fields.List(ma.fields.String(validate=CODE), load_default=list)


class TeamVillagesSchema(caps.Capped, ma.Schema):
    CAPS = {"village_codes": caps.MAX_LIST_ITEMS}
    village_codes = ma.fields.List(ma.fields.String(validate=CODE), required=True)


class MemberBodySchema(ma.Schema):
    person_id = ma.fields.Integer(required=True, validate=ID)


class LeaderBodySchema(ma.Schema):
    person_id = ma.fields.Integer(required=True, allow_none=True, validate=ID,
                                  metadata={"description": "a team leader account; null: the team has no leader"})
