"""``/healthz``: the process answers and the database too."""

from __future__ import annotations

from litestar import get
from litestar.response import Response
from sqlalchemy import text

from app.web.forms import DbSession


@get("/healthz", sync_to_thread=True, tags=["operations"], summary="Liveness and database check")
def healthz(db_session: DbSession) -> Response[dict[str, str]]:
    try:
        db_session.execute(text("SELECT 1"))
    except Exception:
        return Response({"status": "error", "database": "unreachable"}, status_code=503)
    return Response({"status": "ok", "database": "ok"})
