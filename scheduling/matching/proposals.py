"""Proposals: the 2–3 doctors offered to a patient, with the reasons each one fits.

The same rules serve the SMP (the solver's proposals after an assignment) and the CPTS
procedure (census GPs who accept new patients, for a patient's request): a doctor fits when
they accept new patients, the patient's commune is within their perimeter (radius around the
main site, or their list of communes), and they do home visits / have a PMR-accessible site
when the patient needs it. Doctors with places come first, nearest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from scheduling.matching.domain import Doctor, Patient, Proposal
from scheduling.matching.spatial import haversine_km


def french_number(x: float, decimals: int = 1) -> str:
    """``4.25`` → ``4,3`` (one decimal), ``25.0`` → ``25``: how distances read in French."""
    if decimals and abs(x - round(x)) < 10 ** -(decimals + 1):
        return str(round(x))
    return f"{x:.{decimals}f}".replace(".", ",")


def reasons(
    km: float,
    radius_km: float | None,
    in_radius: bool,
    needs_home_visit: bool,
    needs_pmr: bool,
    places: int | None,
    *,
    assigned: bool = False,
) -> tuple[str, ...]:
    """Why a doctor fits a patient, in French, in a fixed order.

    ``places`` is the number of places the doctor has left (``None``: not limited / not given).
    """
    if in_radius and radius_km is not None:
        why = [f"à {french_number(km)} km (rayon de {french_number(radius_km)} km)"]
    else:
        why = [f"à {french_number(km)} km, commune dans son périmètre"]
    if needs_home_visit:
        why.append("fait des visites à domicile")
    if needs_pmr:
        why.append("cabinet accessible PMR")
    if assigned:
        why.append("place attribuée par l'affectation")
    elif places is None:
        why.append("accepte de nouveaux patients")
    elif places > 0:
        why.append(
            f"accepte de nouveaux patients ({places} place{'s' if places > 1 else ''} libre{'s' if places > 1 else ''})"
        )
    else:
        why.append("liste complète pour le moment")
    return tuple(why)


def fits(patient: Patient, doctor: Doctor) -> tuple[bool, float, bool]:
    """Whether ``doctor`` may take ``patient`` (capacity aside): (fits, km, within the radius)."""
    km = float(haversine_km(patient.lat, patient.lon, doctor.lat, doctor.lon))
    in_radius = doctor.radius_km is not None and km <= doctor.radius_km
    in_communes = doctor.communes is not None and patient.commune is not None and patient.commune in doctor.communes
    ok = (
        doctor.accepting
        and (in_radius or in_communes)
        and (doctor.home_visits or not patient.needs_home_visit)
        and (doctor.pmr or not patient.needs_pmr)
    )
    return ok, km, in_radius


def propose(
    patient: Patient,
    doctors: Sequence[Doctor],
    *,
    k: int = 3,
    remaining: Mapping[str, int | None] | None = None,
    include_full: bool = False,
    assigned_to: str | None = None,
) -> list[Proposal]:
    """The ``k`` best doctors for ``patient``, each with its distance and reasons.

    Order: the doctor ``assigned_to`` (if given and fitting) first, then the fitting doctors with
    places left by distance (ties by id), then — only with ``include_full`` — the fitting doctors
    whose list is full, by distance. ``remaining`` overrides each doctor's ``capacity`` (places
    left after an assignment); ``None`` means not limited.

    CPTS use: ``propose(patient, census_gps, k=3)`` — only GPs who accept new patients, within
    their perimeter, doing home visits / with PMR access when needed.
    """
    found: list[tuple[int, float, str, Doctor, bool, int | None]] = []
    for d in doctors:
        ok, km, in_radius = fits(patient, d)
        if not ok:
            continue
        places = remaining.get(d.id, d.capacity) if remaining is not None else d.capacity
        if d.id == assigned_to:
            rank = 0
        elif places is None or places > 0:
            rank = 1
        elif include_full:
            rank = 2
        else:
            continue
        found.append((rank, km, d.id, d, in_radius, places))
    found.sort(key=lambda t: (t[0], t[1], t[2]))
    return [
        Proposal(
            doctor=d.id,
            km=km,
            reasons=reasons(
                km,
                d.radius_km,
                in_radius,
                patient.needs_home_visit,
                patient.needs_pmr,
                places,
                assigned=rank == 0,
            ),
            assigned=rank == 0,
            has_capacity=rank < 2,
        )
        for rank, km, _, d, in_radius, places in found[:k]
    ]
