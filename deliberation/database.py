"""The SQLAlchemy handle shared by models and services."""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, Update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def insert_or_update(model: type[Base]) -> Any:
    """``INSERT`` for this session's database, with ``on_conflict_do_update`` and
    ``on_conflict_do_nothing``: both databases speak ``INSERT ... ON CONFLICT``, and
    SQLAlchemy has one construct per dialect, spelt alike."""
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def add_unique(row: Base, taken: Exception) -> None:
    """Add ``row`` and write it now; raise ``taken`` when a unique rule refuses it.

    For a row whose caller has already checked that its name or address is free: the same
    form sent twice at once passes that check twice, and the rule decides. The refused
    request's transaction is rolled back, with whatever else it wrote.
    """
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise taken from None


def update_one(statement: Update, changed_meanwhile: Exception) -> None:
    """Run ``statement``, an UPDATE of one row guarded by what the caller read (its version,
    phase or state); raise ``changed_meanwhile`` when it matches no row.

    The same form sent twice at once (or by two people) passes the caller's checks twice;
    the guard lets only the first write through, on both databases. The refused request's
    transaction is rolled back, with whatever else it wrote.
    """
    if db.session.execute(statement).rowcount != 1:
        db.session.rollback()
        raise changed_meanwhile
