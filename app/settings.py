"""Application settings, read once from the environment.

Only ``SMP_DATABASE_URL`` and ``SMP_SECRET_KEY`` matter to start; everything else has a sane default.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting has a value the application cannot run with."""


def _var_dir() -> Path:
    return Path(os.environ.get("SMP_VAR_DIR", PROJECT_ROOT / "var"))


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings and pick the drivers the project ships (psycopg 3, sqlite3)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not (url.startswith("postgresql+psycopg://") or url.startswith("sqlite")):
        raise SettingsError(f"SMP_DATABASE_URL must be a PostgreSQL or SQLite URL, got {url.split(':', 1)[0]!r}")
    return url


def _read_or_create_secret(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def _int_env(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be ≥ {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    """SQLAlchemy URL of the database (``SMP_DATABASE_URL``); default: SQLite file ``var/smp.sqlite3``."""
    secret_key: str
    """Signs sessions and CSRF tokens (``SMP_SECRET_KEY``); generated into ``var/secret_key`` when absent."""
    var_dir: Path
    """Where the SQLite database, the generated secret and job files live (``SMP_VAR_DIR``)."""
    departements: tuple[str, ...] = ("53",)
    """The territory: one or more département codes (``SMP_DEPARTEMENTS``, comma-separated)."""
    secure_cookies: bool = False
    """Send cookies only over HTTPS (``SMP_SECURE_COOKIES=1`` behind a TLS reverse proxy)."""
    login_rate_limit_per_minute: int = 10
    """Login attempts allowed per minute and client (``SMP_LOGIN_RATE_LIMIT``)."""
    solver_time_limit_s: int = 10
    """Default CP-SAT time limit for a rota solve (``SMP_SOLVER_TIME_LIMIT``)."""
    solver_workers: int = 8
    """CP-SAT worker count (``SMP_SOLVER_WORKERS``); 8 starts its full portfolio even on 2 cores."""
    solver_seed: int = 0
    external_workers: bool = False
    """Solver jobs are run by separate ``smp worker`` processes, possibly on other machines
    (``SMP_SOLVER_WORKERS_EXTERNAL=1``); otherwise the web process starts one per job."""
    """CP-SAT random seed (``SMP_SOLVER_SEED``), so a solve can be repeated."""
    base_url: str = "http://127.0.0.1:8000"
    """Public address of the application, used in calendar feed URLs (``SMP_BASE_URL``)."""
    page_size: int = 25
    """Rows per page on long lists."""
    target_patients: int = 10_000
    """The SMP's enrolment target (``SMP_TARGET_PATIENTS``)."""
    visits_per_year: int = 4
    """Expected consultations per enrolled patient and year, for the demand (``SMP_VISITS_PER_YEAR``)."""
    annual_budget_eur: int = 561_600
    """The SMP's annual budget in euros (``SMP_ANNUAL_BUDGET``), for the cost per patient and consultation."""
    audit_retention_months: int = 12
    """How long audit rows are kept before ``smp audit purge`` removes them (``SMP_AUDIT_RETENTION_MONTHS``)."""
    retention_excluded_months: int = 12
    """An excluded request is anonymised this long after its exclusion (``SMP_RETENTION_EXCLUDED_MONTHS``)."""
    retention_departed_months: int = 36
    """A patient who left, moved or died is anonymised this long after (``SMP_RETENTION_DEPARTED_MONTHS``)."""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secret_bytes(self) -> bytes:
        """32 bytes derived from the secret key, for the session cookie cipher."""
        import hashlib

        return hashlib.sha256(self.secret_key.encode()).digest()


def load_settings() -> Settings:
    var_dir = _var_dir()
    url = os.environ.get("SMP_DATABASE_URL") or f"sqlite:///{var_dir / 'smp.sqlite3'}"
    secret = os.environ.get("SMP_SECRET_KEY") or _read_or_create_secret(var_dir)
    if len(secret) < 16:
        raise SettingsError("SMP_SECRET_KEY must be at least 16 characters long")
    deps = tuple(d.strip().upper() for d in os.environ.get("SMP_DEPARTEMENTS", "53").split(",") if d.strip())
    if not deps:
        raise SettingsError("SMP_DEPARTEMENTS must name at least one département code, e.g. 53")
    return Settings(
        database_url=normalise_database_url(url),
        secret_key=secret,
        var_dir=var_dir,
        departements=deps,
        secure_cookies=os.environ.get("SMP_SECURE_COOKIES", "0") in {"1", "true", "yes"},
        login_rate_limit_per_minute=_int_env("SMP_LOGIN_RATE_LIMIT", 10, 1),
        solver_time_limit_s=_int_env("SMP_SOLVER_TIME_LIMIT", 10, 1),
        solver_workers=_int_env("SMP_SOLVER_WORKERS", 8, 1),
        solver_seed=_int_env("SMP_SOLVER_SEED", 0, 0),
        external_workers=os.environ.get("SMP_SOLVER_WORKERS_EXTERNAL", "0") in {"1", "true", "yes"},
        base_url=os.environ.get("SMP_BASE_URL", "http://127.0.0.1:8000"),
        target_patients=_int_env("SMP_TARGET_PATIENTS", 10_000, 1),
        visits_per_year=_int_env("SMP_VISITS_PER_YEAR", 4, 1),
        annual_budget_eur=_int_env("SMP_ANNUAL_BUDGET", 561_600, 0),
        audit_retention_months=_int_env("SMP_AUDIT_RETENTION_MONTHS", 12, 1),
        retention_excluded_months=_int_env("SMP_RETENTION_EXCLUDED_MONTHS", 12, 1),
        retention_departed_months=_int_env("SMP_RETENTION_DEPARTED_MONTHS", 36, 1),
    )


@cache
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return load_settings()
