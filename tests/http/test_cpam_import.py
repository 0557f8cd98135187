"""Importing a CPAM list (CSV and XLSX): every line checked, errors by line and column, either
nothing written or the valid lines written with every rejected line listed for download."""

import io
import re
import uuid

from openpyxl import Workbook
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.patients.models import CpamImport, Patient, PatientRequest
from tests.app.test_cli import smp
from tests.conftest import csrf_token

HEADER = "NIR;Nom;Prénom;Date de naissance;Sexe;Commune;Code postal;Téléphone;ALD;C2S;Médecin habituel;Médecin traitant"


def _tag() -> str:
    return "Cpam" + "".join(c for c in uuid.uuid4().hex if c.isalpha())[:6].capitalize()


def _csv(tag: str) -> bytes:
    lines = [
        HEADER,
        f";{tag}a;Jeanne;03/04/1950;F;Laval;53000;0612345678;oui;non;Dr Dupont;",  # line 2: usual doctor
        f";{tag}b;Paul;31/02/1990;M;Évron;;;non;non;;",  # line 3: no 31 February
        f";{tag}c;Lou;2015-06-01;2;53130;;;non;oui;;",  # line 4: INSEE code, sex as 2
        f";{tag}d;Marc;01/01/1960;M;Rennes;35000;;non;non;;",  # line 5: outside the territory
        f";{tag}e;Anne;01/01/1970;F;Atlantide;;;non;non;;",  # line 6: no such commune
        f";{tag}f;Luc;01/01/1940;M;Mayenne;;;non;non;;Dr Legrand",  # line 7: has a referring doctor
        f";{tag}g;Rose;12/12/1945;F;Craon;;;oui;oui;;",  # line 8
    ]
    return "\n".join(lines).encode("utf-8")


def _upload(client, name: str, content: bytes, mode: str = "valid_only", list_date: str = "2026-11-02"):
    page = client.get("/patients/imports")
    return client.post(
        "/patients/imports",
        data={"_csrf_token": csrf_token(page.text), "mode": mode, "list_date": list_date},
        files={"file": (name, content, "text/csv")},
        follow_redirects=True,
    )


def _patients(db, tag: str) -> dict[str, Patient]:
    db.rollback()
    return {p.last_name: p for p in db.scalars(select(Patient).where(Patient.last_name.like(f"{tag}%")))}


def test_valid_lines_are_written_and_each_rejected_line_is_listed_with_its_column(as_user, db):
    tag = _tag()
    client = as_user("secretariat1")
    page = _upload(client, "liste-cpam.csv", _csv(tag))
    assert page.status_code == 200
    assert "5 ligne(s) importée(s) ; 2 ligne(s) rejetée(s)" in page.text
    assert "Lignes rejetées (2)" in page.text
    assert "Date de naissance : Date de naissance illisible" in page.text
    assert "Commune : Commune inconnue" in page.text
    patients = _patients(db, tag)
    assert sorted(patients) == [f"{tag}{x}" for x in "acdfg"]
    assert all(p.channel == "cpam_import" for p in patients.values())
    assert patients[f"{tag}a"].usual_doctor == "Dr Dupont" and patients[f"{tag}a"].ald
    assert patients[f"{tag}c"].sex == "F" and patients[f"{tag}c"].commune_insee == "53130"
    assert patients[f"{tag}d"].status == "excluded" and "hors du territoire" in patients[f"{tag}d"].exclusion_reason
    assert patients[f"{tag}f"].status == "excluded" and "médecin traitant" in patients[f"{tag}f"].exclusion_reason
    assert patients[f"{tag}g"].status == "requested"
    item = db.scalar(
        select(CpamImport).where(CpamImport.filename == "liste-cpam.csv").order_by(CpamImport.imported_at.desc())
    )
    assert (item.lines, item.created, item.excluded, item.rejected, item.written) == (7, 5, 2, 2, True)
    # The action card's counts, among the valid lines without a declared GP (a, c, d, g):
    assert (item.without_gp, item.ald, item.c2s, item.over_70, item.under_16) == (4, 2, 2, 2, 1)
    assert str(item.list_date) == "2026-11-02"

    download = client.get(f"/patients/imports/{item.id}/rejected.csv")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    text = download.content.decode("utf-8-sig")
    rows = text.strip().splitlines()
    assert rows[0].startswith("ligne;erreurs;NIR;Nom")
    assert rows[1].startswith("3;") and f"{tag}b" in rows[1] and rows[2].startswith("6;") and f"{tag}e" in rows[2]
    db.rollback()
    assert db.scalar(select(func.count()).where(AuditEntry.action == "export", AuditEntry.object_id == str(item.id)))


def test_all_or_nothing_writes_no_patient_when_one_line_is_wrong(as_user, db):
    tag = _tag()
    client = as_user("secretariat2")
    page = _upload(client, "tout-ou-rien.csv", _csv(tag), mode="all_or_nothing")
    assert "aucune ligne écrite" in page.text and "Lignes rejetées (2)" in page.text
    assert _patients(db, tag) == {}
    item = db.scalar(select(CpamImport).where(CpamImport.filename == "tout-ou-rien.csv"))
    assert item.written is False and item.rejected == 2


