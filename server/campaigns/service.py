from __future__ import annotations

from sqlalchemy.orm import Session

from server.campaigns import queries, school_age
from server.campaigns.models import Campaign
from server.errors import DomainError, FieldError


def describe(campaign: Campaign) -> dict:
    """A campaign with its school-age definition spelled out as birth-date ranges per grade."""
    cutoff = campaign.cutoff
    first, last = school_age.school_age_range(campaign.school_year, cutoff)
    return {
        "id": campaign.id, "name": campaign.name, "school_year": campaign.school_year,
        "cutoff": str(cutoff), "active": campaign.active,
        "phases": {
            "publicity": {"start": campaign.publicity_start, "end": campaign.survey_start},
            "survey": {"start": campaign.survey_start, "end": campaign.persuasion_start},
            "persuasion": {"start": campaign.persuasion_start, "end": campaign.enforcement_start},
            "enforcement": {"start": campaign.enforcement_start, "end": campaign.enforcement_end},
        },
        "school_age": {"born_from": first, "born_to": last},
        "cohorts": [
            {"grade": c.grade, "born_from": c.born_from, "born_to": c.born_to}
            for c in school_age.cohorts(campaign.school_year, cutoff)
        ],
    }


def create(session: Session, data: dict) -> Campaign:
    """Create a campaign; making it active deactivates the previous one."""
    order = ["publicity_start", "survey_start", "persuasion_start", "enforcement_start", "enforcement_end"]
    for earlier, later in zip(order, order[1:], strict=False):
        if data[earlier] > data[later]:
            raise DomainError("request.invalid", errors=[FieldError(later, "campaign.phase_order",
                              f"{later} must not be before {earlier}")])
    try:
        cutoff = school_age.Cutoff.parse(data.get("cutoff", "08-31"))
    except ValueError as exc:
        raise DomainError("request.invalid", errors=[FieldError("cutoff", "campaign.cutoff",
                          "cutoff must be a real MM-DD date")]) from exc
    if data.get("active"):
        queries.deactivate_all(session)
    campaign = Campaign(
        name=data["name"], school_year=data["school_year"], cutoff_month=cutoff.month,
        cutoff_day=cutoff.day, active=bool(data.get("active")),
        **{k: data[k] for k in order},
    )
    session.add(campaign)
    session.flush()
    return campaign
