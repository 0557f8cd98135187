"""The ``smp`` command: database, demo data, server, users, lists, solvers and benchmarks.

Every subcommand that reports something prints JSON on stdout with ``--json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from app.settings import get_settings


def _emit(data: Any, as_json: bool, human: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(human if human is not None else json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group()
def main() -> None:
    """SMP Planner — Service Médical de Proximité."""


# --- database -------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def db_upgrade(revision: str, as_json: bool) -> None:
    """Migrate the database to the latest schema (creates the SQLite file if needed)."""
    from app.db.engine import get_engine
    from app.db.migrate import current_revision, upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    rev = current_revision(get_engine())
    _emit(
        {"revision": rev, "database": get_engine().url.render_as_string(hide_password=True)},
        as_json,
        f"Base de données à jour (révision {rev}).",
    )


# --- seeds ----------------------------------------------------------------------------------
@main.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def backup_cmd(target: Path, as_json: bool) -> None:
    """Back up the database to TARGET (SQLite online backup, or pg_dump); owner-only permissions."""
    from app.ops.backup import BackupError, backup
    from app.settings import get_settings

    try:
        size = backup(get_settings().database_url, target)
    except BackupError as exc:
        _fail(as_json, str(exc))
    _emit(
        {"file": str(target), "bytes": size},
        as_json,
        f"Sauvegarde écrite : {target} ({size:,} octets).".replace(",", " "),
    )


@main.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True)
def restore_cmd(source: Path, yes: bool, as_json: bool) -> None:
    """Replace the database by the backup SOURCE (stop the application first)."""
    from app.ops.backup import BackupError, restore
    from app.settings import get_settings

    if not yes:
        click.confirm("Remplacer toute la base par cette sauvegarde ?", abort=True)
    try:
        restore(get_settings().database_url, source)
    except BackupError as exc:
        _fail(as_json, str(exc))
    _emit({"restored": str(source)}, as_json, f"Base restaurée depuis {source}.")


@main.group("patients")
def patients_group() -> None:
    """Patient records: retention."""


@patients_group.command("retention")
@click.option("--dry-run", is_flag=True, help="Count the records due, change nothing.")
@click.option("--json", "as_json", is_flag=True)
def patients_retention(dry_run: bool, as_json: bool) -> None:
    """Anonymise excluded and departed patients whose retention period is over (run daily)."""
    import datetime as dt

    from app.audit.recorder import Actor, acting_as
    from app.db.engine import session_scope
    from app.patients.rgpd import apply_retention

    s = get_settings()
    with acting_as(Actor(None, "system:retention")), session_scope() as session:
        count = apply_retention(
            session,
            dt.date.today(),
            s.retention_excluded_months,
            s.retention_departed_months,
            "système : conservation",
            dry_run=dry_run,
        )
    verb = "à anonymiser" if dry_run else "anonymisés"
    _emit(
        {"rows": count, "dry_run": dry_run},
        as_json,
        f"{count} dossiers {verb} (exclus depuis plus de {s.retention_excluded_months} mois, sortis depuis plus "
        f"de {s.retention_departed_months} mois).",
    )


@main.group()
def audit() -> None:
    """The audit trail of patient records."""


@audit.command("purge")
@click.option("--months", type=click.IntRange(1, 600), default=None, help="Override SMP_AUDIT_RETENTION_MONTHS.")
@click.option("--dry-run", is_flag=True, help="Count what would go, delete nothing.")
@click.option("--json", "as_json", is_flag=True)
def audit_purge(months: int | None, dry_run: bool, as_json: bool) -> None:
    """Delete the audit rows older than the retention period (default 12 months); logged itself."""
    import datetime as dt

    from sqlalchemy import func, select

    from app.audit.models import AuditEntry
    from app.audit.pages import purge
    from app.audit.recorder import Actor, acting_as
    from app.core.dates import add_months
    from app.db.engine import session_scope
    from app.settings import get_settings

    keep = months or get_settings().audit_retention_months
    now = dt.datetime.now(dt.UTC)
    before = dt.datetime.combine(add_months(now.date(), -keep), dt.time.min, dt.UTC)
    with acting_as(Actor(None, "system:audit-purge")), session_scope() as session:
        if dry_run:
            count = session.scalar(select(func.count()).where(AuditEntry.occurred_at < before)) or 0
        else:
            count = purge(session, before)
    verb = "à supprimer" if dry_run else "supprimées"
    _emit(
        {"before": before.date().isoformat(), "rows": count, "dry_run": dry_run},
        as_json,
        f"Journal d'audit : {count} lignes antérieures au {before.date().strftime('%d/%m/%Y')} {verb} "
        f"(conservation : {keep} mois).",
    )


@main.group()
def seed() -> None:
    """Reference and demo data."""


@seed.command("demo")
@click.option("--patients", default=2000, show_default=True, type=click.IntRange(0, 2_000_000))
@click.option("--seed", "seed_value", default=53, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already holds a site.")
@click.option(
    "--cpts",
    is_flag=True,
    help="Build the CPTS demo in the Vienne instead (needs SMP_DEPARTEMENTS=86 and its own database).",
)
@click.option("--json", "as_json", is_flag=True)
def seed_demo_cmd(patients: int, seed_value: int, if_empty: bool, cpts: bool, as_json: bool) -> None:
    """Build the demo Mayenne SMP, or with --cpts the Vienne CPTS (idempotent, deterministic)."""
    from sqlalchemy import func, select

    from app.audit.recorder import Actor, acting_as
    from app.db.engine import session_scope
    from app.sites.models import Site
    from app.web.territory import current_territory
    from seeds.demo import seed_demo

    if cpts:
        _seed_cpts(as_json)
        return
    with acting_as(Actor(None, "system:seed-demo")), session_scope() as session:
        if if_empty and (session.scalar(select(func.count()).select_from(Site)) or 0) > 0:
            _emit(
                {"skipped": True, "reason": "database not empty"},
                as_json,
                "Base déjà remplie : données de démonstration non chargées.",
            )
            return
        report = seed_demo(session, current_territory(), patients=patients, seed=seed_value)
    lines = [
        f"Clinique de démonstration prête en {report.seconds:.1f} s : {report.sites} antennes, "
        f"{report.clinicians} praticiens, {report.patients_total} patients ({report.patients_created} ajoutés), "
        f"{report.sessions_published} séances publiées, {report.bookings} rendez-vous.",
        "Comptes (mot de passe commun « "
        + (report.accounts[0]["password"] if report.accounts else "")
        + " ») : "
        + ", ".join(f"{a['username']} ({a['role']})" for a in report.accounts),
    ]
    _emit(report.as_dict(), as_json, "\n".join(lines))


def _seed_cpts(as_json: bool) -> None:
    import time

    from app.audit.recorder import Actor, acting_as
    from app.db.engine import session_scope
    from app.web.territory import current_territory
    from seeds.cpts import seed_cpts_demo

    started = time.perf_counter()
    with acting_as(Actor(None, "system:seed-demo")), session_scope() as session:
        try:
            report = seed_cpts_demo(session, current_territory())
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    lines = [
        f"CPTS de démonstration (Vienne) prête en {time.perf_counter() - started:.1f} s : "
        f"{report.communes} communes autour de Loudun, {report.census} médecins recensés.",
        *(
            f"Liste CPAM du {i['list_date']} : {i['lines']} lignes, {i['without_gp']} sans médecin traitant "
            f"dont {i['under_16']} de moins de 16 ans, {i['ald']} en ALD, {i['over_70']} de 70 ans et plus, "
            f"{i['c2s']} C2S."
            for i in report.imports
        ),
        "Comptes (mot de passe commun « "
        + (report.accounts[0]["password"] if report.accounts else "")
        + " ») : "
        + ", ".join(f"{a['username']} ({a['role']})" for a in report.accounts),
    ]
    _emit(
        {"communes": report.communes, "census": report.census, "imports": report.imports, "accounts": report.accounts},
        as_json,
        "\n".join(lines),
    )


# --- server ---------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web application with uvicorn."""
    import uvicorn

    from app.web.server import NoDelayH11Protocol

    get_settings()  # fail fast on a bad setting
    click.echo(f"SMP Planner sur http://{host}:{port}  (Ctrl+C pour arrêter)")
    uvicorn.run(
        "app.asgi:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
        access_log=False,
        http=NoDelayH11Protocol,
    )


