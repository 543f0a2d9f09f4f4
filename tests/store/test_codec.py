"""The SQL stores' JSON codec: every JSON value comes back exactly as it went in."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from stepflow.engine.snapshot import Frame
from stepflow.store import codec

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_any_json_value_round_trips_exactly(value):
    back = codec.loads(codec.dumps(value))
    assert back == value
    assert json.dumps(back, sort_keys=True) == json.dumps(value, sort_keys=True)  # ints stay ints


def test_integers_beyond_64_bits_stay_integers():
    value = {"big": 2**70, "negative": -(2**65), "edge": 2**63, "text": "1234567890123456789012"}
    assert codec.loads(codec.dumps(value)) == value
    assert isinstance(codec.loads(codec.dumps(value))["big"], int)


def test_non_string_keys_are_written_as_the_json_module_writes_them():
    assert codec.loads(codec.dumps({1: "a"})) == {"1": "a"}


def test_a_frame_round_trips_without_its_input_text_cache():
    frame = Frame(key="/M[3]", program="M", parent="", index=3, state="P", input={"é": [1, 2.5]},
                  input_text='{"é":[1,2.5]}', retries=[1, 0], vars={"x": None}, wait={"kind": "timer", "due": 1.5})
    back = codec.frame_from_json(codec.frame_json(frame))
    assert back.input_text is None
    back.input_text = frame.input_text
    assert back == frame
