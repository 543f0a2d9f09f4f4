"""Properties of whole runs: random Pass chains with random data-flow paths never crash the
engine, and their histories are well formed."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stepflow

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}

scalars = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "x"]), inner, max_size=3)),
    max_leaves=8,
)
inputs = st.dictionaries(st.sampled_from(["a", "b", "x", "arr"]), json_values, max_size=4)

# Paths that are valid in a definition; at run time they may or may not match the data.
reference_paths = st.sampled_from(["$", "$.a", "$.a.b", "$.x", "$.arr[0]", "$.new.deep"])
optional_paths = st.one_of(st.none(), reference_paths)
MISSING = object()


@st.composite
def pass_states(draw) -> dict:
    state: dict = {"Type": "Pass"}
    for field, strategy in (("InputPath", optional_paths), ("ResultPath", optional_paths), ("OutputPath", optional_paths)):
        value = draw(st.one_of(st.just(MISSING), strategy))
        if value is not MISSING:
            state[field] = value
    if draw(st.booleans()):
        state["Result"] = draw(json_values)
    return state


@st.composite
def pass_chains(draw) -> dict:
    states = draw(st.lists(pass_states(), min_size=1, max_size=5))
    names = [f"P{i}" for i in range(len(states))]
    body = {}
    for i, (name, state) in enumerate(zip(names, states)):
        body[name] = {**state, **({"Next": names[i + 1]} if i + 1 < len(names) else {"End": True})}
    return {"StartAt": names[0], "States": body}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definition=pass_chains(), input_value=inputs)
def test_random_pass_chains_end_with_a_well_formed_history(definition, input_value):
    result = stepflow.run(definition, input_value)
    assert result.status in TERMINAL
    history = result.history
    assert [event["id"] for event in history] == list(range(1, len(history) + 1))
    assert all(0 <= event["previousEventId"] < event["id"] for event in history)
    assert history[0]["type"] == "ExecutionStarted"
    assert history[-1]["type"] == {"SUCCEEDED": "ExecutionSucceeded", "FAILED": "ExecutionFailed"}[result.status]
    if result.status == "FAILED":
        # A path that does not match is States.Runtime; a ResultPath that cannot be applied to
        # the data (say "$.a.b" when a is a number) is States.ReferencePathConflict, as in AWS.
        assert result.error in ("States.Runtime", "States.ReferencePathConflict")
        assert result.output is None
    else:
        entered = sum(event["type"] == "PassStateEntered" for event in history)
        assert entered == len(definition["States"])