# --- users ----------------------------------------------------------------------------------
@main.group()
def user() -> None:
    """User accounts."""


@user.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "coordinator", "secretary", "clinician", "committee", "partner"]),
)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--full-name", default="")
@click.option("--email", default="")
@click.option("--clinician-rpps", default=None, help="Link a clinician account to this clinician.")
@click.option("--json", "as_json", is_flag=True)
def user_create(
    username: str,
    role: str,
    password: str,
    full_name: str,
    email: str,
    clinician_rpps: str | None,
    as_json: bool,
) -> None:
    """Create a user account."""
    from sqlalchemy import select

    from app.accounts.services import UserService
    from app.clinicians.models import Clinician
    from app.core.errors import FieldErrors
    from app.db.engine import session_scope

    with session_scope() as session:
        clinician_id = None
        if clinician_rpps:
            clinician_id = session.scalar(select(Clinician.id).where(Clinician.rpps == clinician_rpps))
            if clinician_id is None:
                raise click.ClickException(f"Aucun praticien avec le RPPS {clinician_rpps}.")
        try:
            created = UserService(session=session).create_user(
                username.strip().lower(),
                role,
                password,
                full_name=full_name,
                email=email,
                clinician_id=clinician_id,
            )
        except FieldErrors as exc:
            if as_json:
                _emit({"created": False, "errors": exc.errors}, True)
                sys.exit(1)
            raise click.ClickException(" ".join(exc.errors.values())) from exc
        _emit(
            {"created": True, "id": str(created.id), "username": created.username, "role": created.role},
            as_json,
            f"Compte « {created.username} » créé ({created.role}).",
        )


