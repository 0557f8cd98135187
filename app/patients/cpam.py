"""Importing a CPAM list of patients without a GP (CSV or XLSX, read with pandas).

Every line is validated with the same rules as the request forms; errors are reported by line
(the spreadsheet's line number, the header being line 1) and by column (the file's own header).
Two modes: ``all_or_nothing`` writes nothing when one line is wrong; ``valid_only`` writes the
valid lines and keeps every rejected line, with its reasons, for download. Never a silent drop.

A line joins the person's existing record (same NIR, or same name and birth date); a line whose
person has a declared referring doctor, or lives outside the territory, is recorded and excluded
with the reason; the GP the patient saw three times or more in the year, when the list carries
it, becomes their usual doctor (proposed first). The list's counts (C2S, over 70, under 16, ALD)
are kept per import for the CPTS action card's indicators.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from app.core.errors import FieldErrors
from app.db.engine import immediate
from app.patients.models import Channel, CpamImport
from app.patients.services import PatientService, add_request, france
from sites.communes import Territory, normalise

MODES = {
    "valid_only": "écrire les lignes valides et lister les lignes rejetées",
    "all_or_nothing": "tout ou rien : n'écrire aucune ligne s'il y a une erreur",
}
MAX_LINES = 200_000
MAX_BYTES = 10 * 1024 * 1024
"""Litestar refuses bigger request bodies anyway (its default limit)."""

COLUMNS: dict[str, tuple[str, ...]] = {
    "nir": ("nir", "numero securite sociale", "n securite sociale", "num secu", "matricule"),
    "last_name": ("nom", "nom de naissance", "nom d usage", "nom usage"),
    "first_name": ("prenom",),
    "birth_date": ("date de naissance", "date naissance", "naissance", "ddn"),
    "sex": ("sexe", "genre"),
    "commune": ("commune", "code insee", "code commune", "insee", "commune insee", "ville"),
    "postal_code": ("code postal", "cp"),
    "address": ("adresse",),
    "phone": ("telephone", "tel", "portable"),
    "email": ("email", "e mail", "courriel", "mail"),
    "ald": ("ald",),
    "c2s": ("c2s", "css", "complementaire sante solidaire"),
    "usual_doctor": ("medecin habituel", "medecin consulte", "medecin vu 3 fois", "medecin frequent"),
    "referring_doctor": ("medecin traitant", "medecin traitant declare"),
}
"""Our field -> the headers a CPAM extraction may use for it (accent-, case- and punctuation-free)."""
REQUIRED = ("last_name", "first_name", "birth_date", "sex", "commune")
FIELD_LABELS = {
    "nir": "NIR",
    "last_name": "nom",
    "first_name": "prénom",
    "birth_date": "date de naissance",
    "sex": "sexe",
    "commune": "commune",
    "postal_code": "code postal",
    "address": "adresse",
    "phone": "téléphone",
    "email": "e-mail",
    "ald": "ALD",
    "c2s": "C2S",
    "usual_doctor": "médecin habituel",
    "referring_doctor": "médecin traitant",
}
YES = {"1", "oui", "o", "yes", "y", "true", "vrai", "x"}
NO = {"", "0", "non", "n", "no", "false", "faux"}
SEXES = {"f": "F", "2": "F", "femme": "F", "m": "M", "h": "M", "1": "M", "homme": "M"}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%d/%m/%y")


class ImportRefused(Exception):
    """The file as a whole cannot be read (format, encoding, missing columns): nothing written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class LineError:
    line: int
    column: str
    message: str


@dataclass
class ImportResult:
    record: CpamImport
    errors: list[LineError] = field(default_factory=list)

    @property
    def rejected_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})


