"""Who is within reach of whom: a grid index over places and vectorised great-circle distances.

The solver never builds a dense patient × doctor matrix. Patients are first reduced to their
distinct places (a commune centroid holds many patients); each doctor then looks up the places
within their radius through a latitude/longitude grid, and exact distances are computed only
for the places in the grid cells the doctor's bounding box touches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sites.geo import EARTH_RADIUS_KM

_EPS_DEG = 1e-9


def haversine_km(
    lat1: np.ndarray | float, lon1: np.ndarray | float, lat2: np.ndarray | float, lon2: np.ndarray | float
) -> np.ndarray:
    """Great-circle distance in km, element-wise with broadcasting (same formula as ``sites.geo``)."""
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


class GridIndex:
    """Points bucketed in square latitude/longitude cells, sorted by cell.

    A query for a disc returns a superset of the points in it from whole cells (one contiguous
    slice per grid row), then keeps those at great-circle distance ≤ radius.
    """

    def __init__(self, lat: np.ndarray, lon: np.ndarray, cell_deg: float = 0.25) -> None:
        self.lat = np.asarray(lat, dtype=np.float64)
        self.lon = np.asarray(lon, dtype=np.float64)
        self.cell = float(cell_deg)
        self.ncols = math.ceil(360.0 / self.cell) + 1
        self.nrows = math.ceil(180.0 / self.cell) + 1
        keys = self._row(self.lat) * self.ncols + self._col(self.lon)
        self.order = np.argsort(keys, kind="stable")
        self.keys = keys[self.order]

    def _row(self, lat: np.ndarray | float) -> np.ndarray:
        return np.clip(np.floor((np.asarray(lat) + 90.0) / self.cell), 0, self.nrows - 1).astype(np.int64)

    def _col(self, lon: np.ndarray | float) -> np.ndarray:
        return np.clip(np.floor((np.asarray(lon) + 180.0) / self.cell), 0, self.ncols - 1).astype(np.int64)

    def candidates(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Indices of the points in the cells that the disc's bounding box touches."""
        ang = radius_km / EARTH_RADIUS_KM
        if ang >= math.pi:
            return self.order.copy()
        dlat = math.degrees(ang) + _EPS_DEG
        lat_lo, lat_hi = lat - dlat, lat + dlat
        if lat_lo <= -90.0 or lat_hi >= 90.0 or ang >= math.pi / 2 - math.radians(abs(lat)):
            # The disc reaches a pole: every longitude (bounding box after J. P. Matuschek).
            lon_ranges = [(-180.0, 180.0)]
        else:
            dlon = math.degrees(math.asin(min(1.0, math.sin(ang) / math.cos(math.radians(lat)))))
            dlon = dlon * (1 + 1e-9) + _EPS_DEG
            lo, hi = lon - dlon, lon + dlon
            if lo < -180.0:
                lon_ranges = [(lo + 360.0, 180.0), (-180.0, hi)]
            elif hi > 180.0:
                lon_ranges = [(lo, 180.0), (-180.0, hi - 360.0)]
            else:
                lon_ranges = [(lo, hi)]
        rows = np.arange(int(self._row(max(lat_lo, -90.0))), int(self._row(min(lat_hi, 90.0))) + 1)
        starts, ends = [], []
        for lo, hi in lon_ranges:
            starts.append(rows * self.ncols + int(self._col(lo)))
            ends.append(rows * self.ncols + int(self._col(hi)))
        first = np.searchsorted(self.keys, np.concatenate(starts), side="left")
        last = np.searchsorted(self.keys, np.concatenate(ends), side="right")
        pieces = [self.order[a:b] for a, b in zip(first, last, strict=True) if b > a]
        return np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)

    def within(self, lat: float, lon: float, radius_km: float) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the points at great-circle distance ≤ ``radius_km``, and those distances."""
        idx = self.candidates(lat, lon, radius_km)
        km = haversine_km(lat, lon, self.lat[idx], self.lon[idx])
        keep = km <= radius_km
        return idx[keep], km[keep]


@dataclass(frozen=True, slots=True)
class Reach:
    """Place → doctor pairs within the doctor's perimeter, sorted by (place, km, doctor)."""

    place: np.ndarray  # int64
    doctor: np.ndarray  # int64
    km: np.ndarray  # float64
    in_radius: np.ndarray  # bool: within the radius (else only through the commune list)