@user.command("token")
@click.argument("username")
@click.option("--name", default="CLI")
def user_token(username: str, name: str) -> None:
    """Print a new personal API token for USERNAME (shown once)."""
    from sqlalchemy import select

    from app.accounts.models import User
    from app.accounts.services import UserService
    from app.db.engine import session_scope

    with session_scope() as session:
        account = session.scalar(select(User).where(User.username == username.strip().lower()))
        if account is None:
            raise click.ClickException(f"Compte inconnu : {username}")
        click.echo(UserService(session=session).issue_token(account, name))


# --- lists ----------------------------------------------------------------------------------
@main.group()
def clinicians() -> None:
    """Clinicians."""


@clinicians.command("list")
@click.option("--json", "as_json", is_flag=True)
def clinicians_list(as_json: bool) -> None:
    import msgspec
    from sqlalchemy import select

    from app.clinicians.models import Clinician
    from app.clinicians.schemas import clinician_out
    from app.db.engine import session_scope

    with session_scope() as session:
        rows = [
            msgspec.to_builtins(clinician_out(c))
            for c in session.scalars(select(Clinician).order_by(Clinician.last_name)).unique()
        ]
    human = "\n".join(f"{r['last_name'].upper()} {r['first_name']} · {r['role']} · RPPS {r['rpps']}" for r in rows)
    _emit(rows, as_json, human or "Aucun praticien.")


@main.group()
def sites() -> None:
    """Sites (antennes)."""


@sites.command("list")
@click.option("--json", "as_json", is_flag=True)
def sites_list(as_json: bool) -> None:
    import msgspec
    from sqlalchemy import select

    from app.db.engine import session_scope
    from app.sites.models import Site
    from app.sites.schemas import site_out
    from app.web.territory import commune_name

    with session_scope() as session:
        rows = [
            msgspec.to_builtins(site_out(s, commune_name(s.commune_insee)))
            for s in session.scalars(select(Site).order_by(Site.name))
        ]
    human = "\n".join(f"{r['name']} · {r['commune_name']} · {r['rooms']} salle(s)" for r in rows)
    _emit(rows, as_json, human or "Aucune antenne.")


# --- rota ---------------------------------------------------------------------------------
@main.group()
def rota() -> None:
    """The consultation rota (CP-SAT)."""


