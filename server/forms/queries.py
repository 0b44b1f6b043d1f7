from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.forms.models import CampaignForm, FormVersion


def version(session: Session, form_id: str, version_: str) -> FormVersion | None:
    return session.scalar(select(FormVersion).where(FormVersion.form_id == form_id, FormVersion.version == version_))


def versions_of(session: Session, form_id: str) -> list[FormVersion]:
    """Every version of a form, oldest first (publication order)."""
    return list(session.scalars(select(FormVersion).where(FormVersion.form_id == form_id)
                                .order_by(FormVersion.published_at, FormVersion.id)))


def all_versions(session: Session) -> list[FormVersion]:
    return list(session.scalars(select(FormVersion).order_by(FormVersion.form_id, FormVersion.published_at,
                                                             FormVersion.id)))


def campaign_form_ids(session: Session, campaign_id: int) -> list[str]:
    return list(session.scalars(select(CampaignForm.form_id).where(CampaignForm.campaign_id == campaign_id)
                                .order_by(CampaignForm.form_id)))


def set_campaign_forms(session: Session, campaign_id: int, form_ids: list[str]) -> None:
    session.query(CampaignForm).filter(CampaignForm.campaign_id == campaign_id).delete()
    session.add_all([CampaignForm(campaign_id=campaign_id, form_id=f) for f in form_ids])


def retire(session: Session, form_id: str, version_: str) -> int:
    return session.execute(
        update(FormVersion).where(FormVersion.form_id == form_id, FormVersion.version == version_,
                                  FormVersion.retired_at.is_(None)).values(retired_at=func.now())
    ).rowcount
