"""Availability pages: a clinician publishes their own; the coordinator can act for any clinician."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts.models import Role, User
from app.availability.ics import IcsError, busy_halfdays
from app.availability.models import EXCEPTION_REASONS, LEVEL_LABELS
from app.availability.services import AvailabilityService
from app.clinicians.models import Clinician
from app.core.dates import date_fr, today_paris
from app.core.errors import FieldErrors
from app.core.halfdays import halfday_label
from app.rota.times import halfday_key, monday_of
from app.web.auth import require_roles
from app.web.forms import DbSession, FormData, form_values

ICS_WEEKS = 13


def _clinician_for(
    request: Request[User, Any, Any], db_session: DbSession, clinician_id: uuid.UUID | None
) -> Clinician:
    """The clinician whose availability is shown: one's own, or any for the coordinator."""
    user = request.user
    if clinician_id is not None and user.role in (Role.ADMIN, Role.COORDINATOR):
        found = db_session.get(Clinician, clinician_id)
        if found is None:
            raise NotFoundException("Praticien introuvable.")
        return found
    if clinician_id is not None and clinician_id != user.clinician_id:
        raise PermissionDeniedException("Vous ne pouvez modifier que vos propres disponibilités.")
    if user.clinician_id is None:
        raise PermissionDeniedException("Votre compte n'est relié à aucune fiche praticien.")
    found = db_session.get(Clinician, user.clinician_id)
    assert found is not None
    return found


def _suffix(request: Request[User, Any, Any], clinician: Clinician) -> str:
    return "" if request.user.clinician_id == clinician.id else f"?clinician={clinician.id}"


def _context(db_session: DbSession, clinician: Clinician, **extra: Any) -> dict[str, Any]:
    service = AvailabilityService(db_session)
    day = today_paris()
    pattern = service.current_pattern(clinician.id, day)
    upcoming = [p for p in service.patterns(clinician.id) if p.valid_from > day]
    next_monday = monday_of(day) + dt.timedelta(days=7)
    shown = upcoming[-1] if upcoming else pattern  # the version the form edits: the latest one
    values = extra.pop("pattern_values", None) or {
        **{f"level_{k}": v for k, v in (shown.levels.items() if shown else [])},
        "valid_from": next_monday.isoformat(),
        "preferred_site_ids": shown.preferred_site_ids if shown else [],
    }
    return {
        "clinician": clinician,
        "pattern": pattern,
        "upcoming": upcoming,
        "values": values,
        "exceptions": service.exceptions(clinician.id, since=day),
        "extras": service.extras(clinician.id, since=day),
        "levels": LEVEL_LABELS,
        "reasons": EXCEPTION_REASONS,
        "today": day,
        "errors": extra.pop("errors", {}),
        "exception_errors": extra.pop("exception_errors", {}),
        "extra_errors": extra.pop("extra_errors", {}),
        "exception_values": extra.pop("exception_values", {}),
        "extra_values": extra.pop("extra_values", {}),
        "university": [halfday_label(h) for h in clinician.university_halfdays],
        **extra,
    }


def _refused(request: Request[User, Any, Any], db_session: DbSession, clinician: Clinician, **extra: Any) -> Template:
    """The availability page again, with what was typed and why it was refused (nothing saved)."""
    db_session.rollback()
    return Template(
        "availability/page.html",
        status_code=400,
        context=_context(db_session, clinician, suffix=_suffix(request, clinician), **extra),
    )


