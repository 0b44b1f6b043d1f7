"""Reading households and children as the caller's role allows: every personal field as
server/disclosure.py says (an ID number is full only in the city's and towns' full record).
The reads are written to the audit trail by the routes (server/audit/reads.py)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from server import disclosure
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.errors import not_found
from server.people import id_number, queries
from server.people.models import Child
from server.people.protection import IdNumberVault, child_subject


def clear_id_number(vault: IdNumberVault, child: Child) -> str | None:
    return None if child.id_number_cipher is None else vault.decrypt(child.id_number_cipher, child_subject(child.id))


def list_households(session: Session, scope: Scope, viewer: str, page: int, page_size: int, **filters) -> dict:
    total, rows = queries.households_page(session, scope, offset=(page - 1) * page_size,
                                          limit=page_size, **filters)
    items = []
    for household, lon, lat in rows:
        items.append(disclosure.show(viewer, "household", {
            "id": household.id, "village_code": household.village_code,
            "group_name": household.group_name, "household_number": household.household_number,
            "address": household.address, "head_name": household.head_name,
            "location": None if lon is None else {"lon": lon, "lat": lat,
                                                  "approximate": household.location_approximate},
            "survey_status": household.survey_status, "version": household.version,
            "updated_at": household.updated_at,
        }))
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def list_children(session: Session, scope: Scope, vault: IdNumberVault, viewer: str, page: int, page_size: int,
                  **filters) -> dict:
    """A page of children for lists (no contact details), as the viewer may see them."""
    total, rows = queries.children_page(session, scope, offset=(page - 1) * page_size,
                                        limit=page_size, **filters)
    items = []
    for child in rows:
        items.append(disclosure.show(viewer, "child", {**_summary(child), "id_number": clear_id_number(vault, child)}))
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def _summary(child: Child) -> dict:
    return {
        "id": child.id, "household_id": child.household_id, "village_code": child.village_code,
        "name": child.name, "gender": child.gender, "birth_date": child.birth_date,
        "enrollment_status": child.enrollment_status, "school_name": child.school_name,
        "grade": child.grade, "disability": child.disability, "left_behind": child.left_behind,
        "migrant": child.migrant, "vulnerable_family_types": child.vulnerable_family_types,
        "version": child.version, "updated_at": child.updated_at,
    }


def read_child(session: Session, scope: Scope, vault: IdNumberVault, person: Person,
               child_id: uuid.UUID) -> dict:
    """A child's full record: the one read where the policy may show a field in full."""
    child = queries.child(session, scope, child_id)
    if child is None:
        raise not_found("child")
    viewer = disclosure.viewer_of(person)
    number = clear_id_number(vault, child)
    warnings: list[str] = []
    if number is not None:
        # The roster is sometimes wrong about the birth date or gender; say so where it shows.
        warnings = id_number.check(number, birth_date=child.birth_date, gender=child.gender).warnings
    record = disclosure.show(viewer, "child", {
        **_summary(child),
        "id_number": number,
        "ethnicity": child.ethnicity, "relation_to_head": child.relation_to_head,
        "guardian_name": child.guardian_name, "guardian_phone": child.guardian_phone,
        "disability_type": child.disability_type, "disability_level": child.disability_level,
        "school_id": child.school_id, "class_name": child.class_name,
        "dropout_reason": child.dropout_reason, "dropout_reason_note": child.dropout_reason_note,
    }, full_record=True)
    record["id_number_masked"] = disclosure.level(viewer, "child", "id_number", full_record=True) != disclosure.FULL
    record["id_number_warnings"] = warnings
    return record
