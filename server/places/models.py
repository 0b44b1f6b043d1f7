from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base


class Town(Base):
    """区镇/街道, keyed by its 12-digit statistical division code."""

    __tablename__ = "towns"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False, server_default="town")

    villages: Mapped[list[Village]] = relationship(back_populates="town")

    __table_args__ = (
        CheckConstraint(r"code ~ '^\d{12}$'", name="code_digits"),
        CheckConstraint("kind in ('town', 'subdistrict', 'zone')", name="kind"),
    )


class Village(Base):
    """村/社区, keyed by its 12-digit code; its polygon when the bureau supplies one."""

    __tablename__ = "villages"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    town_code: Mapped[str] = mapped_column(ForeignKey("towns.code"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False, server_default="village")
    boundary = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=True)
    centroid = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)

    town: Mapped[Town] = relationship(back_populates="villages")

    __table_args__ = (
        CheckConstraint(r"code ~ '^\d{12}$'", name="code_digits"),
        CheckConstraint("kind in ('village', 'community')", name="kind"),
    )
