"""Glue-style argument parsing shared by all jobs (db-refresh.md B3)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from flywheel.args import get_resolved_options, parse_argv
from flywheel.errors import ArgumentError


def test_space_and_equals_forms_and_unknown_arguments_ignored():
    argv = ["script.py", "--JOB_NAME", "j", "--SOURCE_PATH", "a/b", "--TARGET_PATH=c=d", "--TempDir", "s3://t",
            "--enable-metrics", "--job-bookmark-option", "job-bookmark-disable"]
    args = get_resolved_options(argv, ["SOURCE_PATH", "TARGET_PATH"], {"BUCKET_COUNT": "256"})
    assert args == {"SOURCE_PATH": "a/b", "TARGET_PATH": "c=d", "BUCKET_COUNT": "256"}


def test_every_missing_required_argument_is_named_at_once():
    with pytest.raises(ArgumentError) as err:
        get_resolved_options(["--DATABASE", "_NONE_", "--S3_ROOT", ""], ["DATABASE", "S3_ROOT", "CATALOG_PATH"])
    assert str(err.value) == "missing required argument(s): --DATABASE, --S3_ROOT, --CATALOG_PATH"


def test_none_and_empty_mean_not_given():
    args = get_resolved_options(["--SNAPSHOT_DT", "_NONE_", "--BUCKET_COUNT", ""], [],
                                {"SNAPSHOT_DT": None, "BUCKET_COUNT": "256", "FORCE": "_NONE_"})
    assert args == {"SNAPSHOT_DT": None, "BUCKET_COUNT": "256", "FORCE": None}


def test_typed_getters_convert_explicitly_and_name_the_argument():
    args = get_resolved_options(["--N", "12", "--F", "TRUE", "--D", "2025-01-15", "--X", "ten", "--B", "maybe"],
                                [], {"N": None, "F": None, "D": None, "X": None, "B": None, "P": "1.5"})
    assert (args.integer("N"), args.flag("F"), args.date("D").isoformat(), args.number("P")) == (12, True, "2025-01-15", 1.5)
    with pytest.raises(ArgumentError, match="--X must be an integer"):
        args.integer("X")
    with pytest.raises(ArgumentError, match="--B must be true or false"):
        args.flag("B")
    with pytest.raises(ArgumentError, match="--N must be at least 100"):
        args.integer("N", minimum=100)


def test_the_last_occurrence_wins_and_stray_words_are_skipped():
    assert parse_argv(["stray", "--A", "1", "word", "--A", "2", "--", "--B"]) == {"A": "2", "B": ""}


names = st.from_regex(r"[A-Z][A-Z0-9_]{0,12}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(
    lambda v: not v.startswith("--") and v not in ("_NONE_",))


@given(st.dictionaries(names, values, max_size=8), st.booleans())
def test_round_trip(pairs, equals_form):
    argv = []
    for name, value in pairs.items():
        argv += [f"--{name}={value}"] if equals_form else [f"--{name}", value]
    assert get_resolved_options(argv, list(pairs)) == pairs
