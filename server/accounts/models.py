from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base

ROLES = {
    "city": "市教体局",
    "town_supervisor": "区镇督导",
    "team_leader": "包村工作组组长",
    "surveyor": "调查员",
    "school": "学校",
}
# 双线控辍: the government line and the school line cover the same households.
LINES = {"government": "政府线", "school": "学校线"}

team_members = Table(
    "team_members",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True),
)

team_villages = Table(
    "team_villages",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("village_code", ForeignKey("villages.code"), primary_key=True, index=True),
)


class Person(Base):
    """Someone who logs in: bureau staff, a supervisor, a team member or a school."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)  # argon2id
    full_name: Mapped[str] = mapped_column(String(50), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    line: Mapped[str | None] = mapped_column(String(12))
    town_code: Mapped[str | None] = mapped_column(ForeignKey("towns.code"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    phone: Mapped[str | None] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(nullable=False, server_default="true")
    # Lockout against password guessing: failures in a row, and when a locked account opens.
    failed_logins: Mapped[int] = mapped_column(nullable=False, server_default="0", default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    teams: Mapped[list[Team]] = relationship(secondary=team_members, back_populates="members")

    __table_args__ = (
        CheckConstraint(f"role in ({', '.join(repr(r) for r in ROLES)})", name="role"),
        CheckConstraint("line is null or line in ('government', 'school')", name="line"),
        # The area each role needs: a town for a supervisor, a school for a school account.
        CheckConstraint("role <> 'town_supervisor' or town_code is not null", name="supervisor_town"),
        CheckConstraint("role <> 'school' or school_id is not null", name="school_account_school"),
    )


class Team(Base):
    """包村工作组: a team of one line that covers some villages of one town."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    town_code: Mapped[str] = mapped_column(ForeignKey("towns.code"), nullable=False, index=True)
    line: Mapped[str] = mapped_column(String(12), nullable=False)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    members: Mapped[list[Person]] = relationship(secondary=team_members, back_populates="teams")

    __table_args__ = (CheckConstraint("line in ('government', 'school')", name="line"),)


class AccessToken(Base):
    """A login's bearer token: only its SHA-256 is stored; it expires and can be revoked."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_access_tokens_person_id", "person_id"),)