@rota.command("solve")
@click.option(
    "--problem",
    "problem_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Solve a problem file in format v1 (no database).",
)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (with --to: from the database).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day, inclusive.")
@click.option("--publish", is_flag=True, help="Publish the result (database mode; refused if a rule is broken).")
@click.option("--time-limit", type=int, default=None, help="Seconds (default: the problem's, then settings).")
@click.option("--json", "as_json", is_flag=True)
def rota_solve(
    problem_file: str | None, start: Any, end: Any, publish: bool, time_limit: int | None, as_json: bool
) -> None:
    """Solve the rota of a problem file, or of a period from the database."""
    from scheduling.rota.formats import ProblemFormatError, parse_problem, solution_to_dict
    from scheduling.rota.solver import solve

    settings = get_settings()
    if problem_file:
        if start or end or publish:
            _fail(as_json, "--problem ne se combine pas avec --from, --to ou --publish.")
        try:
            with open(problem_file, encoding="utf-8") as fh:
                problem = parse_problem(json.load(fh))
        except json.JSONDecodeError as exc:
            _fail(as_json, f"JSON illisible : {exc}")
        except ProblemFormatError as exc:
            _fail(as_json, str(exc), getattr(exc, "path", None))
        solution = solve(
            problem,
            time_limit_s=time_limit or problem.time_limit_s or settings.solver_time_limit_s,
            seed=settings.solver_seed,
            workers=settings.solver_workers,
        )
        result = solution_to_dict(solution)
        _emit(
            result,
            as_json,
            f"{result['status']} : {len(result['assignments'])} séances, "
            f"{len(result['unmet'])} demi-journées incomplètes, coût {result['objective']}.",
        )
        return
    if not (start and end):
        _fail(as_json, "Indiquez --problem FICHIER, ou --from et --to.")
    from app.audit.recorder import Actor, acting_as
    from app.db.engine import session_scope
    from app.rota import drafts
    from app.rota.models import RotaDraft
    from app.rota.problem import build_problem, item_of

    with acting_as(Actor(None, "system:rota-solve")), session_scope() as session:
        problem = build_problem(
            session, start.date(), end.date(), time_limit_s=time_limit or settings.solver_time_limit_s
        )
        solution = solve(
            problem, time_limit_s=problem.time_limit_s, seed=settings.solver_seed, workers=settings.solver_workers
        )
        result = solution_to_dict(solution)
        pins = set(problem.pinned)
        draft = RotaDraft(
            start_date=start.date(),
            end_date=end.date(),
            created_by="cli",
            result=result,
            assignments=[item_of(k, pinned=k in pins) for k in sorted(solution.assignments)],
        )
        session.add(draft)
        session.commit()
        result["draft"] = str(draft.id)
        if publish:
            if not solution.has_rota:
                _fail(as_json, "Aucun planning à publier : " + "; ".join(solution.conflicts))
            report = drafts.publish(session, draft, "cli")
            result["published"] = report.__dict__
    _emit(
        result,
        as_json,
        f"{result['status']} : {len(result['assignments'])} séances"
        + (", publiées." if publish else f" (projet {result['draft']})."),
    )


@main.command("worker")
@click.option("--once", is_flag=True, help="Run the queued jobs, then stop (instead of waiting for more).")
@click.option("--poll", default=2.0, show_default=True, type=click.FloatRange(0.1, 60), help="Seconds between looks.")
def worker(once: bool, poll: float) -> None:
    """Run rota solver jobs from the queue; several workers (several machines) share it on PostgreSQL."""
    from app.audit.recorder import Actor, acting_as
    from app.db.engine import get_engine, session_factory
    from app.rota.jobs import work

    click.echo("Calculs de planning : en attente de travail (Ctrl+C pour arrêter).")
    with acting_as(Actor(None, "system:rota-worker")):
        try:
            count = work(session_factory(get_engine()), once=once, poll_s=poll)
        except KeyboardInterrupt:
            return
    click.echo(f"{count} calcul(s) effectué(s).")


@rota.command("run-job", hidden=True)
@click.argument("job_id")
def rota_run_job(job_id: str) -> None:
    """Run one queued solve job (started by the web application)."""
    import uuid

    from app.audit.recorder import Actor, acting_as
    from app.db.engine import get_engine, session_factory
    from app.rota.jobs import run_job

    with acting_as(Actor(None, "system:rota-worker")):
        job = run_job(session_factory(get_engine()), uuid.UUID(job_id))
    click.echo(f"job {job.id}: {job.status}")


# --- calendar feeds ---------------------------------------------------------------------
@main.group()
def ical() -> None:
    """iCal feeds of the rota."""


