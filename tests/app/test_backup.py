"""`smp backup` and `smp restore`: a round trip brings the database back as it was; a damaged
backup is refused and leaves the database untouched."""

import os
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

SMP = str(Path(sys.executable).parent / "smp")


def _smp(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SMP_DATABASE_URL": url, "SMP_VAR_DIR": str(tmp_path / "var")}
    return subprocess.run([SMP, *args], capture_output=True, text=True, env=env, timeout=300)


def _sites(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = {r[0] for r in conn.execute(text("SELECT name FROM site"))}
    engine.dispose()
    return names


def _run(url: str, sql: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _add_site(url: str, name: str) -> None:
    from sqlalchemy.orm import Session

    from app.sites.models import Site

    engine = create_engine(url)
    with Session(engine) as session:
        session.add(Site(name=name, commune_insee="53130", lat=48.07, lon=-0.77, rooms=2, opening_halfdays=[]))
        session.commit()
    engine.dispose()


def test_a_backup_and_restore_round_trip(scratch_database: str, tmp_path: Path) -> None:
    _add_site(scratch_database, "Avant")
    target = tmp_path / "backups" / "smp.backup"
    made = _smp(scratch_database, tmp_path, "backup", str(target), "--json")
    assert made.returncode == 0, made.stderr
    assert target.exists() and stat.S_IMODE(target.stat().st_mode) == 0o600  # health data: owner only
    # Life goes on: a site added, the first one gone.
    _add_site(scratch_database, "Après")
    _run(scratch_database, "DELETE FROM site WHERE name = 'Avant'")
    assert _sites(scratch_database) == {"Après"}
    back = _smp(scratch_database, tmp_path, "restore", str(target), "--yes", "--json")
    assert back.returncode == 0, back.stderr
    assert _sites(scratch_database) == {"Avant"}
    # A damaged backup is refused; the database stays as it is.
    broken = tmp_path / "broken.backup"
    data = target.read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    refused = _smp(scratch_database, tmp_path, "restore", str(broken), "--yes", "--json")
    assert refused.returncode != 0
    assert _sites(scratch_database) == {"Avant"}
