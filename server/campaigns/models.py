from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, Index, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.campaigns.school_age import Cutoff
from server.db import Base


class Campaign(Base):
    """One year's 控辍保学 campaign: the school year it is about and its phase dates."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    school_year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    cutoff_month: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="8")
    cutoff_day: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="31")
    publicity_start: Mapped[dt.date] = mapped_column(Date, nullable=False)  # 宣传动员
    survey_start: Mapped[dt.date] = mapped_column(Date, nullable=False)  # 摸底建档
    persuasion_start: Mapped[dt.date] = mapped_column(Date, nullable=False)  # 劝返复学
    enforcement_start: Mapped[dt.date] = mapped_column(Date, nullable=False)  # 督察整改
    enforcement_end: Mapped[dt.date] = mapped_column(Date, nullable=False)
    active: Mapped[bool] = mapped_column(nullable=False, server_default="false")

    __table_args__ = (
        CheckConstraint(
            "publicity_start <= survey_start and survey_start <= persuasion_start"
            " and persuasion_start <= enforcement_start and enforcement_start <= enforcement_end",
            name="phases_in_order",
        ),
        CheckConstraint("cutoff_month between 1 and 12 and cutoff_day between 1 and 31", name="cutoff"),
        # At most one campaign is the active one: tablets and reports follow it.
        Index("uq_campaigns_one_active", "active", unique=True, postgresql_where=text("active")),
    )

    @property
    def cutoff(self) -> Cutoff:
        return Cutoff(self.cutoff_month, self.cutoff_day)
