"""json_text.dumps is exactly compact json.dumps (its cached C encoder must not change output)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepflow.asl.json_text import dumps

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_same_text_as_compact_json_dumps(value):
    assert dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("bad", [float("nan"), {"x": float("inf")}])
def test_non_json_numbers_are_refused(bad):
    with pytest.raises(ValueError):
        dumps(bad)