def test_an_xlsx_list_joins_a_person_already_on_file_by_nir(as_user, db, demo):
    known = db.scalar(select(Patient).where(Patient.nir.is_not(None)).order_by(Patient.reference).offset(11).limit(1))
    requests_before = db.scalar(select(func.count()).where(PatientRequest.patient_id == known.id))
    tag = _tag()
    book = Workbook()
    sheet = book.active
    sheet.append(["NIR", "NOM", "PRENOM", "DATE_NAISSANCE", "SEXE", "CODE_INSEE", "ALD", "C2S"])
    sheet.append([known.nir, known.last_name, known.first_name, known.birth_date, known.sex, known.commune_insee, 0, 0])
    sheet.append(["", f"{tag}x", "Ana", "2019-05-05", "F", "53147", "non", "oui"])
    buffer = io.BytesIO()
    book.save(buffer)
    client = as_user("secretariat1")
    page = _upload(client, "liste.xlsx", buffer.getvalue())
    assert "2 ligne(s) importée(s), aucune erreur" in page.text, page.text[page.text.find("<main") :][:3000]
    db.rollback()
    channels = db.scalars(select(PatientRequest.channel).where(PatientRequest.patient_id == known.id)).all()
    assert len(channels) == requests_before + 1 and channels.count("cpam_import") >= 1
    assert list(_patients(db, tag)) == [f"{tag}x"]


def test_a_file_without_the_required_columns_is_refused_and_nothing_is_written(as_user, db):
    before = db.scalar(select(func.count()).select_from(CpamImport))
    client = as_user("secretariat1")
    page = _upload(client, "mauvais.csv", b"nom;prenom\nDurand;Jean\n")
    assert page.status_code == 400
    assert "Colonnes obligatoires absentes : date de naissance, sexe, commune" in page.text
    assert "rien n'a été enregistré" in page.text
    page = _upload(client, "liste.pdf", b"%PDF-1.4")
    assert page.status_code == 400 and "Format non pris en charge" in page.text
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CpamImport)) == before


def test_smp_import_cpam_prints_the_errors_and_exits_1_when_lines_are_rejected(tmp_path, db, demo):
    import json

    tag = _tag()
    path = tmp_path / "liste.csv"
    path.write_bytes(_csv(tag))
    out = smp("import", "cpam", str(path), "--json", "--rejected", str(tmp_path / "rejet.csv"))
    assert out.returncode == 1, out.stderr
    result = json.loads(out.stdout)
    assert result["created"] == 5 and result["rejected"] == 2
    assert {(e["line"], e["column"]) for e in result["errors"]} == {(3, "Date de naissance"), (6, "Commune")}
    assert (tmp_path / "rejet.csv").read_text().startswith("ligne;erreurs")
    clean = tmp_path / "propre.csv"
    clean.write_text(HEADER + f"\n;{tag}z;Yves;01/01/1980;M;Laval;;;non;non;;\n")
    ok = smp("import", "cpam", str(clean), "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["created"] == 1


def test_the_downloaded_rejected_lines_can_be_fixed_and_imported_again(as_user, db):
    tag = _tag()
    client = as_user("secretariat1")
    _upload(client, "premier.csv", _csv(tag))
    db.rollback()
    item = db.scalar(
        select(CpamImport).where(CpamImport.filename == "premier.csv").order_by(CpamImport.imported_at.desc())
    )
    rejected = client.get(f"/patients/imports/{item.id}/rejected.csv").content
    # Re-imported as it is (still wrong): listed again, no 500; then fixed: imported.
    again = _upload(client, "rejets.csv", rejected)
    assert again.status_code == 200 and "Lignes rejetées (2)" in again.text
    fixed = rejected.decode("utf-8-sig").replace("31/02/1990", "28/02/1990").replace("Atlantide", "Laval").encode()
    done = _upload(client, "rejets-corriges.csv", fixed)
    assert "2 ligne(s) importée(s), aucune erreur" in done.text
    assert {f"{tag}b", f"{tag}e"} <= set(_patients(db, tag))


def test_line_numbers_survive_blank_lines_and_a_trailing_separator(as_user, db):
    tag = _tag()
    content = "\n".join(
        [
            "Nom;Prénom;Date de naissance;Sexe;Commune;Téléphone",
            f"{tag}a;Anne;01/02/1950;F;Laval;612345678;",
            "",
            f"{tag}b;Bruno;30/02/1961;M;Laval;;",
            f"{tag}c;Chloé;2012-03-03;F;Craon;;",
        ]
    ).encode()
    client = as_user("secretariat2")
    page = _upload(client, "lignes.csv", content)
    assert "Lignes rejetées (1)" in page.text
    assert re.search(r'<th scope="row" class="num">4</th><td>Date de naissance', page.text)
    patients = _patients(db, tag)
    assert patients[f"{tag}a"].phone.replace(" ", "") == "0612345678"  # the spreadsheet's lost leading zero
    assert patients[f"{tag}c"].commune_insee == "53084"