def reach(
    place_lat: np.ndarray,
    place_lon: np.ndarray,
    place_commune: np.ndarray,
    doc_lat: np.ndarray,
    doc_lon: np.ndarray,
    doc_radius: np.ndarray,
    doc_communes: Sequence[np.ndarray | None],
) -> Reach:
    """Every (place, doctor) pair where the place lies in the doctor's perimeter.

    ``doc_radius`` holds NaN where a doctor has no radius; ``place_commune`` and the arrays in
    ``doc_communes`` hold integer commune codes (−1: unknown commune).
    """
    n_doc = len(doc_lat)
    places: list[np.ndarray] = []
    doctors: list[np.ndarray] = []
    if len(place_lat) and n_doc:
        radii = doc_radius[~np.isnan(doc_radius)]
        typical = float(np.median(radii)) if len(radii) else 25.0
        cell = min(2.0, max(0.05, typical / 111.2))
        grid = GridIndex(place_lat, place_lon, cell_deg=cell)
        by_commune = np.argsort(place_commune, kind="stable")
        sorted_communes = place_commune[by_commune]
        for d in range(n_doc):
            if not np.isnan(doc_radius[d]):
                idx, _ = grid.within(float(doc_lat[d]), float(doc_lon[d]), float(doc_radius[d]))
                places.append(idx)
                doctors.append(np.full(len(idx), d, dtype=np.int64))
            codes = doc_communes[d]
            if codes is not None and len(codes):
                codes = codes[codes >= 0]
                a = np.searchsorted(sorted_communes, codes, side="left")
                b = np.searchsorted(sorted_communes, codes, side="right")
                idx = np.concatenate([by_commune[i:j] for i, j in zip(a, b, strict=True)] or [np.empty(0, np.int64)])
                places.append(idx)
                doctors.append(np.full(len(idx), d, dtype=np.int64))
    if not places:
        empty_i = np.empty(0, dtype=np.int64)
        return Reach(empty_i, empty_i.copy(), np.empty(0), np.empty(0, dtype=bool))
    place = np.concatenate(places).astype(np.int64)
    doctor = np.concatenate(doctors)
    pair = np.unique(place * n_doc + doctor)
    place, doctor = pair // n_doc, pair % n_doc
    km = haversine_km(place_lat[place], place_lon[place], doc_lat[doctor], doc_lon[doctor])
    with np.errstate(invalid="ignore"):
        in_radius = km <= doc_radius[doctor]  # NaN radius compares False
    order = np.lexsort((doctor, km, place))
    return Reach(place[order], doctor[order], km[order], in_radius[order])


def reach_dense(
    place_lat: np.ndarray,
    place_lon: np.ndarray,
    place_commune: np.ndarray,
    doc_lat: np.ndarray,
    doc_lon: np.ndarray,
    doc_radius: np.ndarray,
    doc_communes: Sequence[np.ndarray | None],
) -> Reach:
    """The same as :func:`reach` by brute force over all pairs — a reference for tests and checks only."""
    km = haversine_km(place_lat[:, None], place_lon[:, None], doc_lat[None, :], doc_lon[None, :])
    with np.errstate(invalid="ignore"):
        in_radius = km <= doc_radius[None, :]
    ok = in_radius.copy()
    for d, codes in enumerate(doc_communes):
        if codes is not None and len(codes):
            ok[:, d] |= np.isin(place_commune, codes[codes >= 0])
    place, doctor = np.nonzero(ok)
    km_, in_r = km[place, doctor], in_radius[place, doctor]
    order = np.lexsort((doctor, km_, place))
    return Reach(place[order].astype(np.int64), doctor[order].astype(np.int64), km_[order], in_r[order])
