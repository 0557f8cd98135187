"""Jinja2 configuration: French dates, half-day labels, flash messages, the static asset URLs."""

from __future__ import annotations

from pathlib import Path

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from app.core.dates import PARIS, date_fr, datetime_fr, number_fr
from app.core.halfdays import ALL_HALFDAYS, WORKING_HALFDAYS, halfday_label

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"
__all__ = ["PARIS", "TEMPLATES_DIR", "build_template_config"]


def build_template_config() -> TemplateConfig[JinjaTemplateEngine]:
    def configure(engine: JinjaTemplateEngine) -> None:
        env = engine.engine
        env.filters.update(date_fr=date_fr, datetime_fr=datetime_fr, number_fr=number_fr, halfday=halfday_label)
        env.globals.update(ALL_HALFDAYS=ALL_HALFDAYS, WORKING_HALFDAYS=WORKING_HALFDAYS, halfday_label=halfday_label)
        env.globals["htmx_js"] = "/static/vendor/htmx-2.0.11.min.js"
        env.autoescape = True

    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=configure)
