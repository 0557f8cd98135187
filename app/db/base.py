"""The declarative base every table inherits: advanced-alchemy's audit base.

UUIDv7 primary key, timezone-aware ``created_at`` / ``updated_at``, and a metadata naming
convention so that Alembic diffs stay stable.
"""

from advanced_alchemy.base import UUIDv7AuditBase, orm_registry

Base = UUIDv7AuditBase
metadata = orm_registry.metadata

__all__ = ["Base", "metadata"]
