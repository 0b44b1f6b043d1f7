"""Queries of attachments: which uploads a village's tablets made."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.accounts.models import Person, team_members, team_villages
from server.attachments.models import AttachmentUpload
from server.devices.models import Device
from server.places.models import Village


def record_upload(session: Session, sha256: str, person_id: int, device_id) -> None:
    session.execute(insert(AttachmentUpload).values(sha256=sha256, person_id=person_id, device_id=device_id)
                    .on_conflict_do_nothing())


def uploaded_by_village_tablets(session: Session, hashes: Iterable[str],
                                village_codes: Iterable[str]) -> set[tuple[str, str]]:
    """(sha256, village) for each file of `hashes` a tablet uploaded whose surveyor's teams
    cover that village of `village_codes`."""
    hashes, village_codes = sorted(set(hashes)), sorted(set(village_codes))
    if not hashes or not village_codes:
        return set()
    rows = session.execute(
        select(AttachmentUpload.sha256, team_villages.c.village_code).distinct()
        .join(Device, Device.id == AttachmentUpload.device_id)
        .join(team_members, team_members.c.person_id == Device.person_id)
        .join(team_villages, team_villages.c.team_id == team_members.c.team_id)
        .where(AttachmentUpload.sha256.in_(hashes), team_villages.c.village_code.in_(village_codes)))
    return {(sha, village) for sha, village in rows}


def uploaded_by_staff_of(session: Session, sha256: str, village_codes: Iterable[str]) -> bool:
    """Whether staff whose area holds one of `village_codes` uploaded the file: the city, the
    village's town supervisor, or a team leader whose team covers it."""
    village_codes = sorted(set(village_codes))
    uploaders = select(Person.role, Person.town_code, Person.id).join(
        AttachmentUpload, AttachmentUpload.person_id == Person.id).where(AttachmentUpload.sha256 == sha256)
    towns = set(session.scalars(select(Village.town_code).where(Village.code.in_(village_codes))))
    for role, town_code, person_id in session.execute(uploaders):
        if role == "city" or (role == "town_supervisor" and town_code in towns):
            return True
        if role == "team_leader" and session.scalar(
                select(team_villages.c.village_code).join(team_members, team_members.c.team_id == team_villages.c.team_id)
                .where(team_members.c.person_id == person_id, team_villages.c.village_code.in_(village_codes))
                .limit(1)) is not None:
            return True
    return False


def store(session: Session, sha256: str, size: int, content_type: str, device_id) -> bool:
    """Keep a file's row; whether it was new (content-addressed: the same file twice is one row)."""
    from server.sync.models import Attachment

    result = session.execute(insert(Attachment).values(
        sha256=sha256, size=size, content_type=content_type, device_id=device_id,
    ).on_conflict_do_nothing().returning(Attachment.sha256))
    return result.first() is not None


def find(session: Session, sha256: str):
    from server.sync.models import Attachment

    return session.scalar(select(Attachment).where(Attachment.sha256 == sha256))


def villages_naming(session: Session, scope, ref: str) -> set[str]:
    """The villages of `scope` whose children's certificate photo or cases' evidence is `ref`."""
    from server.cases.models import Case
    from server.people.models import Child

    return {*session.scalars(select(Child.village_code).where(Child.certificate_photo == ref,
                                                              scope.villages(Child.village_code))),
            *session.scalars(select(Case.village_code).where(Case.evidence == ref, scope.villages(Case.village_code)))}


def records_carrying(session: Session, ref: str) -> list[tuple[str, object]]:
    """(record type, id) of every stored submission that named the file."""
    from server.sync.models import Submission

    return session.execute(select(Submission.record_type, Submission.record_id).distinct()
                           .where(Submission.payload["attachments"].contains([ref]))).all()
