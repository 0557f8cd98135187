"""Priority tiers: 1 = ALD or fragile; 2 = C2S, 60 or more, under 16; 3 = everyone else."""

import pytest

from scheduling.matching import tier
from tests.scheduling.matching.helpers import patient


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"ald": True}, 1),
        ({"fragile": True}, 1),
        ({"ald": True, "age": 5, "c2s": True}, 1),
        ({"c2s": True}, 2),
        ({"age": 60}, 2),
        ({"age": 92}, 2),
        ({"age": 15}, 2),
        ({"age": 0}, 2),
        ({"age": 16}, 3),
        ({"age": 59}, 3),
        ({"age": None}, 3),
        ({}, 3),
    ],
)
def test_it_puts_each_patient_in_the_tier_the_issue_gives(flags, expected):
    assert tier(patient("p", **{"age": 40, **flags})) == expected
