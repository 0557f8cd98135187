"""Errors as users should see them: French pages for people, structured JSON for the API."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DataError, InterfaceError, OperationalError

from app.core.errors import Conflict, FieldErrors

log = logging.getLogger("app.errors")

TITLES = {
    400: "Requête invalide",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    429: "Trop de tentatives",
    500: "Erreur interne",
    503: "Service indisponible",
}
MESSAGES = {
    403: "Votre rôle ne donne pas accès à cette page.",
    404: "Cette page n'existe pas ou plus.",
    429: "Trop de tentatives en peu de temps. Patientez une minute avant de réessayer.",
    500: "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez plus tard.",
}


def wants_json(request: Request[Any, Any, Any]) -> bool:
    return (
        request.url.path.startswith(("/api/", "/schema"))
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def _page(request: Request[Any, Any, Any], status: int, message: str | None = None) -> Response[Any]:
    return Template(
        template_name="error.html",
        context={
            "status": status,
            "title": TITLES.get(status, "Erreur"),
            "message": message or MESSAGES.get(status, ""),
        },
        status_code=status,
    )


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if wants_json(request):
        body: dict[str, Any] = {"status_code": status, "detail": exc.detail}
        if isinstance(exc, ValidationException) and exc.extra:
            # The same shape as the services' field errors: [{"field", "message"}].
            extra = exc.extra if isinstance(exc.extra, list) else [exc.extra]
            body["detail"] = "Données invalides : rien n'a été enregistré."
            body["errors"] = [
                {
                    "field": str(e.get("key", "")) if isinstance(e, dict) else "",
                    "message": str(e.get("message", e)) if isinstance(e, dict) else str(e),
                }
                for e in extra
            ]
        headers = dict(exc.headers or {})
        return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)
    if isinstance(exc, NotAuthorizedException):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(path=f"/login?next={quote(target)}")
    if isinstance(exc, PermissionDeniedException | NotFoundException | TooManyRequestsException):
        return _page(request, status)
    message = exc.detail if status < 500 else None
    return _page(request, status, message)


def field_errors_handler(request: Request[Any, Any, Any], exc: FieldErrors) -> Response[Any]:
    """Reached only from the API: pages catch FieldErrors themselves to re-render the form."""
    body = {
        "status_code": 400,
        "detail": "Données invalides : rien n'a été enregistré.",
        "errors": [{"field": k, "message": v} for k, v in exc.errors.items()],
    }
    return Response(content=body, status_code=400, media_type=MediaType.JSON)


def conflict_handler(request: Request[Any, Any, Any], exc: Conflict) -> Response[Any]:
    if wants_json(request):
        body: dict[str, Any] = {"status_code": 409, "detail": exc.message}
        if exc.field:
            body["errors"] = [{"field": exc.field, "message": exc.message}]
        return Response(content=body, status_code=409, media_type=MediaType.JSON)
    return _page(request, 409, exc.message)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The path only: query strings may carry a patient's name typed in a search box.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
    if wants_json(request):
        return Response(
            content={"status_code": 500, "detail": "Erreur interne."},
            status_code=HTTP_500_INTERNAL_SERVER_ERROR,
            media_type=MediaType.JSON,
        )
    return _page(request, 500)


def database_down_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database does not answer (stopped, restarting, network): a clear 503, and the next
    request tries again — the connection pool reconnects by itself when it is back."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    headers = {"Retry-After": "30"}
    if wants_json(request):
        return Response(
            content={"status_code": 503, "detail": "Base de données indisponible : réessayez dans un instant."},
            status_code=503,
            media_type=MediaType.JSON,
            headers=headers,
        )
    response = _page(
        request,
        503,
        "La base de données ne répond pas pour le moment. Rien n'a été enregistré ; réessayez dans un instant.",
    )
    response.headers.update(headers)
    return response


def invalid_data_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database refused a value the checks let through (a NUL character, a number out of range):
    the request's fault, so a 400 — and nothing was written (the transaction is rolled back)."""
    log.warning("database refused a value on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    message = (
        "Une valeur envoyée n'est pas acceptable (caractère interdit ou nombre hors limites) : rien n'a été enregistré."
    )
    if wants_json(request):
        return Response(content={"status_code": 400, "detail": message}, status_code=400, media_type=MediaType.JSON)
    return _page(request, 400, message)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DataError: invalid_data_handler,
    OperationalError: database_down_handler,
    InterfaceError: database_down_handler,
    HTTPException: http_exception_handler,
    FieldErrors: field_errors_handler,
    Conflict: conflict_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
}
