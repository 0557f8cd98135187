"""Imports every model so that the metadata is complete (Alembic, tests)."""

from app.accounts.models import ApiToken, User
from app.audit.models import AuditEntry
from app.clinicians.models import Clinician, clinician_site
from app.db.base import Base, metadata
from app.patients.models import Patient
from app.sites.models import Site

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Clinician",
    "Patient",
    "Site",
    "User",
    "clinician_site",
    "metadata",
]
