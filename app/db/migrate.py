"""Run Alembic from code (``smp db upgrade``) and check the schema matches the models."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import app.db.models  # noqa: F401
from app.db.base import metadata

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


def compare_type(_ctx, _inspected_column, _metadata_column, inspected_type, metadata_type):  # type: ignore[no-untyped-def]
    """Alembic's type comparison, minus a false alarm.

    advanced-alchemy's ``GUID`` and ``DateTimeUTC`` are decorators over a dialect type that SQLite
    reflects by affinity (``NUMERIC`` for the 16-byte GUID), so a plain comparison always differs.
    """
    from advanced_alchemy.types import GUID, DateTimeUTC

    if _ctx.dialect.name == "sqlite" and isinstance(metadata_type, GUID | DateTimeUTC):
        return False
    return None


def alembic_config(url: str) -> Config:
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_differences(engine: Engine) -> list[object]:
    """What differs between the migrated database and the models (empty when in step)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": compare_type})
        return list(compare_metadata(ctx, metadata))
