from __future__ import annotations

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from server.forms.models import CampaignForm, FormVersion


def version(session: Session, form_id: str, version_: str) -> FormVersion | None:
    return session.scalar(select(FormVersion).where(FormVersion.form_id == form_id, FormVersion.version == version_))


def versions_of(session: Session, form_id: str) -> list[FormVersion]:
    """Every version of a form, oldest first (publication order)."""
    return list(session.scalars(select(FormVersion).where(FormVersion.form_id == form_id)
                                .order_by(FormVersion.published_at, FormVersion.id)))


def catalog_fingerprint(session: Session) -> str:
    """A digest of everything the push's form catalogue reads of every version (a form version's
    compiled form is named by its sha256): any publication, retirement or deletion, committed
    by any process, changes it, and a change rolled back changes it back."""
    return session.scalar(_FINGERPRINT)


# A scalar subquery's text: the push reads it beside the stored submissions, in one round trip.
FINGERPRINT_SQL = ("SELECT md5(coalesce(jsonb_agg(jsonb_build_array(id, form_id, version, record_type, sha256,"
                   " published_at, retired_at) ORDER BY id)::text, '')) FROM form_versions")
_FINGERPRINT = text(FINGERPRINT_SQL)


def catalog_versions(session: Session):
    """What the catalogue keeps of every version, by form in publication order (no XForm, no
    XLSForm: those are large and a push needs neither)."""
    return session.execute(
        select(FormVersion.id, FormVersion.form_id, FormVersion.version, FormVersion.record_type,
               FormVersion.sha256, FormVersion.retired_at, FormVersion.compiled)
        .order_by(FormVersion.form_id, FormVersion.published_at, FormVersion.id)).all()


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
