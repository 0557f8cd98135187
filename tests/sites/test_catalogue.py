"""Site catalogues: every bad cell named by line and column, nothing half-loaded."""

from pathlib import Path

import pytest

from sites.catalogue import CatalogueInvalid, parse_catalogue
from sites.communes import Territory

HEADER = "name,commune,address,rooms,open,pmr,slot_minutes,phone\n"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sites.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_the_demo_catalogue_loads_five_real_sites():
    specs = parse_catalogue(Path("seeds/data/mayenne_sites.csv"), Territory(["53"]))
    assert [s.name for s in specs][:2] == ["Laval", "Château-Gontier-sur-Mayenne"]
    laval = specs[0]
    assert laval.commune.insee == "53130" and laval.rooms == 4 and laval.open[-1] == "sat-am" and laval.pmr


def test_every_bad_cell_is_reported_with_its_line_and_column(tmp_path):
    path = write(
        tmp_path,
        "Craon,Craon,,2,mon-am,oui,20,\nCraon,Atlantide,,-1,sun-pm,peut-être,3,\n,53130,,x,mon-am,non,20,\n",
    )
    with pytest.raises(CatalogueInvalid) as exc:
        parse_catalogue(path, Territory(["53"]))
    found = {(e.line, e.column) for e in exc.value.errors}
    assert {
        (3, "name"),
        (3, "commune"),
        (3, "rooms"),
        (3, "open"),
        (3, "pmr"),
        (3, "slot_minutes"),
        (4, "name"),
        (4, "rooms"),
    } <= found
    assert (2, "commune") not in found
    assert "ligne 3, colonne « commune »" in str(exc.value)


def test_a_missing_column_is_named(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("name,commune\nLaval,53130\n", encoding="utf-8")
    with pytest.raises(CatalogueInvalid) as exc:
        parse_catalogue(path, Territory(["53"]))
    assert {e.column for e in exc.value.errors} >= {"rooms", "open"}
