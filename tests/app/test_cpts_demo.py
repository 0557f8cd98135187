"""`smp seed demo --cpts`: the Vienne CPTS in a database of its own, its CPAM list of June 2023
reproducing the action card's diagnosis exactly, through the real import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

SMP = str(Path(sys.executable).parent / "smp")


def _seed(url: str, tmp_path: Path, departements: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SMP_DATABASE_URL": url,
        "SMP_DEPARTEMENTS": departements,
        "SMP_VAR_DIR": str(tmp_path / "var"),
    }
    return subprocess.run(
        [SMP, "seed", "demo", "--cpts", "--json"], capture_output=True, text=True, env=env, timeout=600
    )


def test_the_vienne_cpts_demo_reproduces_the_action_card_diagnosis(scratch_database: str, tmp_path: Path) -> None:
    out = _seed(scratch_database, tmp_path, "86")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["census"] == 40
    assert report["communes"] >= 30
    june = next(i for i in report["imports"] if i["list_date"] == "2023-06-30")
    assert (june["without_gp"], june["under_16"], june["ald"], june["over_70"], june["c2s"]) == (
        5299,
        2808,
        267,
        224,
        355,
    )
    engine = create_engine(scratch_database)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT list_date, without_gp, under_16, ald, over_70, c2s FROM cpam_import ORDER BY list_date")
        ).all()
        assert len(rows) == 2
        first, later = rows
        assert tuple(first[1:]) == (5299, 2808, 267, 224, 355)
        # The later list shows the trend the action card aims at: every indicator lower.
        assert all(b < a for a, b in zip(first[1:], later[1:], strict=True))
        # Real communes of the Vienne, every census GP among them.
        communes = {r[0] for r in conn.execute(text("SELECT commune_insee FROM census_gp"))}
        assert communes and all(c.startswith("86") for c in communes)
        # The patients of the lists are on the waiting list (those with a referring doctor excluded).
        waiting = conn.execute(text("SELECT count(*) FROM patient WHERE status = 'requested'")).scalar()
        excluded = conn.execute(text("SELECT count(*) FROM patient WHERE status = 'excluded'")).scalar()
        assert waiting >= 5299 and excluded >= 120
        patients = conn.execute(text("SELECT count(*) FROM patient")).scalar()
    engine.dispose()
    # A second run adds nothing.
    again = _seed(scratch_database, tmp_path, "86")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["imports"] == [] and json.loads(again.stdout)["census"] == 0
    engine = create_engine(scratch_database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM patient")).scalar() == patients
    engine.dispose()


def test_the_cpts_demo_outside_the_vienne_says_how_to_run_it(scratch_database: str, tmp_path: Path) -> None:
    out = _seed(scratch_database, tmp_path, "53")
    assert out.returncode != 0
    assert "SMP_DEPARTEMENTS=86" in out.stderr
