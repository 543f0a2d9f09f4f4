"""JSONPath as AWS (Jayway) evaluates it, and ResultPath.

Micro-benchmark (not a timed test; CPython 3.11, one core, measured with ``timeit``):

    compile_path('$.a.b.c[1]').get(env)            ~0.4 µs   (jsonpath-ng .find: ~6 µs)
    compile_path('$.a.b.c[*]').get(env)            ~0.85 µs
    apply_result_path(doc, '$.result.value', 5)    ~0.35 µs
    compile_path(text) on a cache hit              ~0.05 µs

so path work is a small fraction of the 50 µs a transition may spend at 20,000 transitions/s.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepflow.asl.jsonpath import (
    RESULT_PATH_ERROR,
    PathNotFound,
    apply_result_path,
    compile_path,
    is_reference_path,
    is_valid_path,
)
from stepflow.errors import StatesError

DOC = {
    "a": {"b": [1, 2, {"c": 3}]},
    "store": {
        "book": [
            {"title": "A", "price": 8, "isbn": "x"},
            {"title": "B", "price": 12},
            {"title": "C", "price": 20, "isbn": "y"},
        ],
        "bicycle": {"price": 19},
    },
    "n": [1, 2, 3, 4],
    "a b": "space",
    "nul": None,
}


@pytest.fixture
def env(make_env):
    return make_env(DOC, {"Execution": {"Name": "run-1"}}, {"v": {"k": [5, 6]}, "flag": True})


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DOC),
        ("$.a.b[2].c", 3),
        ("$['a']['b'][0]", 1),
        ('$["a"]["b"][-1]', {"c": 3}),
        ("$['a b']", "space"),
        ("$.nul", None),
        ("$.n[-2]", 3),
    ],
)
def test_definite_path_returns_the_single_value(env, path, expected):
    assert compile_path(path).get(env) == expected
    assert compile_path(path).is_definite


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.store.book[*].title", ["A", "B", "C"]),
        ("$.store.book[*].isbn", ["x", "y"]),  # missing members are skipped
        ("$..price", [8, 12, 20, 19]),
        ("$.n[1:3]", [2, 3]),
        ("$.n[-2:]", [3, 4]),
        ("$.n[:2]", [1, 2]),
        ("$.n[0,2]", [1, 3]),
        ("$.n[0,9]", [1]),
        ("$.store.book[?(@.price > 10)].title", ["B", "C"]),
        ("$.store.book[?(@.title == 'A')].price", [8]),
        ("$.store.book[?(@.isbn)].title", ["A", "C"]),
        ("$.store.bicycle[?(@.price > 10)]", [{"price": 19}]),  # a filter on one object
        ("$.store.bicycle.*", [19]),
        ("$.n[*]", [1, 2, 3, 4]),
        ("$.store.book[*].nothing", []),
    ],
)
def test_indefinite_path_returns_the_list_of_matches(env, path, expected):
    compiled = compile_path(path)
    assert not compiled.is_definite
    assert compiled.get(env) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.n.length()", 4),
        ("$.store.book.length()", 3),
        ("$.store.book[*].price.length()", 3),
        ("$.n.sum()", 10.0),
        ("$.n.min()", 1.0),
        ("$.n.max()", 4.0),
        ("$.n.avg()", 2.5),
        ("$.store.bicycle.keys()", ["price"]),
        ("$.n.first()", 1),
        ("$.n.last()", 4),
    ],
)
def test_tail_functions_return_a_single_value(env, path, expected):
    compiled = compile_path(path)
    assert compiled.get(env) == expected
    assert not compiled.is_definite  # a function call is not a reference path


def test_a_leaf_name_union_merges_into_one_object(env):
    assert compile_path("$.store.bicycle['price','gears']").get(env) == {"price": 19}


def test_roots_context_and_variables(env):
    assert compile_path("$$.Execution.Name").get(env) == "run-1"
    assert compile_path("$v.k[1]").get(env) == 6
    assert compile_path("$flag").get(env) is True
    assert compile_path("$$").get(env) == {"Execution": {"Name": "run-1"}}


@pytest.mark.parametrize(
    ("path", "normalized"),
    [
        ("$.x", "$['x']"),
        ("$.a.b[0]", "$['a']['b'][0]"),
        ("$..x", "$..['x']"),
        ("$.a[*]", "$['a'][*]"),
        ("$.a[1:3]", "$['a'][1:3]"),
        ("$.a['p','q']", "$['a']['p','q']"),
        ("$.a[?(@.x)]", "$['a'][?]"),
        ("$.a.length()", "$['a'].length()"),
        ("$$.Execution.Input", "$['Execution']['Input']"),
    ],
)
def test_normalized_is_jayways_bracket_form(path, normalized):
    assert compile_path(path).normalized() == normalized


@pytest.mark.parametrize(
    "path", ["$.x", "$.a.b[5]", "$.a[0]", "$.a.b.c", "$.nul.x", "$.n.x", "$nov"]
)
def test_missing_match_raises_path_not_found(env, path):
    with pytest.raises(PathNotFound) as info:
        compile_path(path).get(env)
    assert info.value.path == path
    assert not compile_path(path).exists(env)


def test_path_not_found_carries_awss_message_and_document(env):
    with pytest.raises(PathNotFound) as info:
        compile_path("$.x").get(env)
    assert str(info.value) == "Invalid path '$.x' : No results for path: $['x']"
    assert info.value.document is DOC
    with pytest.raises(PathNotFound) as info:
        compile_path("$$.Nope").get(env)
    assert info.value.document == {"Execution": {"Name": "run-1"}}


def test_exists(env):
    assert compile_path("$.nul").exists(env)
    assert compile_path("$.store.book[*].isbn").exists(env)
    assert not compile_path("$.store.book[*].nothing").exists(env)


def test_bracket_backslashes_are_kept_verbatim_as_aws_does(make_env):
    # AWS-recorded case ESCAPE_SEQUENCES_JSONPATH: the key itself holds the backslash.
    key = 'Test\\""Name"'
    env = make_env({key: 'Value"\\'})
    assert compile_path("$['Test\\\"\"Name\"']").get(env) == 'Value"\\'


@pytest.mark.parametrize(
    "text",
    ["", "a", "$.", "$..", "$.a[", "$.a]", "$.a b", "$[x]", "$[1:2:3:4]", "$.a.foo()",
     "$.a.length().b", "$[?(@.x in [1])]", "$['a'", "$[?(@.x > 1]", "$..length()"],
)
def test_invalid_syntax_raises_value_error(text):
    with pytest.raises(ValueError):
        compile_path(text)
    assert not is_valid_path(text)


def test_compiled_paths_are_cached():
    assert compile_path("$.cached.path") is compile_path("$.cached.path")


@pytest.mark.parametrize(
    ("text", "reference"),
    [("$", True), ("$.a.b", True), ("$['a'][0]", True), ("$.a[*]", False),
     ("$..a", False), ("$.a.length()", False), ("$$.a", False), ("$v.a", False), ("x", False)],
)
def test_is_reference_path(text, reference):
    assert is_reference_path(text) is reference


def test_reference_paths_may_allow_context_and_variables_on_request():
    assert is_reference_path("$$.Execution.Id", allow_context_and_variables=True)
    assert is_reference_path("$v.a[0]", allow_context_and_variables=True)


# --------------------------------------------------------------------------- ResultPath


def test_result_path_dollar_replaces_the_input():
    assert apply_result_path({"a": 1}, compile_path("$"), "result") == "result"


def test_result_path_null_discards_the_result():
    raw = {"a": 1}
    assert apply_result_path(raw, None, "result") is raw


def test_result_path_sets_a_nested_member_creating_objects():
    raw = {"comment": "c", "keep": {"x": [1]}}
    out = apply_result_path(raw, compile_path("$.taskresult.deep"), "Hello")
    assert out == {"comment": "c", "keep": {"x": [1]}, "taskresult": {"deep": "Hello"}}
    assert raw == {"comment": "c", "keep": {"x": [1]}}
    assert out["keep"] is raw["keep"]  # only the path is copied


def test_result_path_replaces_an_existing_member_and_an_array_element():
    raw = {"a": {"b": 1, "c": 2}, "l": [0, {"z": 1}]}
    assert apply_result_path(raw, compile_path("$.a.b"), 9) == {"a": {"b": 9, "c": 2},
                                                                "l": [0, {"z": 1}]}
    assert apply_result_path(raw, compile_path("$.l[1].z"), 5)["l"] == [0, {"z": 5}]
    assert raw["l"] == [0, {"z": 1}]


@pytest.mark.parametrize(
    ("raw", "path", "shown"),
    [
        ("input1", "$.someTaskResult", '"input1"'),
        ([1, 2], "$.x", "[1,2]"),
        ({"a": "text"}, "$.a.b", '{"a":"text"}'),
        ({"l": [1]}, "$.l[3]", '{"l":[1]}'),
        (None, "$.x", "null"),
    ],
)
def test_result_path_that_the_input_cannot_hold_is_a_states_error(raw, path, shown):
    with pytest.raises(StatesError) as info:
        apply_result_path(raw, compile_path(path), 1)
    assert info.value.error == RESULT_PATH_ERROR
    assert info.value.cause == f"Unable to apply ReferencePath {path} to input {shown}"


@pytest.mark.parametrize("path", ["$$.Execution", "$v.x", "$.a[*]", "$..a"])
def test_result_path_accepts_only_input_reference_paths(path):
    with pytest.raises(ValueError):
        apply_result_path({}, compile_path(path), 1)


# --------------------------------------------------------------------------- properties

KEYS = st.text(alphabet="abcxyz_", min_size=1, max_size=3)
SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3)
DOCS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)


@st.composite
def doc_and_route(draw):
    """A document and a route (keys/indices) that exists in it."""
    doc = draw(st.dictionaries(KEYS, DOCS, min_size=1, max_size=4))
    route, node = [], doc
    while isinstance(node, (dict, list)) and node and draw(st.booleans()):
        step = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        route.append(step)
        node = node[step]
    return doc, route


def _as_path(route):
    return "$" + "".join(f"['{k}']" if isinstance(k, str) else f"[{k}]" for k in route)


def _naive(doc, route):
    for step in route:
        doc = doc[step]
    return doc


@settings(max_examples=200, deadline=None)
@given(doc_and_route())
def test_get_agrees_with_a_naive_walk(make_env, case):
    doc, route = case
    path = compile_path(_as_path(route))
    assert path.is_definite
    assert path.get(make_env(doc)) == _naive(doc, route)


@settings(max_examples=200, deadline=None)
@given(doc_and_route(), DOCS)
def test_apply_result_path_never_mutates_and_puts_the_result_at_the_path(make_env, case, result):
    doc, route = case
    before = copy.deepcopy(doc)
    path = compile_path(_as_path(route))
    out = apply_result_path(doc, path, result)
    assert doc == before
    assert path.get(make_env(out)) == result


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(KEYS, DOCS, max_size=4), st.lists(KEYS, min_size=1, max_size=4), DOCS)
def test_apply_result_path_creates_missing_objects(make_env, doc, keys, result):
    path = compile_path("$." + ".".join(keys))
    try:
        out = apply_result_path(doc, path, result)
    except StatesError as exc:  # some prefix of the route holds a non-object
        assert exc.error == RESULT_PATH_ERROR
        return
    assert path.get(make_env(out)) == result


@pytest.mark.parametrize("path", ["$.missing[*]", "$.a.missing[1:5]", "$.missing[:1].x", "$.missing[*].y"])
def test_indefinite_path_without_match_is_empty_list(env, path):
    """AWS answers [] (not an error) for a wildcard or slice over a missing array."""
    assert compile_path(path).get(env) == []
