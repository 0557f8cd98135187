"""RPPS and NIR validation: the numbers staff type every day."""

from hypothesis import given
from hypothesis import strategies as st

from app.core.identifiers import clean_nir, luhn_check_digit, luhn_valid, nir_error, nir_key, rpps_error


def test_a_valid_rpps_passes_and_a_wrong_check_digit_is_named():
    assert rpps_error("79927398713") is None  # the classic Luhn example, 11 digits
    assert rpps_error("799 273 987 13") is None  # spaces as people type them
    assert "contrôle" in rpps_error("79927398710")
    assert "11 chiffres" in rpps_error("1234")
    assert "11 chiffres" in rpps_error("7992739871A")


def test_the_nir_key_is_97_minus_the_number_mod_97():
    # The INSEE's published example: 1 84 12 76 451 089, key 46.
    assert nir_key("1841276451089") == "46"
    assert nir_error("1 84 12 76 451 089 46") is None
    assert "clé" in nir_error("184127645108947")


def test_corsican_nir_counts_2a_as_19_and_2b_as_18():
    body_2a = "269052A115123"
    expected = 97 - int("2690519115123") % 97
    assert nir_key(body_2a) == f"{expected:02d}"
    assert nir_error(body_2a + f"{expected:02d}") is None
    body_2b = "175032B007123"
    assert nir_key(body_2b) == f"{97 - int('1750318007123') % 97:02d}"
    assert nir_error(body_2b + nir_key(body_2b)) is None


def test_a_nir_of_the_wrong_length_or_shape_gets_a_clear_message():
    assert "15 caractères" in nir_error("12345")
    assert "forme" in nir_error("9841276451089" + "46")  # 9 is no sex digit


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_luhn_check_digit_always_makes_a_valid_rpps(body):
    number = body + luhn_check_digit(body)
    assert rpps_error(number) is None
    # Changing any single digit breaks the check.
    for i in range(11):
        for d in "0123456789":
            if d != number[i]:
                assert not luhn_valid(number[:i] + d + number[i + 1 :])
                break


@given(
    sex=st.sampled_from("12"),
    year=st.integers(0, 99),
    month=st.integers(1, 12),
    dep=st.sampled_from(["01", "53", "75", "2A", "2B", "97"]),
    rest=st.text(alphabet="0123456789", min_size=6, max_size=6),
)
def test_any_nir_with_its_computed_key_is_valid_and_a_changed_digit_is_caught(sex, year, month, dep, rest):
    body = f"{sex}{year:02d}{month:02d}{dep}{rest}"
    nir = body + nir_key(body)
    assert nir_error(nir) is None
    assert clean_nir(nir.lower()) == nir
    last = nir[12]
    altered = nir[:12] + ("0" if last != "0" else "1") + nir[13:]
    assert nir_error(altered) is not None