def read_table(filename: str, content: bytes) -> pd.DataFrame:
    """The file's cells as text (nothing guessed: a NIR stays a string), or ``ImportRefused``."""
    if not content:
        raise ImportRefused("Le fichier est vide.")
    if len(content) > MAX_BYTES:
        raise ImportRefused(f"Le fichier dépasse {MAX_BYTES // (1024 * 1024)} Mo : découpez-le.")
    name = filename.lower()
    try:
        if name.endswith((".xlsx", ".xlsm")):
            frame = pd.read_excel(io.BytesIO(content), dtype=str, keep_default_na=False, engine="openpyxl")
        elif name.endswith((".csv", ".txt")):
            text = _decode(content)
            sample = text[:20_000]
            try:
                sep = csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", delimiters=";,\t|").delimiter
            except csv.Error:
                sep = ";"
            # index_col=False: a trailing separator must not turn the first column into an index;
            # blank lines are kept (then skipped below) so that line numbers match the file's.
            with warnings.catch_warnings():
                # A trailing separator on the data lines is expected (and harmless with index_col=False).
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                frame = pd.read_csv(
                    io.StringIO(text),
                    sep=sep,
                    dtype=str,
                    keep_default_na=False,
                    skip_blank_lines=False,
                    index_col=False,
                )
        else:
            raise ImportRefused("Format non pris en charge : envoyez un fichier .csv ou .xlsx.")
    except ImportRefused:
        raise
    except Exception as exc:  # pandas/openpyxl raise many kinds for a damaged file
        raise ImportRefused(f"Le fichier n'a pas pu être lu ({type(exc).__name__}) : vérifiez son format.") from None
    # A spreadsheet's own line numbers (header = 1) survive the removal of blank lines.
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    if len(frame):
        frame = frame[~frame.astype(str).apply(lambda column: column.str.strip() == "").all(axis=1)]
    # A file of rejected lines downloaded from here can be fixed and imported again as it is.
    frame = frame.drop(columns=[c for c in ("ligne", "erreurs") if c in frame.columns])
    if frame.empty:
        raise ImportRefused("Le fichier ne contient aucune ligne de patient.")
    if len(frame) > MAX_LINES:
        raise ImportRefused(f"Le fichier compte plus de {MAX_LINES:,} lignes : découpez-le.".replace(",", " "))
    return frame


def _decode(content: bytes) -> str:
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text"
        return content.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused("Encodage du fichier non reconnu : enregistrez-le en UTF-8.")


def map_columns(headers: list[str]) -> dict[str, str]:
    """Our field -> the file's header, or ``ImportRefused`` naming the missing columns."""
    keys = {normalise(str(h)): str(h) for h in headers}
    mapping: dict[str, str] = {}
    for field_name, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in keys:
                mapping[field_name] = keys[alias]
                break
    missing = [FIELD_LABELS[f] for f in REQUIRED if f not in mapping]
    if missing:
        raise ImportRefused(
            "Colonnes obligatoires absentes : "
            + ", ".join(missing)
            + ". Colonnes du fichier : "
            + ", ".join(str(h) for h in headers)
            + "."
        )
    return mapping


EXCEL_EPOCH = dt.date(1899, 12, 30)


def _date(text: str) -> str | None:
    text = text.strip()
    if re.fullmatch(r"\d{4,5}(\.0)?", text):  # an Excel date serial read as a number
        serial = int(float(text))
        return (EXCEL_EPOCH + dt.timedelta(days=serial)).isoformat() if 366 <= serial <= 80_000 else None
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _flag(text: str) -> bool | None:
    t = normalise(text)
    return True if t in YES else False if t in NO else None


INSEE_HEADERS = {"code insee", "code commune", "insee", "commune insee"}


def line_values(
    row: dict[str, str], mapping: dict[str, str], insee_name: Callable[[str], str | None] = lambda _code: None
) -> tuple[dict[str, Any], dict[str, str]]:
    """One line's cells -> the form fields ``PatientService.clean`` reads, plus the errors found
    here (formats the forms do not meet: dates, yes/no, sex codes), by our field name.
    ``insee_name`` names the commune of an INSEE code: a column of INSEE codes is read as such
    (``53200`` is also a postal code of another commune)."""
    cell = {f: str(row.get(h, "") or "").strip() for f, h in mapping.items()}
    # Spreadsheets store codes and phone numbers as numbers: restore their leading zeros.
    for code in ("commune", "postal_code"):
        if re.fullmatch(r"\d{4}(\.0)?", cell.get(code, "")):
            cell[code] = str(int(float(cell[code]))).zfill(5)
    if re.fullmatch(r"[1-9]\d{8}(\.0)?", cell.get("phone", "")):
        cell["phone"] = "0" + str(int(float(cell["phone"])))
    errors: dict[str, str] = {}
    data: dict[str, Any] = {k: cell.get(k, "") for k in ("nir", "last_name", "first_name", "address", "phone", "email")}
    data["usual_doctor"] = cell.get("usual_doctor", "")
    if cell.get("birth_date"):
        iso = _date(cell["birth_date"])
        if iso is None:
            errors["birth_date"] = f"Date de naissance illisible : « {cell['birth_date'][:20]} » (attendu JJ/MM/AAAA)."
        data["birth_date"] = iso or ""
    else:
        data["birth_date"] = ""
    sex = SEXES.get(normalise(cell.get("sex", "")))
    if cell.get("sex") and sex is None:
        errors["sex"] = "Sexe inconnu : F, M, 1 ou 2 attendu."
    data["sex"] = sex or ""
    commune = cell.get("commune", "")
    postal = cell.get("postal_code", "")
    is_code = re.fullmatch(r"\d[\dAB]\d{3}", commune) is not None
    if is_code and normalise(mapping["commune"]) in INSEE_HEADERS and (name := insee_name(commune)):
        commune = f"{name} ({commune})"
    elif commune and postal and not is_code:
        commune = f"{commune} ({postal})"
    data["commune"] = commune
    for flag in ("ald", "c2s"):
        value = _flag(cell.get(flag, ""))
        if value is None:
            errors[flag] = f"{FIELD_LABELS[flag]} : oui ou non attendu, pas « {cell[flag][:20]} »."
        data[flag] = bool(value)
    data["has_gp"] = bool(cell.get("referring_doctor"))
    return data, errors


