"""The CPTS action card's indicators: among the patients without a GP of each CPAM list, how many
are C2S, over 70, under 16, ALD — a table and a chart over the lists' dates (target: stable or
falling). Aggregates only: no person can be singled out from them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.patients.models import CpamImport
from app.reports.charts import BLUE, DARK, GREY, ORANGE

SERIES = (
    ("without_gp", "sans médecin traitant", DARK, ""),
    ("under_16", "moins de 16 ans", BLUE, ""),
    ("ald", "en ALD", ORANGE, "6 4"),
    ("c2s", "bénéficiaires de la C2S", GREY, "2 3"),
    ("over_70", "70 ans et plus", "#2e7d32", "10 3 2 3"),
)
"""Each line: key, label, colour and dash (so that the lines differ without colour too)."""


@dataclass(frozen=True)
class Point:
    list_date: dt.date
    without_gp: int
    under_16: int
    ald: int
    c2s: int
    over_70: int

    def value(self, key: str) -> int:
        return int(getattr(self, key))


def series(session: Session) -> list[Point]:
    """One point per CPAM list date (the latest import of a date counts, refused imports left out)."""
    by_date: dict[dt.date, Point] = {}
    for row in session.scalars(
        select(CpamImport).where(CpamImport.written.is_(True)).order_by(CpamImport.list_date, CpamImport.imported_at)
    ):
        by_date[row.list_date] = Point(row.list_date, row.without_gp, row.under_16, row.ald, row.c2s, row.over_70)
    return [by_date[d] for d in sorted(by_date)]


def trend(points: list[Point], key: str) -> str:
    """``en baisse`` / ``stable`` / ``en hausse`` between the first and the last list (±2 % is stable)."""
    if len(points) < 2:
        return "une seule liste"
    first, last = points[0].value(key), points[-1].value(key)
    if first == 0:
        return "stable" if last == 0 else "en hausse"
    change = (last - first) / first
    return "stable" if abs(change) <= 0.02 else ("en baisse" if change < 0 else "en hausse")


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def chart(points: list[Point], width: int = 720, height: int = 320) -> str:
    """The five counts over the lists' dates, as an SVG line chart with its text alternative."""
    left, right, top_pad, bottom = 64, 170, 16, 40
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max([1, *(p.without_gp for p in points)]) * 1.1
    first, last = points[0].list_date, points[-1].list_date
    span = max((last - first).days, 1)

    def x(day: dt.date) -> float:
        return left + (plot_w * (day - first).days / span if len(points) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top_pad + plot_h * (1 - value / top)

    latest = points[-1]
    desc = (
        f"Liste du {latest.list_date.strftime('%d/%m/%Y')} : "
        + ", ".join(f"{_n(latest.value(k))} {label}" for k, label, _, _ in SERIES)
        + f" ; {len(points)} liste(s) depuis le {first.strftime('%d/%m/%Y')}."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="ind-title ind-desc" class="chart">',
        '<title id="ind-title">Indicateurs CPTS par liste CPAM</title>',
        f'<desc id="ind-desc">{escape(desc)}</desc>',
    ]
    for i in range(5):
        value = top / 1.1 * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#e2e2e2"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11" fill="{DARK}">'
            f"{_n(value)}</text>"
        )
    for n, (key, label, colour, dash) in enumerate(SERIES):
        coords = [(x(p.list_date), y(p.value(key))) for p in points]
        path = " ".join(f"{'M' if i == 0 else 'L'}{cx:.1f},{cy:.1f}" for i, (cx, cy) in enumerate(coords))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
        for cx, cy in coords:
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{colour}"/>')
        # The legend: a sample of the line (its dash tells it apart without colour) and its label.
        ly = top_pad + 12 + 22 * n
        lx = width - right + 14
        parts.append(
            f'<line x1="{lx}" x2="{lx + 28}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
            f'<text x="{lx + 34}" y="{ly + 4}" font-size="11" fill="{DARK}">{escape(label)}</text>'
        )
    for p in points:
        parts.append(
            f'<text x="{x(p.list_date):.1f}" y="{height - bottom + 18}" text-anchor="middle" font-size="11" '
            f'fill="{DARK}">{p.list_date.strftime("%m/%Y")}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
