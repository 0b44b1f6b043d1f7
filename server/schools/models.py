from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base


class School(Base):
    """A school, keyed by its 10-digit 学校标识码; town is null for schools outside the county."""

    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    town_code: Mapped[str | None] = mapped_column(ForeignKey("towns.code"), index=True)
    # primary (小学), junior (初中), nine_year (九年一贯制), special (特殊教育学校)
    stage: Mapped[str] = mapped_column(String(12), nullable=False)
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)

    __table_args__ = (
        CheckConstraint("stage in ('primary', 'junior', 'nine_year', 'special')", name="stage"),
    )