@ical.command("url")
@click.option("--clinician", "clinician_ref", required=True, help="The clinician's id or RPPS.")
@click.option("--json", "as_json", is_flag=True)
def ical_url(clinician_ref: str, as_json: bool) -> None:
    """Print the feed URL of one clinician's sessions (created on first use, owned by their account)."""
    import uuid

    from sqlalchemy import or_, select

    from app.accounts.models import User
    from app.calendars import services
    from app.calendars.models import CalendarFeed
    from app.clinicians.models import Clinician
    from app.db.engine import session_scope

    with session_scope() as session:
        try:
            as_id: uuid.UUID | None = uuid.UUID(clinician_ref)
        except ValueError:
            as_id = None
        clinician = session.scalar(select(Clinician).where(or_(Clinician.rpps == clinician_ref, Clinician.id == as_id)))
        if clinician is None:
            _fail(as_json, f"Aucun praticien « {clinician_ref} » (id ou RPPS).")
        account = session.scalar(select(User).where(User.clinician_id == clinician.id))
        if account is None:
            _fail(
                as_json,
                f"{clinician.display_name} n'a pas de compte : créez-le avec « smp user create … "
                f"--role clinician --clinician-rpps {clinician.rpps} ».",
            )
        feed = session.scalar(
            select(CalendarFeed).where(
                CalendarFeed.user_id == account.id, CalendarFeed.kind == "clinician", CalendarFeed.revoked_at.is_(None)
            )
        )
        if feed is None:
            feed = services.create_feed(session, account, "clinician")
        url = services.feed_url(feed)
    _emit({"clinician": str(clinician.id), "url": url}, as_json, url)


# --- imports --------------------------------------------------------------------------------
@main.group("import")
def import_() -> None:
    """Load data files (every line checked; errors by line and column)."""


@import_.command("sites")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def import_sites(path: str, as_json: bool) -> None:
    """Load a site catalogue (CSV: name,commune,address,rooms,open,pmr,slot_minutes,phone).

    Sites already known by name are left as they are; a file with any bad line loads nothing.
    """
    from pathlib import Path

    from sqlalchemy import select

    from app.db.engine import session_scope
    from app.sites.models import Site
    from app.web.territory import current_territory
    from seeds.demo import site_from_spec
    from sites.catalogue import CatalogueInvalid, parse_catalogue

    try:
        specs = parse_catalogue(Path(path), current_territory())
    except CatalogueInvalid as exc:
        if as_json:
            errors = [{"line": e.line, "column": e.column, "message": e.message} for e in exc.errors]
            click.echo(json.dumps({"created": 0, "errors": errors}, ensure_ascii=False))
            sys.exit(1)
        raise click.ClickException("fichier refusé, rien n'a été chargé :\n" + str(exc)) from exc
    created, kept = [], []
    with session_scope() as session:
        for spec in specs:
            if session.scalar(select(Site.id).where(Site.name == spec.name)) is None:
                session.add(site_from_spec(spec))
                created.append(spec.name)
            else:
                kept.append(spec.name)
    _emit(
        {"created": created, "unchanged": kept},
        as_json,
        f"{len(created)} antenne(s) créée(s), {len(kept)} déjà connue(s).",
    )


@import_.command("cpam")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--mode",
    type=click.Choice(["valid_only", "all_or_nothing"]),
    default="valid_only",
    show_default=True,
    help="valid_only : lignes valides écrites, rejetées listées ; all_or_nothing : rien s'il y a une erreur.",
)
@click.option("--list-date", help="Date de la liste (AAAA-MM-JJ), par défaut aujourd'hui.")
@click.option("--rejected", "rejected_path", type=click.Path(dir_okay=False), help="Écrire les lignes rejetées (CSV).")
@click.option("--json", "as_json", is_flag=True)
def import_cpam(path: str, mode: str, list_date: str | None, rejected_path: str | None, as_json: bool) -> None:
    """Import a CPAM list of patients without a GP (CSV or XLSX); exit 1 when lines were rejected."""
    import datetime as dt
    import time
    from pathlib import Path

    import app.db.models  # noqa: F401  (every table, for the foreign keys)
    from app.audit.recorder import Actor, acting_as
    from app.db.engine import session_scope
    from app.patients.cpam import ImportRefused, import_list
    from app.web.territory import current_territory

    try:
        day = dt.date.fromisoformat(list_date) if list_date else None
    except ValueError:
        _fail(as_json, f"date de liste invalide : {list_date!r} (AAAA-MM-JJ attendu)")
    started = time.perf_counter()
    file = Path(path)
    try:
        with acting_as(Actor(None, "system:import-cpam")), session_scope() as session:
            result = import_list(
                session, current_territory(), file.name, file.read_bytes(), mode=mode, actor="cli", list_date=day
            )
            item = result.record
            payload: dict[str, Any] = {
                "import": str(item.id),
                "written": item.written,
                "lines": item.lines,
                "created": item.created,
                "joined": item.joined,
                "excluded": item.excluded,
                "rejected": item.rejected,
                "indicators": {k: getattr(item, k) for k in ("without_gp", "c2s", "over_70", "under_16", "ald")},
                "errors": [{"line": e.line, "column": e.column, "message": e.message} for e in result.errors],
                "wall_s": round(time.perf_counter() - started, 3),
            }
            if rejected_path and item.rejected_csv:
                Path(rejected_path).write_text(item.rejected_csv, encoding="utf-8")
    except ImportRefused as exc:
        _fail(as_json, exc.message, path)
    human = (
        f"{payload['lines']} lignes : {payload['created']} nouvelles demandes ({payload['excluded']} exclues), "
        f"{payload['joined']} rattachées, {payload['rejected']} rejetées"
        + ("" if payload["written"] else " — rien n'a été écrit (tout ou rien)")
        + f" en {payload['wall_s']:.1f} s."
        + "".join(f"\n  ligne {e['line']}, {e['column']} : {e['message']}" for e in payload["errors"][:50])
    )
    _emit(payload, as_json, human)
    if payload["rejected"]:
        sys.exit(1)


