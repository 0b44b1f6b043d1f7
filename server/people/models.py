from __future__ import annotations

import datetime as dt
import uuid

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, SyncedRecord
from server.people import statuses


def _in(column: str, values) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Household(SyncedRecord, Base):
    """户: a household of the police roster (or one a tablet found), in one village."""

    __tablename__ = "households"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), nullable=False)
    group_name: Mapped[str | None] = mapped_column(String(20))  # 组
    household_number: Mapped[str | None] = mapped_column(String(30))  # 户号
    address: Mapped[str | None] = mapped_column(String(200))
    head_name: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(30))
    # WGS84. Missing until known; approximate while it is the village centroid from an import.
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True)
    location_approximate: Mapped[bool] = mapped_column(nullable=False, server_default="true")
    location_accuracy_m: Mapped[float | None] = mapped_column()
    # 五种弱势家庭, as the household survey records them for the whole family.
    vulnerable_family_types: Mapped[list[str]] = mapped_column(
        ARRAY(String(30)), nullable=False, server_default="{}"
    )
    notes: Mapped[str | None] = mapped_column(Text)
    survey_status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="not_visited")

    __table_args__ = (
        CheckConstraint(_in("survey_status", statuses.SURVEY_STATUSES), name="survey_status"),
        Index("ix_households_village_code", "village_code"),
        Index(
            "uq_households_village_number",
            "village_code",
            "household_number",
            unique=True,
            postgresql_where="household_number is not null",
        ),
    )


class Child(SyncedRecord, Base):
    """A school-age child (or one recorded as not school-age) and what the campaign knows."""

    __tablename__ = "children"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("households.id"), nullable=False, index=True)
    # The household's village, kept on the child too: every scoped query filters on it.
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), nullable=False, index=True)
    # Nullable: a child created on a tablet may be known first from a later, partial edit
    # (sync guarantee 7); the first edit fills these in when it arrives.
    name: Mapped[str | None] = mapped_column(String(50))
    gender: Mapped[str | None] = mapped_column(String(1))
    # The ID number never sits in clear text: AES-GCM ciphertext, and a keyed hash (HMAC) for
    # exact lookup and de-duplication (see server.people.protection).
    id_number_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_lookup: Mapped[bytes | None] = mapped_column(LargeBinary, index=True)
    # The lookup of the number a tablet typed and found equal to the one on file: the record's
    # id_number_status is `matched` while it equals id_number_lookup (server/sync/records.py).
    id_number_confirmed_lookup: Mapped[bytes | None] = mapped_column(LargeBinary)
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    ethnicity: Mapped[str | None] = mapped_column(String(20))
    relation_to_head: Mapped[str | None] = mapped_column(String(20))
    guardian_name: Mapped[str | None] = mapped_column(String(50))
    guardian_phone: Mapped[str | None] = mapped_column(String(30))
    disability: Mapped[bool] = mapped_column(nullable=False, server_default="false")
    disability_type: Mapped[str | None] = mapped_column(String(20))
    disability_level: Mapped[int | None] = mapped_column(SmallInteger)
    left_behind: Mapped[bool] = mapped_column(nullable=False, server_default="false")  # 留守儿童
    migrant: Mapped[bool] = mapped_column(nullable=False, server_default="false")  # 随迁子女
    vulnerable_family_types: Mapped[list[str]] = mapped_column(
        ARRAY(String(30)), nullable=False, server_default="{}"
    )
    enrollment_status: Mapped[str] = mapped_column(
        String(30), nullable=False, server_default="suspected_out_of_school"
    )
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    school_name: Mapped[str | None] = mapped_column(String(100))  # also schools outside the county
    grade: Mapped[int | None] = mapped_column(SmallInteger)
    class_name: Mapped[str | None] = mapped_column(String(20))
    dropout_reason: Mapped[str | None] = mapped_column(String(30))
    dropout_reason_note: Mapped[str | None] = mapped_column(Text)
    # A photo of the county-level hospital's certificate (因病缓学), as "sha256:<hex>".
    certificate_photo: Mapped[str | None] = mapped_column(String(71))

    __table_args__ = (
        CheckConstraint("gender in ('M', 'F')", name="gender"),
        CheckConstraint(_in("enrollment_status", statuses.ENROLLMENT_STATUSES), name="enrollment_status"),
        CheckConstraint(
            f"dropout_reason is null or {_in('dropout_reason', statuses.DROPOUT_REASONS)}",
            name="dropout_reason",
        ),
        CheckConstraint(
            f"disability_type is null or {_in('disability_type', statuses.DISABILITY_TYPES)}",
            name="disability_type",
        ),
        CheckConstraint("disability_level is null or disability_level between 1 and 4", name="disability_level"),
        CheckConstraint("grade is null or grade between 1 and 12", name="grade"),
        CheckConstraint(
            f"vulnerable_family_types <@ array[{', '.join(repr(v) for v in statuses.VULNERABLE_FAMILY_TYPES)}]::varchar[]",
            name="vulnerable_family_types",
        ),
        Index("ix_children_village_status", "village_code", "enrollment_status"),
    )
