"""The coordinator's rota workflow: solve in a worker, review, adjust by hand, re-solve, publish."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy import select

from app.accounts.models import Role, User
from app.availability.services import AvailabilityService
from app.core.dates import date_fr, today_paris
from app.core.errors import Conflict, FieldErrors
from app.rota import drafts, jobs
from app.rota.models import RotaDraft, RotaJob, RotaSession
from app.rota.problem import active_clinicians, active_sites, names
from app.rota.times import days, halfday_key, is_public_holiday, monday_of, sane_date
from app.web.auth import require_roles
from app.web.forms import DbSession, FormData, form_values, safe_next
from scheduling.rota import domain as rd

MANAGE = require_roles(Role.COORDINATOR)
RULE_LABELS = {
    "meet_site_targets": "Séances visées non pourvues",
    "use_preferred_half_days": "Demi-journées « possibles » plutôt que « préférées »",
    "keep_clinicians_near_weekly_target": "Écarts à l'objectif hebdomadaire des praticiens",
    "little_travel_from_home": "Trajets domicile – antenne",
    "few_changes_from_previous": "Changements par rapport au planning publié",
    "avoid_sessions_above_target": "Séances au-delà de l'objectif d'une antenne",
}


def _draft(db_session: DbSession, draft_id: uuid.UUID) -> RotaDraft:
    draft = db_session.get(RotaDraft, draft_id)
    if draft is None:
        raise NotFoundException("Projet de planning introuvable.")
    return draft


def _job(db_session: DbSession, job_id: uuid.UUID) -> RotaJob:
    job = db_session.get(RotaJob, job_id)
    if job is None:
        raise NotFoundException("Calcul introuvable.")
    return jobs.refresh(db_session, job)


def _key(data: dict[str, Any]) -> rd.SessionKey:
    """A session named by a form; a malformed one is a 404 page (the forms are built by the server)."""
    try:
        key = rd.SessionKey(
            str(uuid.UUID(str(data["clinician"]))),
            str(uuid.UUID(str(data["site"]))),
            dt.date.fromisoformat(str(data["date"])),
            str(data["period"]),
        )
    except (KeyError, ValueError) as exc:
        raise NotFoundException("Séance inconnue.") from exc
    if key.period not in ("am", "pm") or not 2000 <= key.date.year <= 2200:
        raise NotFoundException("Séance inconnue.")
    return key


def _weeks(start: dt.date, end: dt.date) -> list[dt.date]:
    first = monday_of(start)
    return [first + dt.timedelta(weeks=i) for i in range((monday_of(end) - first).days // 7 + 1)]


class RotaPages(Controller):
    path = "/rota"
    guards = [MANAGE]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="rota")
    def overview(self, db_session: DbSession) -> Template:
        day = today_paris()
        start = monday_of(day) + dt.timedelta(days=7)
        recent_jobs = db_session.scalars(select(RotaJob).order_by(RotaJob.created_at.desc()).limit(5)).all()
        recent_drafts = db_session.scalars(select(RotaDraft).order_by(RotaDraft.created_at.desc()).limit(5)).all()
        return Template(
            "rota/overview.html",
            context={
                "values": {"start": start.isoformat(), "end": (start + dt.timedelta(days=27)).isoformat()},
                "errors": {},
                "jobs": [jobs.refresh(db_session, j) for j in recent_jobs],
                "drafts": recent_drafts,
            },
        )

    @get("/availability", sync_to_thread=True, name="rota_availability")
    def availability_grid(
        self, db_session: DbSession, site: FromQuery[uuid.UUID | None] = None, week: FromQuery[dt.date | None] = None
    ) -> Template:
        """Who can come to a site each half-day of a week; half-days nobody can cover stand out."""
        sites = active_sites(db_session)
        current_site = next((s for s in sites if s.id == site), sites[0] if sites else None)
        monday = monday_of(sane_date(week) or today_paris())
        week_days = days(monday, monday + dt.timedelta(days=5))
        rows: dict[tuple[dt.date, str], list[tuple[str, str]]] = {}
        if current_site is not None:
            clinicians = [
                c
                for c in active_clinicians(db_session, monday, week_days[-1])
                if current_site.id in {s.id for s in c.sites}
            ]
            offers = AvailabilityService(db_session).effective(clinicians, monday, week_days[-1])
            for d in week_days:
                for period in ("am", "pm"):
                    rows[(d, period)] = [
                        (c.display_name, offers[c.id][(d, period)].level)
                        for c in clinicians
                        if (d, period) in offers[c.id] and offers[c.id][(d, period)].site_id in (None, current_site.id)
                    ]
        return Template(
            "rota/availability_grid.html",
            context={
                "sites": sites,
                "current_site": current_site,
                "monday": monday,
                "week_days": week_days,
                "rows": rows,
                "halfday_key": halfday_key,
                "holiday": is_public_holiday,
                "previous_week": monday - dt.timedelta(days=7),
                "next_week": monday + dt.timedelta(days=7),
            },
        )

    @post("/solve", sync_to_thread=True, name="rota_solve")
    def start_solve(
        self, request: Request[User, Any, Any], db_session: DbSession, data: FormData
    ) -> Template | Redirect:
        values = form_values(data)
        try:
            start, end = jobs.validate_period(values, today_paris())
            job = jobs.create_job(db_session, start, end, request.user.username)
        except (FieldErrors, Conflict) as exc:
            db_session.rollback()
            errors = exc.errors if isinstance(exc, FieldErrors) else {"start": exc.message}
            recent = db_session.scalars(select(RotaJob).order_by(RotaJob.created_at.desc()).limit(5)).all()
            return Template(
                "rota/overview.html",
                status_code=400 if isinstance(exc, FieldErrors) else 409,
                context={"values": values, "errors": errors, "jobs": recent, "drafts": []},
            )
        jobs.launch(job.id)
        return Redirect(path=f"/rota/jobs/{job.id}")

    @get("/jobs/{job_id:uuid}", sync_to_thread=True, name="rota_job")
    def job_page(self, db_session: DbSession, job_id: FromPath[uuid.UUID]) -> Template:
        return Template("rota/job.html", context={"job": _job(db_session, job_id)})

    @get("/jobs/{job_id:uuid}/progress", sync_to_thread=True, name="rota_job_progress")
    def job_progress(self, db_session: DbSession, job_id: FromPath[uuid.UUID]) -> Template | Response[str]:
        job = _job(db_session, job_id)
        if job.status == "done" and job.draft_id and (job.result or {}).get("status") in ("OPTIMAL", "FEASIBLE"):
            return Response("", headers={"HX-Redirect": f"/rota/drafts/{job.draft_id}"})
        return Template("rota/_progress.html", context={"job": job})

    @post("/jobs/{job_id:uuid}/cancel", sync_to_thread=True, name="rota_job_cancel")
    def cancel(self, request: Request[User, Any, Any], db_session: DbSession, job_id: FromPath[uuid.UUID]) -> Redirect:
        jobs.request_cancel(db_session, _job(db_session, job_id))
        flash(
            request, "Annulation demandée : le calcul s'arrête et garde la meilleure solution trouvée.", category="info"
        )
        return Redirect(path=f"/rota/jobs/{job_id}")

    @get("/drafts/{draft_id:uuid}", sync_to_thread=True, name="rota_draft")
    def draft_page(
        self,
        db_session: DbSession,
        draft_id: FromPath[uuid.UUID],
        site: FromQuery[uuid.UUID | None] = None,
        week: FromQuery[dt.date | None] = None,
    ) -> Template:
        draft = _draft(db_session, draft_id)
        checked = drafts.review(db_session, draft)
        clinician_names, site_names = names(db_session)
        sites = active_sites(db_session)
        busiest = Counter(k.site for k in checked.assignments).most_common(1)
        default = next((s for s in sites if busiest and str(s.id) == busiest[0][0]), sites[0] if sites else None)
        current_site = next((s for s in sites if s.id == site), default)
        weeks = _weeks(draft.start_date, draft.end_date)
        chosen = sane_date(week)
        current_week = monday_of(chosen) if chosen else weeks[0]
        by_cell: dict[tuple[dt.date, str], list[rd.SessionKey]] = defaultdict(list)
        for k in checked.assignments:
            if current_site is not None and k.site == str(current_site.id):
                by_cell[(k.date, k.period)].append(k)
        unmet = {(u.date, u.period): u for u in checked.unmet if current_site and u.site == str(current_site.id)}
        violations = defaultdict(list)
        for v in checked.violations:
            if v.session is not None:
                violations[v.session].append(v.message)
        week_days = [
            d
            for d in days(current_week, current_week + dt.timedelta(days=5))
            if draft.start_date <= d <= draft.end_date
        ]
        rules: dict[str, dict[str, int]] = defaultdict(lambda: {"cost": 0, "count": 0})
        for p in checked.penalties:
            rules[p.rule]["cost"] += p.cost
            rules[p.rule]["count"] += 1
        return Template(
            "rota/draft.html",
            context={
                "draft": draft,
                "review": checked,
                "cells": by_cell,
                "unmet": unmet,
                "violations": violations,
                "week_days": week_days,
                "weeks": weeks,
                "current_week": current_week,
                "sites": sites,
                "current_site": current_site,
                "cn": clinician_names,
                "sn": site_names,
                "halfday_key": halfday_key,
                "rules": dict(sorted(rules.items(), key=lambda kv: -kv[1]["cost"])),
                "rule_labels": RULE_LABELS,
                "all_unmet": checked.unmet,
                "job": draft.result,
            },
        )

    @post("/drafts/{draft_id:uuid}/pin", sync_to_thread=True, name="rota_pin")
    def pin(
        self, request: Request[User, Any, Any], db_session: DbSession, draft_id: FromPath[uuid.UUID], data: FormData
    ) -> Redirect:
        draft = _draft(db_session, draft_id)
        pinned = str(data.get("pinned", "1")) == "1"
        drafts.set_pinned(db_session, draft, _key(data), pinned)
        flash(
            request,
            "Séance épinglée : un nouveau calcul la gardera." if pinned else "Séance désépinglée.",
            category="success",
        )
        return Redirect(path=safe_next(str(data.get("back") or ""), default=f"/rota/drafts/{draft_id}"))

    @post("/drafts/{draft_id:uuid}/remove", sync_to_thread=True, name="rota_remove")
    def remove(
        self, request: Request[User, Any, Any], db_session: DbSession, draft_id: FromPath[uuid.UUID], data: FormData
    ) -> Redirect:
        draft = _draft(db_session, draft_id)
        key = _key(data)
        drafts.remove(db_session, draft, key)
        flash(request, "Séance retirée du projet. Voici qui pourrait la reprendre.", category="success")
        return Redirect(path=f"/rota/drafts/{draft_id}/cell?site={key.site}&date={key.date}&period={key.period}")

    @get("/drafts/{draft_id:uuid}/cell", sync_to_thread=True, name="rota_cell")
    def cell(
        self,
        db_session: DbSession,
        draft_id: FromPath[uuid.UUID],
        site: FromQuery[uuid.UUID],
        date: FromQuery[dt.date],
        period: FromQuery[str],
    ) -> Template:
        draft = _draft(db_session, draft_id)
        if period not in ("am", "pm"):
            raise NotFoundException("Demi-journée inconnue.")
        clinician_names, site_names = names(db_session)
        try:
            candidates = drafts.suggestions(db_session, draft, str(site), date, period)
        except Conflict as exc:
            raise NotFoundException(exc.message) from exc
        return Template(
            "rota/cell.html",
            context={
                "draft": draft,
                "site": str(site),
                "date": date,
                "period": period,
                "candidates": candidates,
                "cn": clinician_names,
                "sn": site_names,
            },
        )

    @post("/drafts/{draft_id:uuid}/add", sync_to_thread=True, name="rota_add")
    def add(
        self, request: Request[User, Any, Any], db_session: DbSession, draft_id: FromPath[uuid.UUID], data: FormData
    ) -> Redirect:
        draft = _draft(db_session, draft_id)
        key = _key(data)
        try:
            broken = drafts.add(db_session, draft, key)
        except Conflict as exc:
            flash(request, exc.message, category="error")
            return Redirect(path=f"/rota/drafts/{draft_id}/cell?site={key.site}&date={key.date}&period={key.period}")
        if broken:
            flash(request, "Séance ajoutée, mais elle enfreint une règle : " + broken[0].message, category="error")
        else:
            flash(request, "Séance ajoutée et épinglée.", category="success")
        return Redirect(path=f"/rota/drafts/{draft_id}?site={key.site}&week={monday_of(key.date)}")

    @get("/drafts/{draft_id:uuid}/move", sync_to_thread=True, name="rota_move_form")
    def move_form(
        self,
        db_session: DbSession,
        draft_id: FromPath[uuid.UUID],
        clinician: FromQuery[str],
        site: FromQuery[str],
        date: FromQuery[str],
        period: FromQuery[str],
    ) -> Template:
        draft = _draft(db_session, draft_id)
        key = _key({"clinician": clinician, "site": site, "date": date, "period": period})
        clinician_names, site_names = names(db_session)
        return Template(
            "rota/move.html",
            context={
                "draft": draft,
                "key": key,
                "options": drafts.destinations(db_session, draft, key),
                "cn": clinician_names,
                "sn": site_names,
            },
        )

    @post("/drafts/{draft_id:uuid}/move", sync_to_thread=True, name="rota_move")
    def move(
        self, request: Request[User, Any, Any], db_session: DbSession, draft_id: FromPath[uuid.UUID], data: FormData
    ) -> Redirect:
        draft = _draft(db_session, draft_id)
        key = _key(data)
        target = str(data.get("to", ""))
        try:
            to_site, to_date, to_period = target.split("|")
            new_key = _key({"clinician": key.clinician, "site": to_site, "date": to_date, "period": to_period})
            broken = drafts.move(db_session, draft, key, new_key)
        except (ValueError, FieldErrors):
            flash(request, "Choisissez où déplacer la séance.", category="error")
            return Redirect(
                path=f"/rota/drafts/{draft_id}/move?clinician={key.clinician}&site={key.site}"
                f"&date={key.date}&period={key.period}"
            )
        except Conflict as exc:
            flash(request, exc.message, category="error")
            return Redirect(path=f"/rota/drafts/{draft_id}")
        if broken:
            flash(request, "Séance déplacée, mais elle enfreint une règle : " + broken[0].message, category="error")
        else:
            flash(
                request,
                f"Séance déplacée au {date_fr(new_key.date)} "
                f"{'matin' if new_key.period == 'am' else 'après-midi'} et épinglée.",
                category="success",
            )
        return Redirect(path=f"/rota/drafts/{draft_id}?site={new_key.site}&week={monday_of(new_key.date)}")

    @post("/drafts/{draft_id:uuid}/solve", sync_to_thread=True, name="rota_resolve")
    def resolve(
        self, request: Request[User, Any, Any], db_session: DbSession, draft_id: FromPath[uuid.UUID]
    ) -> Redirect:
        draft = _draft(db_session, draft_id)
        try:
            job = jobs.create_job(db_session, draft.start_date, draft.end_date, request.user.username, draft=draft)
        except Conflict as exc:
            flash(request, exc.message, category="error")
            return Redirect(path=f"/rota/drafts/{draft_id}")
        jobs.launch(job.id)
        return Redirect(path=f"/rota/jobs/{job.id}")

    @get("/drafts/{draft_id:uuid}/publish", sync_to_thread=True, name="rota_publish_confirm")
    def publish_confirm(self, db_session: DbSession, draft_id: FromPath[uuid.UUID]) -> Template:
        draft = _draft(db_session, draft_id)
        checked = drafts.review(db_session, draft)
        published = db_session.scalars(
            select(RotaSession).where(
                RotaSession.status == "published",
                RotaSession.date >= draft.start_date,
                RotaSession.date <= draft.end_date,
            )
        ).all()
        return Template("rota/publish.html", context={"draft": draft, "review": checked, "published": len(published)})

    @post("/drafts/{draft_id:uuid}/publish", sync_to_thread=True, name="rota_publish")
    def publish(
        self, request: Request[User, Any, Any], db_session: DbSession, draft_id: FromPath[uuid.UUID]
    ) -> Redirect:
        draft = _draft(db_session, draft_id)
        try:
            report = drafts.publish(db_session, draft, request.user.username)
        except Conflict as exc:
            db_session.rollback()
            flash(request, exc.message, category="error")
            return Redirect(path=f"/rota/drafts/{draft_id}")
        message = (
            f"Planning publié du {date_fr(draft.start_date)} au {date_fr(draft.end_date)} : "
            f"{report.created} séance(s) créée(s), {report.kept} inchangée(s), {report.moved} déplacée(s), "
            f"{report.cancelled} supprimée(s)."
        )
        if report.to_rebook:
            message += f" {report.to_rebook} rendez-vous à replacer (liste « à reprogrammer »)."
        flash(request, message, category="success")
        return Redirect(path=f"/rota/drafts/{draft_id}")


class MyWeekPage(Controller):
    """A clinician's own published sessions, four weeks ahead (readable on a phone)."""

    path = "/my/week"
    guards = [require_roles(Role.CLINICIAN)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="my_week")
    def my_week(self, request: Request[User, Any, Any], db_session: DbSession) -> Template:
        start = today_paris()
        sessions = []
        if request.user.clinician_id is not None:
            sessions = list(
                db_session.scalars(
                    select(RotaSession)
                    .where(
                        RotaSession.clinician_id == request.user.clinician_id,
                        RotaSession.status == "published",
                        RotaSession.date >= start,
                        RotaSession.date <= start + dt.timedelta(days=27),
                    )
                    .order_by(RotaSession.date, RotaSession.period)
                )
            )
        by_week: dict[dt.date, list[RotaSession]] = defaultdict(list)
        for s in sessions:
            by_week[monday_of(s.date)].append(s)
        return Template("rota/my_week.html", context={"by_week": dict(by_week), "start": start})