# --- referring-doctor assignment -----------------------------------------------------------
@main.command()
@click.option(
    "--problem",
    "problem_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A matching problem in format v1 (see docs/matching.md); without it, the database.",
)
@click.option("--confirm", is_flag=True, help="Database mode: assign the matched patients.")
@click.option("--json", "as_json", is_flag=True)
def match(problem_file: str | None, confirm: bool, as_json: bool) -> None:
    """Assign waiting patients to referring doctors (exact min-cost flow)."""
    from scheduling.matching import ProblemFormatError, load_problem, solution_to_json, solve

    if problem_file:
        if confirm:
            _fail(as_json, "--confirm s'applique à la base de données, pas à un fichier.")
        try:
            problem = load_problem(problem_file)
        except ProblemFormatError as exc:
            _fail(as_json, str(exc), getattr(exc, "path", None))
        result = solution_to_json(solve(problem))
    else:
        from app.audit.recorder import Actor, acting_as
        from app.db.engine import session_scope
        from app.patients.assignment import run
        from app.web.territory import current_territory

        with acting_as(Actor(None, "system:match")), session_scope() as session:
            result = run(session, current_territory(), confirm=confirm)
    saved = (
        " (enregistré)."
        if confirm
        else "."
        if problem_file
        else " (propositions gardées pour la page d'attribution ; rien n'est attribué sans --confirm)."
    )
    human = (
        f"{result['status']} en {result['wall_s']:.2f} s : {len(result['assignments'])} patients attribués, "
        f"{len(result['unassigned'])} sans médecin{saved}"
    )
    _emit(result, as_json, human)


def _fail(as_json: bool, message: str, path: str | None = None) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"error": message, "path": path}, ensure_ascii=False))
        sys.exit(2)
    raise click.ClickException(message)


# --- steering committee ---------------------------------------------------------------------
@main.group()
def report() -> None:
    """The steering committee's figures."""


@report.command("capacity")
@click.option("--json", "as_json", is_flag=True)
def report_capacity(as_json: bool) -> None:
    """Capacity and enrolment against the target, with the projected date (raw counts: run it on the server)."""
    import app.db.models  # noqa: F401  (every table)
    from app.db.engine import session_scope
    from app.reports.controllers import report_for

    with session_scope() as session:
        payload = report_for(session).contract()
    human = (
        f"{payload['enrolled']} patients suivis sur un objectif de {payload['target']}, "
        f"{payload['waiting']} en attente ; "
        f"capacité {payload['panel_capacity']} places ; {payload['weekly_slots']} créneaux par semaine pour "
        f"{payload['weekly_demand']} consultations attendues ; objectif atteint le "
        f"{payload['projection_date'] or '— (' + payload['projection_reason'] + ')'}."
    )
    _emit(payload, as_json, human)


# --- benchmarks -----------------------------------------------------------------------------
@main.group()
def bench() -> None:
    """Benchmarks that print figures (never timed assertions in tests)."""


@bench.command("match")
@click.option("--sizes", default="mayenne,france", show_default=True)
@click.option("--no-certify", is_flag=True, help="Skip the independent optimality checks.")
@click.option("--json", "as_json", is_flag=True)
def bench_match(sizes: str, no_certify: bool, as_json: bool) -> None:
    """Referring-doctor assignment: 10,000 × 15 (Mayenne) and 1,000,000 × 5,000 (France)."""
    from scheduling.matching.bench import format_table, run_benchmark

    figures = run_benchmark([s.strip() for s in sizes.split(",") if s.strip()], certify=not no_certify)
    _emit(figures, as_json, format_table(figures))