class AvailabilityPages(Controller):
    path = "/availability"
    guards = [require_roles(Role.CLINICIAN, Role.COORDINATOR)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="availability")
    def show(
        self, request: Request[User, Any, Any], db_session: DbSession, clinician: FromQuery[uuid.UUID | None] = None
    ) -> Template:
        target = _clinician_for(request, db_session, clinician)
        return Template("availability/page.html", context=_context(db_session, target, suffix=_suffix(request, target)))

    @post("/pattern", sync_to_thread=True, name="availability_pattern")
    def save_pattern(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        data: FormData,
        clinician: FromQuery[uuid.UUID | None] = None,
    ) -> Template | Redirect:
        target = _clinician_for(request, db_session, clinician)
        values = form_values(data)
        try:
            saved = AvailabilityService(db_session).save_pattern(target, values, today_paris())
        except FieldErrors as exc:
            return _refused(request, db_session, target, errors=exc.errors, pattern_values=values)
        flash(
            request,
            f"Semaine type enregistrée, en vigueur à partir du {date_fr(saved.valid_from)}. "
            "Les séances déjà publiées ne changent pas.",
            category="success",
        )
        return Redirect(path="/availability" + _suffix(request, target))

    @post("/exceptions", sync_to_thread=True, name="availability_exception")
    def add_exception(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        data: FormData,
        clinician: FromQuery[uuid.UUID | None] = None,
    ) -> Template | Redirect:
        target = _clinician_for(request, db_session, clinician)
        values = form_values(data)
        service = AvailabilityService(db_session)
        try:
            added = service.add_exception(target, values, today_paris())
        except FieldErrors as exc:
            return _refused(request, db_session, target, exception_errors=exc.errors, exception_values=values)
        hit = service.published_conflicts(target.id, added.start_date, added.end_date, added.period)
        message = f"Absence enregistrée du {date_fr(added.start_date)} au {date_fr(added.end_date)}."
        if hit:
            message += (
                f" Attention : {len(hit)} séance(s) déjà publiée(s) sur ces dates ; le coordonnateur les réattribuera."
            )
        flash(request, message, category="success" if not hit else "info")
        return Redirect(path="/availability" + _suffix(request, target))

    @post("/exceptions/{item_id:uuid}/delete", sync_to_thread=True, name="availability_exception_delete")
    def delete_exception(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        item_id: FromPath[uuid.UUID],
        clinician: FromQuery[uuid.UUID | None] = None,
    ) -> Redirect:
        target = _clinician_for(request, db_session, clinician)
        if not AvailabilityService(db_session).delete_exception(target, item_id):
            raise NotFoundException("Absence introuvable.")
        flash(request, "Absence supprimée.", category="success")
        return Redirect(path="/availability" + _suffix(request, target))

    @post("/extras", sync_to_thread=True, name="availability_extra")
    def add_extra(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        data: FormData,
        clinician: FromQuery[uuid.UUID | None] = None,
    ) -> Template | Redirect:
        target = _clinician_for(request, db_session, clinician)
        values = form_values(data)
        try:
            added = AvailabilityService(db_session).add_extra(target, values, today_paris())
        except FieldErrors as exc:
            return _refused(request, db_session, target, extra_errors=exc.errors, extra_values=values)
        flash(
            request,
            f"Disponibilité ajoutée le {date_fr(added.date)} {'matin' if added.period == 'am' else 'après-midi'}.",
            category="success",
        )
        return Redirect(path="/availability" + _suffix(request, target))

    @post("/extras/{item_id:uuid}/delete", sync_to_thread=True, name="availability_extra_delete")
    def delete_extra(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        item_id: FromPath[uuid.UUID],
        clinician: FromQuery[uuid.UUID | None] = None,
    ) -> Redirect:
        target = _clinician_for(request, db_session, clinician)
        if not AvailabilityService(db_session).delete_extra(target, item_id):
            raise NotFoundException("Disponibilité introuvable.")
        flash(request, "Disponibilité supprimée.", category="success")
        return Redirect(path="/availability" + _suffix(request, target))

    @post("/ics", sync_to_thread=True, name="availability_ics_preview")
    def ics_preview(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
        clinician: FromQuery[uuid.UUID | None] = None,
    ) -> Template:
        target = _clinician_for(request, db_session, clinician)
        upload = data.get("file")
        error = None
        found: list[tuple[dt.date, str]] = []
        if not isinstance(upload, UploadFile) or not upload.filename:
            error = "Choisissez un fichier .ics exporté de votre agenda."
        else:
            try:
                found = busy_halfdays(upload.file.read(), today_paris(), today_paris() + dt.timedelta(weeks=ICS_WEEKS))
            except IcsError as exc:
                error = str(exc)
        if error:
            return _refused(request, db_session, target, ics_error=error)
        return Template(
            "availability/ics_preview.html",
            context={
                "clinician": target,
                "found": found,
                "suffix": _suffix(request, target),
                "weeks": ICS_WEEKS,
                "label": lambda d, p: f"{date_fr(d)} {'matin' if p == 'am' else 'après-midi'}",
                "keys": [halfday_key(d, p) for d, p in found],
            },
        )

    @post("/ics/confirm", sync_to_thread=True, name="availability_ics_confirm")
    def ics_confirm(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        data: FormData,
        clinician: FromQuery[uuid.UUID | None] = None,
    ) -> Redirect:
        target = _clinician_for(request, db_session, clinician)
        chosen = data.get("halfday") or []
        chosen = [chosen] if isinstance(chosen, str) else chosen
        service = AvailabilityService(db_session)
        count = 0
        try:
            for item in chosen:
                day, period = str(item).split("|")
                service.add_exception(
                    target,
                    {
                        "start_date": day,
                        "end_date": day,
                        "period": period,
                        "reason": "busy",
                        "note": "importé d'un agenda",
                    },
                    today_paris(),
                    commit=False,
                )
                count += 1
            db_session.commit()
        except (FieldErrors, ValueError):
            db_session.rollback()
            flash(
                request,
                "Import interrompu : une demi-journée n'était pas valide. Rien d'autre n'a été ajouté.",
                category="error",
            )
            return Redirect(path="/availability" + _suffix(request, target))
        flash(request, f"{count} demi-journée(s) marquée(s) indisponible(s) depuis votre agenda.", category="success")
        return Redirect(path="/availability" + _suffix(request, target))
