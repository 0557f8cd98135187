"""The Litestar application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.flash import FlashConfig, FlashPlugin
from litestar.static_files import create_static_files_router
from litestar.types import Message, Scope
from sqlalchemy.orm import Session

from app.accounts.controllers import LoginController, ProfileController
from app.audit.pages import AuditPages
from app.availability.controllers import AvailabilityPages
from app.booking.controllers import BookingApi, BookingPages, MyConsultationsPage, ToRebookPage
from app.calendars.controllers import CalendarPages, help_calendars, ical_feed
from app.clinicians.controllers import ClinicianApi, ClinicianPages
from app.cpts.material import IndicatorPages, MaterialPages
from app.cpts.pages import CensusPages, ProposalPages
from app.db.engine import get_engine, session_factory
from app.patients.controllers import PatientApi, PatientPages
from app.patients.duplicate_pages import DuplicatePages
from app.patients.imports import CpamImportPages
from app.patients.match_pages import MatchPages
from app.patients.public import PublicRequestPages
from app.patients.referrals import ReferralPages
from app.patients.rgpd_pages import RgpdPages, privacy_notice
from app.reports.controllers import CommitteePages
from app.rota.controllers import MyWeekPage, RotaPages
from app.settings import Settings, get_settings
from app.sites.controllers import SiteApi, SitePages
from app.web import metrics
from app.web.auth import AuthMiddleware
from app.web.communes import CommuneController
from app.web.db import build_db_plugin
from app.web.errors import EXCEPTION_HANDLERS
from app.web.health import healthz
from app.web.home import HomeController
from app.web.logs import logging_config
from app.web.metrics import MetricsController
from app.web.templating import build_template_config
from app.web.territory import current_territory

STATIC_DIR = Path(__file__).resolve().parent / "static"


THROTTLED = {"/login", "/demande", "/suivi"}
"""Anonymous POSTs, rate-limited per client: login attempts, public requests, status look-ups."""


def _login_attempt(request) -> bool:  # type: ignore[no-untyped-def]
    return request.method == "POST" and request.url.path in THROTTLED


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
"""Everything from the application itself: no inline script, no inline style, no frame around it."""


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """Sent with every response; HSTS only behind HTTPS."""
    headers = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if settings.secure_cookies:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return [(k.lower().encode(), v.encode()) for k, v in headers]


def security_headers_hook(headers: list[tuple[bytes, bytes]]) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook: Litestar calls it for every message of every response — pages, API,
    static files, error pages and the 404 of an unknown path (which no middleware sees)."""

    async def add(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            message["headers"] = [*message.get("headers", []), *(h for h in headers if h[0] not in present)]

    return add


def create_app(settings: Settings | None = None, *, freeze_startup_objects: bool = False) -> Litestar:
    """The application. ``freeze_startup_objects``: for a server process, which lives as long as
    its application (see ``on_startup``); a process that builds several (the tests) must not."""
    settings = settings or get_settings()
    engine = get_engine(settings.database_url)
    db_plugin, _ = build_db_plugin(engine)
    session_config = CookieBackendConfig(
        secret=settings.secret_bytes,
        key="smp_session",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
        max_age=12 * 3600,
    )
    rate_limit = RateLimitConfig(
        rate_limit=("minute", settings.login_rate_limit_per_minute),
        check_throttle_handler=_login_attempt,
    )

    template_config = build_template_config()
    metrics.register_collectors()

    def on_startup(app: Litestar) -> None:
        app.state.session_factory = session_factory(engine)
        current_territory()  # the territory's communes are read now, not by the first request
        if freeze_startup_objects:
            # Everything built so far (code, routes, mappers, communes: some 250,000 objects) lives
            # as long as the server process: out of the collector's sight, a full collection walks
            # only what the requests made. Walking them all paused every thread of the process for
            # 130–200 ms, a few times a minute under load.
            gc.collect()
            gc.freeze()
        logging.getLogger("app").info(
            "SMP Planner ready: database %s, territory %s", engine.dialect.name, ",".join(settings.departements)
        )

    return Litestar(
        route_handlers=[
            healthz,
            LoginController,
            ProfileController,
            HomeController,
            SitePages,
            SiteApi,
            ClinicianPages,
            ClinicianApi,
            PatientPages,
            CpamImportPages,
            DuplicatePages,
            MatchPages,
            CommitteePages,
            AuditPages,
            MetricsController,
            RgpdPages,
            privacy_notice,
            CensusPages,
            ProposalPages,
            MaterialPages,
            IndicatorPages,
            PatientApi,
            PublicRequestPages,
            ReferralPages,
            AvailabilityPages,
            RotaPages,
            MyWeekPage,
            MyConsultationsPage,
            ToRebookPage,
            BookingPages,
            BookingApi,
            CalendarPages,
            ical_feed,
            help_calendars,
            CommuneController,
            create_static_files_router(path="/static", directories=[STATIC_DIR], include_in_schema=False),
        ],
        on_startup=[on_startup],
        plugins=[db_plugin, FlashPlugin(config=FlashConfig(template_config=template_config))],
        template_config=template_config,
        middleware=[
            metrics.config.middleware,
            session_config.middleware,
            DefineMiddleware(AuthMiddleware, exclude=["^/static/", "^/healthz"]),
            rate_limit.middleware,
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="smp_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            exclude=["^/api/"],
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        logging_config=logging_config(),
        before_send=[security_headers_hook(security_headers(settings))],
        openapi_config=OpenAPIConfig(
            title="SMP Planner API",
            version="1",
            description="Service Médical de Proximité: sites, clinicians, communes. "
            "Authenticate with `Authorization: Bearer <token>` (create one on your profile page "
            "or with `smp user token USERNAME`).",
            components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
            security=[{"bearer": []}],
            path="/schema",
            # The JSON document only: the browsable UIs load their scripts from a CDN.
            render_plugins=[JsonRenderPlugin()],
        ),
        signature_namespace={"Session": Session},
        debug=False,
    )


def app_factory() -> Litestar:
    """What ``smp serve`` runs in each server process."""
    return create_app(freeze_startup_objects=True)
