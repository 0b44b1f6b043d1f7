"""Reading households and children as the caller's role allows: ID numbers masked unless the
role needs them, and every read of a child's full record written to the audit trail."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from server.accounts.models import Person
from server.accounts.scope import Scope
from server.audit import service as audit
from server.errors import not_found
from server.people import id_number, queries
from server.people.models import Child
from server.people.protection import IdNumberVault, child_subject

# Roles that need the full ID number: the bureau (matching with other agencies) and the town
# supervisor (notices carry it). Teams in the field identify a child by name, birth date and
# household, and see the masked form only.
FULL_ID_NUMBER_ROLES = frozenset({"city", "town_supervisor"})


def shown_id_number(vault: IdNumberVault, child: Child, person: Person) -> str | None:
    if child.id_number_cipher is None:
        return None
    value = vault.decrypt(child.id_number_cipher, child_subject(child.id))
    return value if person.role in FULL_ID_NUMBER_ROLES else id_number.mask(value)


def list_households(session: Session, scope: Scope, page: int, page_size: int, **filters) -> dict:
    total, rows = queries.households_page(session, scope, offset=(page - 1) * page_size,
                                          limit=page_size, **filters)
    items = []
    for household, lon, lat in rows:
        items.append({
            "id": household.id, "village_code": household.village_code,
            "group_name": household.group_name, "household_number": household.household_number,
            "address": household.address, "head_name": household.head_name,
            "location": None if lon is None else {"lon": lon, "lat": lat,
                                                  "approximate": household.location_approximate},
            "survey_status": household.survey_status, "version": household.version,
            "updated_at": household.updated_at,
        })
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def list_children(session: Session, scope: Scope, vault: IdNumberVault, page: int, page_size: int,
                  **filters) -> dict:
    """A page of children for lists: ID numbers always masked, no contact details."""
    total, rows = queries.children_page(session, scope, offset=(page - 1) * page_size,
                                        limit=page_size, **filters)
    items = []
    for child in rows:
        masked = None if child.id_number_cipher is None else id_number.mask(
            vault.decrypt(child.id_number_cipher, child_subject(child.id)))
        items.append({**_summary(child), "id_number": masked})
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
               child_id: uuid.UUID, remote_addr: str | None) -> dict:
    """A child's full record, logged in the audit trail in the same transaction."""
    child = queries.child(session, scope, child_id)
    if child is None:
        raise not_found("child")
    full_id = person.role in FULL_ID_NUMBER_ROLES
    warnings: list[str] = []
    if child.id_number_cipher is not None:
        # The roster is sometimes wrong about the birth date or gender; say so where it shows.
        warnings = id_number.check(vault.decrypt(child.id_number_cipher, child_subject(child.id)), birth_date=child.birth_date,
                                   gender=child.gender).warnings
    audit.record(session, person.id, "read_child", "child", str(child.id), remote_addr=remote_addr,
                 id_number="full" if full_id else "masked")
    return {
        **_summary(child),
        "id_number": shown_id_number(vault, child, person),
        "id_number_masked": not full_id,
        "id_number_warnings": warnings,
        "ethnicity": child.ethnicity, "relation_to_head": child.relation_to_head,
        "guardian_name": child.guardian_name, "guardian_phone": child.guardian_phone,
        "disability_type": child.disability_type, "disability_level": child.disability_level,
        "school_id": child.school_id, "class_name": child.class_name,
        "dropout_reason": child.dropout_reason, "dropout_reason_note": child.dropout_reason_note,
    }
