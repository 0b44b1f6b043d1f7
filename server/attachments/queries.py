"""Queries of attachments: which uploads a village's tablets made."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.accounts.models import team_members, team_villages
from server.attachments.models import AttachmentUpload
from server.devices.models import Device


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
