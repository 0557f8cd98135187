"""The secretariat's page to import a CPAM list, see each import's counts and rejected lines,
and download the rejected lines to fix them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Response, Template
from sqlalchemy import select

from app.accounts.models import User
from app.audit.recorder import record
from app.patients.cpam import MODES, ImportRefused, import_list
from app.patients.models import CpamImport
from app.web.auth import STAFF, require_roles
from app.web.forms import DbSession
from app.web.pagination import paginate
from app.web.territory import current_territory

PAGE_SIZE = 20


def _form(db_session: DbSession, page: int, *, error: str = "", values: dict[str, str] | None = None) -> Template:
    imports = paginate(db_session, select(CpamImport).order_by(CpamImport.imported_at.desc()), page, PAGE_SIZE)
    return Template(
        "patients/imports.html",
        status_code=400 if error else 200,
        context={"imports": imports, "modes": MODES, "error": error, "values": values or {"mode": "valid_only"}},
    )


def rejected_rows(item: CpamImport) -> list[tuple[str, str]]:
    """(line, reasons) of each rejected line, from the kept CSV."""
    if not item.rejected_csv:
        return []
    reader = csv.DictReader(io.StringIO(item.rejected_csv), delimiter=";")
    return [(row["ligne"], row["erreurs"]) for row in reader]


class CpamImportPages(Controller):
    path = "/patients/imports"
    guards = [require_roles(*STAFF)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="cpam_imports")
    def index(self, db_session: DbSession, page: FromQuery[int] = 1) -> Template:
        return _form(db_session, page)

    @post("/", sync_to_thread=True, name="cpam_import_upload")
    def upload(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template | Redirect:
        mode = str(data.get("mode", ""))
        raw_date = str(data.get("list_date", "") or "").strip()
        values = {"mode": mode, "list_date": raw_date}
        upload = data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _form(db_session, 1, error="Choisissez le fichier de la CPAM (.csv ou .xlsx).", values=values)
        try:
            list_date = dt.date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            return _form(db_session, 1, error="La date de la liste est invalide.", values=values)
        try:
            result = import_list(
                db_session,
                current_territory(),
                upload.filename,
                upload.file.read(),
                mode=mode,
                actor=request.user.username,
                list_date=list_date,
            )
        except ImportRefused as exc:
            db_session.rollback()
            return _form(db_session, 1, error=exc.message, values=values)
        item = result.record
        if not item.written:
            flash(
                request,
                f"Import refusé : {item.rejected} ligne(s) en erreur, aucune ligne écrite (mode tout ou rien).",
                category="error",
            )
        elif item.rejected:
            flash(
                request,
                f"{item.created + item.joined} ligne(s) importée(s) ; {item.rejected} ligne(s) rejetée(s), "
                "listées ci-dessous et à télécharger.",
                category="info",
            )
        else:
            flash(request, f"{item.created + item.joined} ligne(s) importée(s), aucune erreur.", category="success")
        return Redirect(path=f"/patients/imports/{item.id}")

    @get("/{import_id:uuid}", sync_to_thread=True, name="cpam_import_detail")
    def detail(self, db_session: DbSession, import_id: FromPath[uuid.UUID]) -> Template:
        item = db_session.get(CpamImport, import_id)
        if item is None:
            raise NotFoundException("Import introuvable.")
        return Template("patients/import_detail.html", context={"item": item, "rows": rejected_rows(item)})

    @get("/{import_id:uuid}/rejected.csv", sync_to_thread=True, name="cpam_import_rejected")
    def rejected(self, db_session: DbSession, import_id: FromPath[uuid.UUID]) -> Response[bytes]:
        item = db_session.get(CpamImport, import_id)
        if item is None or not item.rejected_csv:
            raise NotFoundException("Aucune ligne rejetée pour cet import.")
        # The rejected lines carry identities: downloading them is recorded.
        record(db_session, "export", "cpam_import", item.id, f"lignes rejetées téléchargées ({item.rejected})")
        db_session.commit()
        return Response(
            ("\ufeff" + item.rejected_csv).encode("utf-8"),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="lignes-rejetees-{item.list_date}.csv"'},
        )
