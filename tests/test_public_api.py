"""The curated public API (DESIGN.md §7.1): ``stepflow.__all__`` is pinned, so adding or removing a
public name is a deliberate change to this test."""

from __future__ import annotations

import dataclasses
import inspect

import stepflow

PUBLIC = ["run", "Result", "Clock", "FakeClock", "Limits", "DefinitionError", "StatesError", "StepflowError"]


def test_all_is_pinned():
    assert stepflow.__all__ == PUBLIC


def test_every_public_name_exists():
    for name in stepflow.__all__:
        assert getattr(stepflow, name) is not None, name


def test_star_import_gives_exactly_the_public_names():
    namespace: dict = {}
    exec("from stepflow import *", namespace)  # noqa: S102 - the point of the test
    assert sorted(k for k in namespace if not k.startswith("__")) == sorted(PUBLIC)


def test_run_signature():
    parameters = inspect.signature(stepflow.run).parameters
    assert list(parameters)[:2] == ["definition", "input"]
    keyword_only = {name for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert {"handlers", "template", "clock", "time_scale", "limits", "name"} <= keyword_only
    assert {"mocks", "mock_config", "test_case", "state_machine_name"} <= keyword_only  # DESIGN §4, §7.8
    assert parameters["time_scale"].default == 0


def test_result_fields():
    fields = {f.name for f in dataclasses.fields(stepflow.Result)}
    assert {"status", "output", "error", "cause", "history", "execution_arn"} <= fields


def test_error_tree():
    assert issubclass(stepflow.DefinitionError, stepflow.StepflowError)
    assert not issubclass(stepflow.StatesError, stepflow.StepflowError)
    error = stepflow.StatesError("States.TaskFailed", "why")
    assert (error.error, error.cause) == ("States.TaskFailed", "why")


def test_limits_defaults_are_aws_limits():
    limits = stepflow.Limits()
    assert limits.payload_bytes == 256 * 1024
    assert limits.history_events == 25_000
    relaxed = stepflow.Limits.relaxed()
    assert relaxed.payload_bytes is None and relaxed.history_events is None


def test_version():
    assert isinstance(stepflow.__version__, str) and stepflow.__version__
