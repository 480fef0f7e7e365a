"""Places, categories and units (the organisations cases are forwarded to)."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, enum_column


class Province(Base):
    __tablename__ = "province"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    division_type: Mapped[str] = mapped_column(String(40))


class Ward(Base):
    __tablename__ = "ward"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    division_type: Mapped[str] = mapped_column(String(40))
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"), index=True)
    search_name: Mapped[str] = mapped_column(String(160), index=True)


class Group(enum.StrEnum):
    """The headline groups of the Bình Dương report."""

    HARDSHIP = "hardship"
    EMERGENCY = "emergency"
    OTHER = "other"


class UnitType(enum.StrEnum):
    HOTLINE = "hotline"
    EMERGENCY_115 = "emergency_115"
    CDC = "cdc"
    HEALTH_DEPARTMENT = "health_department"
    WARD_COMMITTEE = "ward_committee"
    WARD_HEALTH_STATION = "ward_health_station"
    POLICE = "police"
    LABOUR_DEPARTMENT = "labour_department"
    TRANSPORT_DEPARTMENT = "transport_department"
    INFORMATION_DEPARTMENT = "information_department"
    DOCTOR_NETWORK = "doctor_network"
    OTHER = "other"


class Category(Base):
    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    group: Mapped[Group] = mapped_column(enum_column(Group, 20))
    default_unit_type: Mapped[UnitType] = mapped_column(enum_column(UnitType, 40))
    forward_hours: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Unit(Base):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[UnitType] = mapped_column(enum_column(UnitType, 40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # A unit covering a whole province covers every ward in it.
    province_code: Mapped[str | None] = mapped_column(ForeignKey("province.code"))
    phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class UnitWard(Base):
    __tablename__ = "unit_ward"

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True
    )
    ward_code: Mapped[str] = mapped_column(ForeignKey("ward.code"), primary_key=True, index=True)


class UnitCategory(Base):
    __tablename__ = "unit_category"

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True
    )
    category_code: Mapped[str] = mapped_column(
        ForeignKey("category.code", ondelete="CASCADE"), primary_key=True, index=True
    )
