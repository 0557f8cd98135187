"""Server-rendered SVG charts for the committee: they work without JavaScript and in print, and
each carries a text alternative (``<title>`` and ``<desc>``, plus the table beside it)."""

from __future__ import annotations

import datetime as dt
import math
from html import escape

import pandas as pd

from app.reports.figures import SMALL_COUNT, Report

MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
BLUE, GREY, ORANGE, DARK = "#005a9c", "#8a8a8a", "#b35c00", "#1b1b1b"
# Waiting per 1,000 inhabitants: five classes, light to dark (readable in grey print too).
CLASSES = [(0.0, "#f1f5f9"), (1.0, "#c6dbef"), (2.5, "#6baed6"), (5.0, "#2171b5"), (10.0, "#08306b")]


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def _month(day: dt.date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year % 100:02d}"


def enrolment_curve(report: Report, width: int = 720, height: int = 300) -> str:
    """Patients with a referring doctor, month by month, against the target; the projection dashed."""
    trend = report.trend
    projected = [
        (d, v) for d, v in report.projection.months if report.projection.date is None or d <= report.projection.date
    ]
    projected = projected[:36]
    points = [(row.month, float(row.enrolled)) for row in trend.itertuples()]
    all_days = [d for d, _ in points] + [d for d, _ in projected]
    top = max([report.target, *(v for _, v in points), *(v for _, v in projected)]) * 1.08
    left, right, top_pad, bottom = 64, 16, 16, 40
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    first, last = all_days[0], all_days[-1]
    span = max((last - first).days, 1)

    def x(day: dt.date) -> float:
        return left + plot_w * (day - first).days / span

    def y(value: float) -> float:
        return top_pad + plot_h * (1 - value / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="curve-title curve-desc" class="chart">',
        '<title id="curve-title">Patients avec un médecin traitant du SMP, par mois, et objectif</title>',
        f'<desc id="curve-desc">{_n(report.enrolled)} patients aujourd\'hui pour un objectif de {_n(report.target)}'
        + (
            f" ; au rythme des trois derniers mois, objectif atteint fin {_month(report.projection.date)}."
            if report.projection.date
            else f" ; projection : {escape(report.projection.reason)}."
        )
        + "</desc>",
    ]
    for i in range(5):
        value = top / 1.08 * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#e2e2e2"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11" fill="{DARK}">{_n(value)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{y(report.target):.1f}" y2="{y(report.target):.1f}" '
        f'stroke="{ORANGE}" stroke-width="2" stroke-dasharray="2 3"/>'
        f'<text x="{width - right}" y="{y(report.target) - 6:.1f}" text-anchor="end" font-size="12" fill="{ORANGE}">'
        f"objectif {_n(report.target)}</text>"
    )
    if points:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(d):.1f},{y(v):.1f}" for i, (d, v) in enumerate(points))
        parts.append(f'<path d="{path}" fill="none" stroke="{BLUE}" stroke-width="3"/>')
    if projected and points:
        path = f"M{x(points[-1][0]):.1f},{y(points[-1][1]):.1f} " + " ".join(
            f"L{x(d):.1f},{y(v):.1f}" for d, v in projected
        )
        parts.append(f'<path d="{path}" fill="none" stroke="{BLUE}" stroke-width="2" stroke-dasharray="6 4"/>')
    step = max(1, len(all_days) // 8)
    for d in all_days[::step]:
        parts.append(
            f'<text x="{x(d):.1f}" y="{height - bottom + 18}" text-anchor="middle" font-size="11" fill="{DARK}">{_month(d)}</text>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 4}" font-size="11" fill="{DARK}">— réalisé   - - - projection au rythme des 3 derniers mois</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def capacity_bars(by_site: pd.DataFrame, width: int = 720) -> str:
    """Per site: patients enrolled against the panel capacity of its clinicians."""
    rows = list(by_site.itertuples())
    bar, gap, left, right = 22, 14, 210, 110
    height = max(1, len(rows)) * (bar + gap) + 30
    top = max([1, *(int(r.panel_capacity) for r in rows), *(int(r.enrolled) for r in rows)])
    scale = (width - left - right) / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="bars-title" class="chart"><title id="bars-title">Patientèle par antenne : patients '
        f"suivis (barre pleine) sur la capacité des praticiens (cadre)</title>"
    ]
    for i, r in enumerate(rows):
        y0 = 10 + i * (bar + gap)
        shown = _count(int(r.enrolled))
        parts.append(
            f'<text x="{left - 8}" y="{y0 + bar * 0.7:.1f}" text-anchor="end" font-size="12" fill="{DARK}">{escape(str(r.site))}</text>'
            f'<rect x="{left}" y="{y0}" width="{int(r.panel_capacity) * scale:.1f}" height="{bar}" fill="none" stroke="{GREY}"/>'
            f'<rect x="{left}" y="{y0}" width="{int(r.enrolled) * scale:.1f}" height="{bar}" fill="{BLUE}"/>'
            f'<text x="{left + max(int(r.panel_capacity), int(r.enrolled)) * scale + 6:.1f}" y="{y0 + bar * 0.7:.1f}" '
            f'font-size="12" fill="{DARK}">{shown} / {_n(int(r.panel_capacity))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _count(n: int) -> str:
    return "< 5" if 0 < n < SMALL_COUNT else _n(n)


def commune_map(communes: pd.DataFrame, width: int = 520, height: int = 560) -> str:
    """The territory's communes at their real position, a disc per commune sized by population and
    shaded by waiting patients per 1,000 inhabitants; communes with fewer than 5 patients waiting
    are drawn hatched-grey so that no small count can be read back."""
    if communes.empty:
        return ""
    lat0 = math.radians(float(communes["lat"].mean()))
    xs = communes["lon"] * math.cos(lat0)
    ys = communes["lat"]
    pad = 20
    sx = (width - 2 * pad - 150) / max(float(xs.max() - xs.min()), 1e-6)
    sy = (height - 2 * pad) / max(float(ys.max() - ys.min()), 1e-6)
    s = min(sx, sy)
    big = max(float(communes["population"].max()), 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="map-title map-desc" class="chart map">',
        '<title id="map-title">Patients en attente pour 1 000 habitants, par commune</title>',
        '<desc id="map-desc">Chaque disque est une commune, à sa position ; sa taille suit la population, sa '
        "couleur le nombre de patients en attente pour 1 000 habitants. Les communes de moins de 5 patients "
        "en attente sont en gris. Le tableau qui suit donne les communes les plus touchées.</desc>",
        '<defs><pattern id="few" width="4" height="4" patternUnits="userSpaceOnUse">'
        '<rect width="4" height="4" fill="#f4f4f4"/><path d="M0,4 L4,0" stroke="#bbb" stroke-width="1"/></pattern></defs>',
    ]
    for row, px, py in zip(communes.itertuples(), xs, ys, strict=True):
        cx = pad + (px - float(xs.min())) * s
        cy = height - pad - (py - float(ys.min())) * s
        r = 2 + 12 * math.sqrt(float(row.population) / big)
        if 0 < int(row.waiting) < SMALL_COUNT:
            fill = "url(#few)"
        else:
            fill = next(c for t, c in reversed(CLASSES) if (row.per_1000 or 0) >= t)
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{fill}" stroke="#555" stroke-width="0.4">'
            f"<title>{escape(str(row.commune))}</title></circle>"
        )
    lx = width - 150
    parts.append(f'<text x="{lx}" y="{pad + 4}" font-size="12" fill="{DARK}">en attente / 1 000 hab.</text>')
    labels = ["0 à 1", "1 à 2,5", "2,5 à 5", "5 à 10", "10 et plus"]
    for i, ((_, color), label) in enumerate(zip(CLASSES, labels, strict=True)):
        y0 = pad + 14 + i * 20
        parts.append(
            f'<rect x="{lx}" y="{y0}" width="16" height="14" fill="{color}" stroke="#555" stroke-width="0.4"/>'
            f'<text x="{lx + 22}" y="{y0 + 11}" font-size="12" fill="{DARK}">{label}</text>'
        )
    y0 = pad + 14 + len(CLASSES) * 20
    parts.append(
        f'<rect x="{lx}" y="{y0}" width="16" height="14" fill="url(#few)" stroke="#555" stroke-width="0.4"/>'
        f'<text x="{lx + 22}" y="{y0 + 11}" font-size="12" fill="{DARK}">moins de 5 patients</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
