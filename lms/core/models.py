"""The declarative base every model inherits from."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, ForeignKey, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship
from sqlalchemy.types import TypeDecorator

# A fixed naming convention keeps constraint names identical on SQLite and PostgreSQL,
# so Alembic can drop or alter them in later migrations.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no time zone, so without this values would come back naive there and aware
    on PostgreSQL, and comparing them would fail on one database only.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The value as stored: in UTC (naive on SQLite); a naive value is refused."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """The stored value as a timezone-aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def values_enum(choices: type[enum.StrEnum], name: str) -> Enum:
    """The column type of a string enum: its values (not its member names) in a VARCHAR(16)
    checked by the application, no database ENUM type (adding a value needs no migration).
    """
    return Enum(choices, name=name, native_enum=False, length=16,
                values_callable=lambda members: [m.value for m in members])


class Base(DeclarativeBase):
    """Declarative base with the project's naming convention."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TimestampMixin:
    """Adds ``created_at`` set by the application when the row is inserted."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def parent_key(target: str, **kwargs: Any) -> Any:
    """An indexed foreign key to ``target`` (``"table.id"``) whose rows are deleted with their
    parent row (``ON DELETE CASCADE``); ``kwargs`` go to ``mapped_column``.
    """
    return mapped_column(ForeignKey(target, ondelete="CASCADE"), index=True, **kwargs)


def children(back_populates: str, *, order_by: str | None = None) -> Any:
    """The rows that belong to this one (``back_populates`` names their side), in ``order_by``:
    removed from the list, they are deleted; deleting this row leaves them to the database's
    cascade rather than loading them first.
    """
    return relationship(back_populates=back_populates, order_by=order_by or False,
                        cascade="all, delete-orphan", passive_deletes=True)


def owned_by(column: Any, organization_id: int | None) -> Any:
    """The condition on an ``organization_id`` column: rows of that organization, or rows of
    none (built-in ones) when ``organization_id`` is None.
    """
    return column.is_(None) if organization_id is None else column == organization_id
