"""Imports every model so that the metadata is complete (Alembic, tests)."""

from app.accounts.models import ApiToken, User
from app.audit.models import AuditEntry
from app.availability.models import AvailabilityException, AvailabilityExtra, AvailabilityPattern
from app.calendars.models import CalendarFeed
from app.clinicians.models import Clinician, clinician_site
from app.cpts.models import CensusEvent, CensusGp, CptsProfile, CptsProposal
from app.db.base import Base, metadata
from app.notifications.models import OutboxMessage
from app.patients.models import (
    AssignmentProposal,
    ContactAttempt,
    CpamImport,
    NotDuplicate,
    Patient,
    PatientEvent,
    PatientRequest,
)
from app.rota.models import Booking, RotaDraft, RotaJob, RotaSession, Slot
from app.sites.models import Site

__all__ = [
    "ApiToken",
    "AssignmentProposal",
    "AuditEntry",
    "AvailabilityException",
    "AvailabilityExtra",
    "AvailabilityPattern",
    "Base",
    "Booking",
    "CalendarFeed",
    "CensusEvent",
    "CensusGp",
    "Clinician",
    "ContactAttempt",
    "CpamImport",
    "CptsProfile",
    "CptsProposal",
    "NotDuplicate",
    "OutboxMessage",
    "Patient",
    "PatientEvent",
    "PatientRequest",
    "RotaDraft",
    "RotaJob",
    "RotaSession",
    "Site",
    "Slot",
    "User",
    "clinician_site",
    "metadata",
]
