"""The committee's tables as CSV and XLSX (one sheet per table), small counts suppressed."""

from __future__ import annotations

import io

import pandas as pd

from app.reports.figures import SMALL_COUNT, Report

COUNT_COLUMNS = {
    "enrolled",
    "new",
    "waiting",
    "waiting_nearest",
    "patients",
    "without_gp",
    "c2s",
    "over_70",
    "under_16",
    "ald",
    "panel_capacity",
}
HEADERS = {
    "month": "mois",
    "enrolled": "patients suivis",
    "new": "nouveaux dans le mois",
    "site": "antenne",
    "panel_capacity": "capacité de patientèle",
    "waiting_nearest": "en attente (antenne la plus proche)",
    "weekly_slots": "créneaux par semaine",
    "weekly_booked": "réservés par semaine",
    "occupancy": "taux d'occupation",
    "tier": "niveau de priorité",
    "channel": "canal",
    "waiting": "en attente",
    "median_days": "attente médiane (jours)",
    "p90_days": "attente 90e centile (jours)",
    "reason": "motif",
    "patients": "patients",
    "date": "date",
    "source": "source",
    "without_gp": "sans médecin traitant",
    "c2s": "C2S",
    "over_70": "70 ans et plus",
    "under_16": "moins de 16 ans",
    "ald": "ALD",
    "insee": "code INSEE",
    "commune": "commune",
    "population": "population",
    "per_1000": "en attente pour 1 000 hab.",
}


def suppress(n: object) -> object:
    """A count in an export: the number itself (a spreadsheet can sum it), or « < 5 » below 5."""
    if isinstance(n, int | float) and 0 < n < SMALL_COUNT:
        return "< 5"
    return n


def summary(report: Report) -> pd.DataFrame:
    rows = [
        ("objectif", report.target),
        ("patients avec un médecin traitant du SMP", suppress(report.enrolled)),
        ("demandes en attente", suppress(report.waiting)),
        ("demandes suspendues (injoignables)", suppress(report.suspended)),
        ("capacité de patientèle (plafonds des praticiens actifs)", report.panel_capacity),
        ("créneaux publiés par semaine (4 semaines à venir)", round(report.weekly_slots, 1)),
        ("consultations attendues par semaine", round(report.weekly_demand, 1)),
        ("taux d'occupation des créneaux", None if report.occupancy is None else round(report.occupancy, 3)),
        ("rythme d'inscription (par mois, 3 derniers mois)", round(report.projection.pace_per_month, 1)),
        ("date projetée d'atteinte de l'objectif", report.projection.date or report.projection.reason),
        ("budget annuel (€)", report.budget["annual_eur"]),
        ("budget par patient suivi (€)", report.budget["per_enrolled_patient_eur"]),
        ("budget par consultation (12 derniers mois, €)", report.budget["per_consultation_eur"]),
        ("internes formés", report.interns["trained"]),
        ("séances tenues par des internes", report.interns["sessions_held"]),
        ("internes installés sur le territoire après leur stage", report.interns["settled"]),
    ]
    return pd.DataFrame(rows, columns=["indicateur", "valeur"])


def tables(report: Report) -> dict[str, pd.DataFrame]:
    communes = report.communes.drop(columns=["lat", "lon"]).copy()
    few = (communes["waiting"] > 0) & (communes["waiting"] < 5)
    communes["per_1000"] = communes["per_1000"].astype(object).where(~few, "")
    raw = {
        "synthese": summary(report),
        "tendance": report.trend,
        "antennes": report.by_site,
        "attente_par_niveau": report.by_tier,
        "attente_par_canal": report.by_channel,
        "exclusions": report.exclusions,
        "indicateurs_cpts": report.cpts,
        "communes": communes,
    }
    out = {}
    for name, frame in raw.items():
        frame = frame.copy()
        for column in frame.columns:
            if column in COUNT_COLUMNS and name != "synthese":
                frame[column] = frame[column].map(lambda v: suppress(v) if pd.notna(v) else "")
        out[name] = frame.rename(columns=HEADERS)
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    """Semicolon-separated with a BOM: what French spreadsheets open directly."""
    return ("\ufeff" + frame.to_csv(sep=";", index=False, decimal=",")).encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in tables(report).items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()