def import_list(
    session: Session,
    territory: Territory,
    filename: str,
    content: bytes,
    *,
    mode: str,
    actor: str,
    list_date: dt.date | None = None,
) -> ImportResult:
    """Validate every line, then write according to ``mode``; commits. ``ImportRefused`` when the
    file as a whole cannot be used (nothing written, not even the import's record)."""
    if mode not in MODES:
        raise ImportRefused("Mode d'import inconnu.")
    frame = read_table(filename, content)
    headers = [str(h) for h in frame.columns]
    mapping = map_columns(headers)
    today = dt.date.today()
    list_date = list_date or today
    service = PatientService(session=session)

    def insee_name(code: str) -> str | None:
        commune = territory.by_insee(code) or france().by_insee(code)
        return commune.name if commune else None

    valid: list[tuple[int, dict[str, Any], bool]] = []
    errors: list[LineError] = []
    for line, row in zip(frame.index, frame.to_dict(orient="records"), strict=True):
        data, found = line_values(row, mapping, insee_name)
        try:
            values = service.clean(data, territory, today, unique_nir=False, allow_outside=True, require_contact=False)
        except FieldErrors as exc:
            found = {**exc.errors, **found}
            values = {}
        if found:
            for field_name, message in found.items():
                header = mapping.get(field_name, FIELD_LABELS.get(field_name, field_name))
                errors.append(LineError(line, header, message))
            continue
        valid.append((line, values, bool(data["has_gp"])))
    record = CpamImport(
        filename=filename[:255],
        list_date=list_date,
        mode=mode,
        actor=actor[:80],
        imported_at=dt.datetime.now(dt.UTC),
        lines=len(frame),
        created=0,
        joined=0,
        excluded=0,
        written=False,
        rejected=len({e.line for e in errors}),
        rejected_csv=_rejected_csv(frame, errors) if errors else "",
        **_indicators(valid, list_date),
    )
    immediate(session)
    write = not errors or mode == "valid_only"
    if write:
        now = dt.datetime.now(dt.UTC)
        referrer = f"CPAM — liste du {list_date.strftime('%d/%m/%Y')} ({filename[:120]})"
        for _line, values, has_gp in valid:
            intake = add_request(
                session,
                values,
                territory,
                channel=Channel.CPAM_IMPORT,
                actor=actor,
                referrer=referrer,
                has_gp=has_gp,
                now=now,
            )
            if intake.joined:
                record.joined += 1
            else:
                record.created += 1
                record.excluded += intake.excluded is not None
        record.written = True
    session.add(record)
    session.commit()
    return ImportResult(record, errors)


def _indicators(valid: list[tuple[int, dict[str, Any], bool]], on: dt.date) -> dict[str, int]:
    """The CPTS action card's counts among the list's people without a declared GP."""
    counts = {"without_gp": 0, "c2s": 0, "over_70": 0, "under_16": 0, "ald": 0}
    for _line, values, has_gp in valid:
        if has_gp:
            continue
        birth: dt.date = values["birth_date"]
        age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
        counts["without_gp"] += 1
        counts["c2s"] += values["c2s"]
        counts["ald"] += values["ald"]
        counts["over_70"] += age >= 70
        counts["under_16"] += age < 16
    return counts


def _rejected_csv(frame: pd.DataFrame, errors: list[LineError]) -> str:
    """The rejected lines as they came, preceded by their line number and reasons."""
    by_line: dict[int, list[LineError]] = {}
    for e in errors:
        by_line.setdefault(e.line, []).append(e)
    rows = frame.loc[sorted(by_line)].copy()
    rows.insert(
        0, "erreurs", ["; ".join(f"{e.column} : {e.message}" for e in by_line[line]) for line in sorted(by_line)]
    )
    rows.insert(0, "ligne", sorted(by_line))
    return rows.to_csv(sep=";", index=False)
