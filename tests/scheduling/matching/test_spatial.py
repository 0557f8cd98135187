"""The grid index finds exactly the pairs a brute-force scan finds, anywhere on the globe."""

import numpy as np
import pytest

from scheduling.matching.spatial import haversine_km, reach, reach_dense
from sites.geo import haversine_km as scalar_haversine_km


def test_the_vectorised_distance_agrees_with_sites_geo():
    rng = np.random.default_rng(1)
    a = rng.uniform([-90, -180], [90, 180], size=(200, 2))
    b = rng.uniform([-90, -180], [90, 180], size=(200, 2))
    fast = haversine_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    slow = [scalar_haversine_km(*x, *y) for x, y in zip(a, b, strict=True)]
    assert np.allclose(fast, slow, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("centre", "spread"),
    [
        ((48.0, -0.7), 1.0),
        ((89.5, 0.0), 3.0),
        ((-89.7, 40.0), 3.0),
        ((10.0, 179.8), 1.5),
        ((-20.0, -179.9), 1.5),
    ],
)
def test_reach_equals_brute_force_near_towns_poles_and_the_antimeridian(centre, spread):
    rng = np.random.default_rng(int(abs(centre[0]) * 10))
    n, m = 600, 40
    lat = np.clip(centre[0] + rng.uniform(-spread, spread, n), -90, 90)
    lon = (centre[1] + rng.uniform(-spread, spread, n) + 180) % 360 - 180
    d_lat = np.clip(centre[0] + rng.uniform(-spread, spread, m), -90, 90)
    d_lon = (centre[1] + rng.uniform(-spread, spread, m) + 180) % 360 - 180
    radius = rng.uniform(5, 150, m)
    radius[::7] = np.nan  # some doctors have only a commune list
    communes = rng.integers(-1, 20, n)
    lists = [rng.integers(0, 20, 3) if i % 5 == 0 else None for i in range(m)]
    args = (lat, lon, communes, d_lat, d_lon, radius, lists)
    fast, dense = reach(*args), reach_dense(*args)
    assert len(dense.place) > 100
    assert np.array_equal(fast.place, dense.place) and np.array_equal(fast.doctor, dense.doctor)
    assert np.array_equal(fast.in_radius, dense.in_radius)
