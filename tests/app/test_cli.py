"""The ``smp`` command as other tools use it: JSON on stdout, clear errors, exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

SMP = str(Path(sys.executable).parent / "smp")


def smp(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SMP, *args], capture_output=True, text=True, env=os.environ.copy(), input=input, timeout=120)


def test_sites_list_json_prints_the_sites(demo):
    out = smp("sites", "list", "--json")
    assert out.returncode == 0, out.stderr
    names = {s["name"] for s in json.loads(out.stdout)}
    assert {"Laval", "Ernée"} <= names


def test_clinicians_list_json_prints_rpps_and_roles(demo):
    rows = json.loads(smp("clinicians", "list", "--json").stdout)
    assert {"retired_gp", "intern", "coordinator"} <= {r["role"] for r in rows}
    assert all(len(r["rpps"]) == 11 for r in rows)


def test_db_upgrade_is_idempotent_and_reports_the_revision(demo):
    out = smp("db", "upgrade", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["revision"]


def test_user_create_refuses_a_short_password_and_creates_with_a_good_one(demo):
    bad = smp("user", "create", "nouvelle.secretaire", "--role", "secretary", "--password", "court", "--json")
    assert bad.returncode == 1
    assert "password" in json.loads(bad.stdout)["errors"]
    ok = smp("user", "create", "nouvelle.secretaire", "--role", "secretary", "--password", "un-bon-mot-de-passe")
    assert ok.returncode == 0 and "créé" in ok.stdout


def test_user_token_prints_a_token_that_opens_the_api(demo, client):
    out = smp("user", "token", "secretariat1")
    token = out.stdout.strip()
    assert token.startswith("smp_")
    assert client.get("/api/sites", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert smp("user", "token", "personne").returncode != 0


def test_seed_demo_if_empty_does_nothing_on_a_filled_database(demo):
    out = smp("seed", "demo", "--if-empty", "--json")
    assert json.loads(out.stdout) == {"skipped": True, "reason": "database not empty"}


def test_import_sites_loads_a_catalogue_and_refuses_a_bad_one_whole(demo, tmp_path, db):
    from sqlalchemy import select

    from app.sites.models import Site

    header = "name,commune,address,rooms,open,pmr,slot_minutes,phone\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "Renazé,53188,,1,mon-am,oui,20,\nGorron,Gotham,,1,mon-am,oui,20,\n", encoding="utf-8")
    refused = smp("import", "sites", str(bad), "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["errors"] == [
        {"line": 3, "column": "commune", "message": "commune inconnue sur le territoire : « Gotham »"}
    ]
    db.rollback()
    assert db.scalar(select(Site.id).where(Site.name == "Renazé")) is None
    good = tmp_path / "good.csv"
    good.write_text(header + "Renazé,53188,,1,mon-am,oui,20,\nLaval,53130,,4,mon-am,oui,20,\n", encoding="utf-8")
    loaded = json.loads(smp("import", "sites", str(good), "--json").stdout)
    assert loaded == {"created": ["Renazé"], "unchanged": ["Laval"]}
