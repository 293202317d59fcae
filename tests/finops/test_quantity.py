"""Kubernetes quantities: the one parser the estimator (chart volumes) and the pack (GPU counts, sizes) use."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai_platform_finops.quantity import quantity

BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
DECIMAL = {"m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}


@pytest.mark.parametrize("value, expected", [
    ("1", 1.0), ("500m", 0.5), (".5", 0.5), ("+2k", 2000.0), ("-1", -1.0), ("16Gi", 16 * 2**30), (" 3 ", 3.0),
    ("1e3", 1000.0), ("2E-3", 0.002), (1.0, 1.0), (4, 4.0),
    ("", None), ("abc", None), ("1.5.2", None), ("1 Gi", None), ("1gi", None), ("Gi", None), (True, None),
    (None, None), ([1], None), (float("inf"), None), (float("nan"), None), ("1e400", None), ("9" * 400 + "e9", None),
])
def test_the_grammar(value, expected):
    assert quantity(value) == expected


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted({**BINARY, **DECIMAL})))
def test_a_suffix_scales_the_number(number, suffix):
    factor = {**BINARY, **DECIMAL}[suffix]
    assert quantity(f"{number}{suffix}") == pytest.approx(number * factor)