@bench.command("rota")
@click.option("--sizes", default="demo,departement", show_default=True)
@click.option("--time-limit", default=60, show_default=True, type=int, help="Seconds per solve.")
@click.option("--json", "as_json", is_flag=True)
def bench_rota(sizes: str, time_limit: int, as_json: bool) -> None:
    """Rota: demo size (15 clinicians, 5 sites, 4 weeks) and département size (100, 20, 13 weeks)."""
    from scheduling.rota.bench import format_table, run_benchmark

    figures = run_benchmark(sizes=tuple(s.strip() for s in sizes.split(",") if s.strip()), time_limit_s=time_limit)
    _emit(figures, as_json, format_table(figures))


@bench.command("ical")
@click.option("--months", default=12, show_default=True, type=int)
@click.option("--repeat", default=50, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True)
def bench_ical(months: int, repeat: int, as_json: bool) -> None:
    """Server time of a clinician's feed holding N months of sessions (fresh SQLite database)."""
    import datetime as dt
    import statistics
    import tempfile
    import time
    from pathlib import Path

    from litestar.testing import TestClient
    from sqlalchemy import select

    from app.accounts.models import User
    from app.asgi import create_app
    from app.audit.recorder import Actor, acting_as
    from app.calendars import services
    from app.db.engine import make_engine, session_scope
    from app.db.migrate import upgrade
    from app.rota.models import RotaSession
    from app.rota.times import bounds
    from app.settings import load_settings
    from app.web.territory import current_territory
    from seeds.demo import seed_demo

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        engine = make_engine(url)
        with acting_as(Actor(None, "system:bench")), session_scope(engine) as session:
            seed_demo(session, current_territory(), patients=100, publish_rota=False)
            account = session.scalar(select(User).where(User.username == "medecin"))
            assert account is not None and account.clinician is not None and account.clinician.main_site is not None
            clinician = account.clinician
            site = clinician.main_site
            assert site is not None
            day, now = dt.date.today(), dt.datetime.now(dt.UTC)
            count = 0
            while day < dt.date.today() + dt.timedelta(days=30 * months):
                if day.weekday() in (0, 2, 3):  # three half-days a week
                    starts, ends = bounds(day, "am")
                    session.add(
                        RotaSession(
                            site_id=site.id,
                            clinician_id=clinician.id,
                            date=day,
                            period="am",
                            starts_at=starts,
                            ends_at=ends,
                            published_at=now,
                        )
                    )
                    count += 1
                day += dt.timedelta(days=1)
            session.flush()
            token = services.feed_token(services.create_feed(session, account, "clinician").id)
        engine.dispose()
        import os

        os.environ["SMP_DATABASE_URL"] = url
        from app.db.engine import get_engine

        get_engine.cache_clear()
        settings = load_settings()
        import logging

        logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines would print the feed token
        times = []
        cold = []
        with TestClient(app=create_app(settings)) as client:
            started = time.perf_counter()
            size = len(client.get(f"/ical/{token}.ics").content)
            first = (time.perf_counter() - started) * 1000
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(f"/ical/{token}.ics")
                times.append((time.perf_counter() - started) * 1000)
            for _ in range(max(5, repeat // 5)):
                services._CACHE.clear()  # a feed whose sessions just changed: rendered again
                started = time.perf_counter()
                client.get(f"/ical/{token}.ics")
                cold.append((time.perf_counter() - started) * 1000)
            etag = client.get(f"/ical/{token}.ics").headers["etag"]
            started = time.perf_counter()
            for _ in range(repeat):
                client.get(f"/ical/{token}.ics", headers={"If-None-Match": etag})
            not_modified = (time.perf_counter() - started) * 1000 / repeat
        times.sort()
        cold.sort()
    figures = {
        "sessions": count,
        "bytes": size,
        "repeat": repeat,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
        "changed_p50_ms": round(statistics.median(cold), 1),
        "changed_max_ms": round(cold[-1], 1),
        "not_modified_mean_ms": round(not_modified, 1),
        "first_render_ms": round(first, 1),
        "database": "sqlite",
    }
    _emit(
        figures,
        as_json,
        f"Flux d'un praticien, {count} séances sur {months} mois ({size} octets), SQLite : "
        f"p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms ; après un changement du "
        f"planning (nouveau rendu) p50 {figures['changed_p50_ms']} ms ; 304 (If-None-Match) "
        f"{figures['not_modified_mean_ms']} ms en moyenne ; tout premier rendu du processus "
        f"{figures['first_render_ms']} ms ({repeat} requêtes).",
    )


@bench.command("http")
@click.option(
    "--database-url", default=None, help="An EMPTY PostgreSQL database to use (default: a temporary SQLite file)."
)
@click.option("--patients", default=100_000, show_default=True, type=int)
@click.option("--clients", default=50, show_default=True, type=int)
@click.option("--seconds", default=20.0, show_default=True, type=float)
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes (uvicorn workers).")
@click.option(
    "--think-ms",
    default=0.0,
    show_default=True,
    type=float,
    help="Mean pause of each client between requests (0: saturation, no pause).",
)
@click.option("--json", "as_json", is_flag=True)
def bench_http(
    database_url: str | None,
    patients: int,
    clients: int,
    seconds: float,
    workers: int,
    think_ms: float,
    as_json: bool,
) -> None:
    """Slot search and booking with N concurrent clients, a year of sessions, the production server."""
    from app.bench.http import format_figures, run
    from app.settings import normalise_database_url

    figures = run(
        normalise_database_url(database_url) if database_url else None,
        patients=patients,
        clients=clients,
        seconds=seconds,
        workers=workers,
        think_ms=think_ms,
    )
    _emit(figures, as_json, format_figures(figures))


@bench.command("report")
@click.option(
    "--database-url", default=None, help="An EMPTY PostgreSQL database to use (default: a temporary SQLite file)."
)
@click.option("--patients", default=100_000, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True)
def bench_report(database_url: str | None, patients: int, as_json: bool) -> None:
    """The committee dashboard's server time with N patients and two years of history."""
    from app.bench.report import format_figures, run
    from app.settings import normalise_database_url

    figures = run(normalise_database_url(database_url) if database_url else None, patients=patients)
    _emit(figures, as_json, format_figures(figures))


@bench.command("soak")
@click.option("--clients", default=50, show_default=True, type=click.IntRange(1, 500))
@click.option("--seconds", default=300.0, show_default=True, type=click.FloatRange(5, 7200))
@click.option("--json", "as_json", is_flag=True)
def bench_soak(clients: int, seconds: float, as_json: bool) -> None:
    """Many clients for minutes against the real server: errors and the server's memory over time."""
    from app.bench.soak import format_figures, run

    figures = run(clients=clients, seconds=seconds)
    _emit(figures, as_json, format_figures(figures))


@bench.command("pages")
@click.option("--patients", default=2000, show_default=True, type=int)
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True)
def bench_pages(patients: int, repeats: int, as_json: bool) -> None:
    """Server time and JS+CSS weight of every page, as every role, on the demo clinic."""
    from app.bench.pages import format_table, run

    figures = run(patients=patients, repeats=repeats)
    _emit(figures, as_json, format_table(figures))


@bench.command("seed")
@click.option("--patients", default=100_000, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True)
def bench_seed(patients: int, as_json: bool) -> None:
    """Time `smp seed demo --patients N` on a fresh SQLite database in a temporary folder."""
    import tempfile
    import time
    from pathlib import Path

    from app.audit.recorder import Actor, acting_as
    from app.db.engine import make_engine, session_scope
    from app.db.migrate import upgrade
    from app.web.territory import current_territory
    from seeds.demo import seed_demo

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        started = time.perf_counter()
        upgrade(url)
        migrated = time.perf_counter() - started
        engine = make_engine(url)
        with acting_as(Actor(None, "system:bench")), session_scope(engine) as session:
            report = seed_demo(session, current_territory(), patients=patients, seed=7)
        total = time.perf_counter() - started
        engine.dispose()
    figures = {
        "patients": report.patients_total,
        "migrate_s": round(migrated, 2),
        "seed_s": round(report.seconds, 2),
        "total_s": round(total, 2),
        "database": "sqlite",
    }
    _emit(
        figures,
        as_json,
        f"{patients} patients : migration {migrated:.1f} s, chargement {report.seconds:.1f} s, "
        f"total {total:.1f} s (SQLite).",
    )


from app.notifications.cli import reminders  # noqa: E402  (a ready-made group mounted here)

main.add_command(reminders)

if __name__ == "__main__":
    main()
