"""Mocked task results: the Step Functions Local ``MockConfigFile`` and Python mock functions.

:class:`MockedTasks` is a :class:`~stepflow.engine.tasks.TaskExecutor` the runtime puts in front of
the real integrations. For each task request it answers, in this order:

1. from the mock configuration, when the execution was started with a test case
   (``StartExecution`` on ``arn:...:stateMachine:Name#Case``) and that test case names the state;
2. from a Python mock function (``stepflow.run(..., mocks={...})``) keyed by the state's name,
   the Lambda function's name or ARN, the resource ARN, or ``service:action``;
3. otherwise from the real integration.

Rules of the MockConfigFile (AWS Step Functions Local, "Configuration file for mocked service
integrations"): ``StateMachines.NAME.TestCases.CASE.STATE`` names a mocked response;
``MockedResponses.RESPONSE`` maps invocation numbers (``"0"``) or inclusive ranges (``"1-2"``) to
one ``Return`` (the task's whole result, as written) or ``Throw`` (``Error`` and ``Cause``). Each
state has one invocation counter per execution, advanced by every invocation: first attempts,
retries, each Map iteration and each re-entry of the state. An invocation with no response fails
the state with ``States.Runtime``.

The counters are durable: they live on the execution (``Execution.mock_counters``), which the
store writes with every transition. A mocked answer needs no I/O, so its counter increment and its
result are committed by the same transition; after a crash an invocation that was in flight is
invoked again and takes the next response, so no response is ever used twice.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepflow.engine.tasks import LAMBDA, TaskExecutor, TaskRequest, TaskResult
from stepflow.errors import RUNTIME, ApiError, ConfigurationError, StatesError

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


@dataclass(frozen=True, slots=True)
class Answer:
    """One entry of a mocked response: invocations ``first``..``last`` get ``Return`` or ``Throw``."""

    first: int
    last: int
    returns: Any = None
    error: str | None = None
    cause: str | None = None

    def result(self) -> TaskResult:
        if self.error is not None:
            return TaskResult(error=self.error, cause=self.cause)
        return TaskResult(output=copy.deepcopy(self.returns))


class MockConfig:
    """A parsed, checked MockConfigFile."""

    def __init__(self, machines: dict[str, dict[str, dict[str, str]]], responses: dict[str, list[Answer]]):
        self.machines = machines
        self.responses = responses

    @classmethod
    def load(cls, source: str | Path | Mapping) -> MockConfig:
        """From a file path or an already-read JSON object; raises ConfigurationError when malformed."""
        document = source if isinstance(source, Mapping) else _read(Path(source))
        if not isinstance(document, Mapping):
            raise ConfigurationError("mock config: the file must hold a JSON object")
        machines = _machines(document.get("StateMachines", {}))
        responses = {name: _answers(name, entries) for name, entries in _object(document.get("MockedResponses", {}), "MockedResponses").items()}
        return cls(machines, responses)

    def check_test_case(self, machine: str, case: str) -> None:
        """Raise the API error StartExecution returns for an unknown state machine or test case."""
        cases = self.machines.get(machine)
        if cases is None:
            names = ", ".join(sorted(self.machines)) or "none"
            raise ApiError("ValidationException", f"State machine '{machine}' is not defined in the mock configuration (its StateMachines: {names})")
        if case not in cases:
            raise ApiError("ValidationException", f"Test case '{case}' is not defined for state machine '{machine}' in the mock configuration")

    def response_name(self, machine: str, case: str, state: str) -> str | None:
        """The mocked response a test case gives a state, or None when the state is not mocked."""
        return self.machines.get(machine, {}).get(case, {}).get(state)

    def answer(self, response: str, invocation: int) -> Answer | None:
        """The entry of ``response`` for the invocation number, or None."""
        for entry in self.responses.get(response, ()):
            if entry.first <= invocation <= entry.last:
                return entry
        return None


# parsing --------------------------------------------------------------------------------------


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigurationError(f"mock config: cannot read {path}: {err.strerror}") from None
    except ValueError as err:
        raise ConfigurationError(f"mock config: {path} is not valid JSON: {err}") from None


def _object(value: Any, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"mock config: {where} must be a JSON object")
    return value


def _machines(section: Any) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    for name, machine in _object(section, "StateMachines").items():
        cases = _object(_object(machine, f"StateMachines.{name}").get("TestCases", {}), f"StateMachines.{name}.TestCases")
        out[name] = {case: _states(f"StateMachines.{name}.TestCases.{case}", states) for case, states in cases.items()}
    return out


def _states(where: str, states: Any) -> dict[str, str]:
    for state, response in _object(states, where).items():
        if not isinstance(response, str):
            raise ConfigurationError(f"mock config: {where}.{state} must name a mocked response (a string)")
    return dict(states)


def _answers(name: str, entries: Any) -> list[Answer]:
    answers = [_answer(f"MockedResponses.{name}.{key}", key, entry) for key, entry in _object(entries, f"MockedResponses.{name}").items()]
    answers.sort(key=lambda a: a.first)
    for before, after in itertools.pairwise(answers):
        if after.first <= before.last:
            raise ConfigurationError(f"mock config: MockedResponses.{name} has overlapping invocation numbers ({after.first})")
    return answers


def _answer(where: str, key: str, entry: Any) -> Answer:
    match = _RANGE.match(key.strip())
    if match is None:
        raise ConfigurationError(f"mock config: {where}: invocation keys are numbers (\"0\") or ranges (\"1-2\")")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    if last < first:
        raise ConfigurationError(f"mock config: {where}: the range ends before it starts")
    entry = _object(entry, where)
    if len(entry) != 1 or next(iter(entry)) not in ("Return", "Throw"):
        raise ConfigurationError(f"mock config: {where} must hold exactly one field, Return or Throw")
    if "Return" in entry:
        return Answer(first, last, returns=entry["Return"])
    return _throw(where, first, last, entry["Throw"])


def _throw(where: str, first: int, last: int, throw: Any) -> Answer:
    throw = _object(throw, f"{where}.Throw")
    error, cause = throw.get("Error"), throw.get("Cause")
    if not isinstance(error, str) or (cause is not None and not isinstance(cause, str)):
        raise ConfigurationError(f"mock config: {where}.Throw needs an Error string (and a Cause string)")
    return Answer(first, last, error=error, cause=cause)


# the executor ---------------------------------------------------------------------------------


class MockedTasks:
    """The TaskExecutor in front of the real integrations when mocks are configured."""

    def __init__(
        self,
        inner: TaskExecutor,
        executions: Callable[[str], Any],
        config: MockConfig | None = None,
        functions: Mapping[str, Callable] | None = None,
        machine_name: str | None = None,
    ):
        self.inner = inner
        self.executions = executions  # execution ARN -> the live Execution (its test case, counters)
        self.config = config
        self.functions = dict(functions or {})
        self.machine_name = machine_name  # overrides the execution's state machine name (stepflow run)

    def check_test_case(self, machine: str, case: str) -> None:
        """StartExecution's check of a ``#TestCase`` suffix (when a mock config is loaded)."""
        self.config.check_test_case(self.machine_name or machine, case)

    async def invoke(self, request: TaskRequest) -> TaskResult:
        mocked = self._from_config(request)
        if mocked is not None:
            return mocked
        function = self._function(request)
        if function is not None:
            return await _call(function, request.parameters)
        return await self.inner.invoke(request)

    def _from_config(self, request: TaskRequest) -> TaskResult | None:
        exe = self.executions(request.execution_arn) if self.config is not None else None
        case = getattr(exe, "test_case", None)
        if case is None:
            return None
        machine = self.machine_name or exe.state_machine_name
        response = self.config.response_name(machine, case, request.state_name)
        if response is None:
            return None
        invocation = _next_invocation(exe, request.state_name)
        answer = self.config.answer(response, invocation)
        if answer is None:
            return TaskResult(error=RUNTIME, cause=_exhausted(request.state_name, response, case, invocation))
        return answer.result()

    def _function(self, request: TaskRequest) -> Callable | None:
        if not self.functions:
            return None
        for key in _mock_keys(request):
            function = self.functions.get(key)
            if function is not None:
                return function
        return None


def _next_invocation(exe: Any, state: str) -> int:
    """This state's invocation number in this execution (0, 1, ...), counted durably on it."""
    if exe.mock_counters is None:
        exe.mock_counters = {}
    number = exe.mock_counters.get(state, 0)
    exe.mock_counters[state] = number + 1
    return number


def _exhausted(state: str, response: str, case: str, invocation: int) -> str:
    return (
        f"No mocked response for invocation {invocation} of state '{state}': mocked response "
        f"'{response}' of test case '{case}' does not define it."
    )


def _mock_keys(request: TaskRequest) -> list[str]:
    """Keys a Python mock may be registered under, most specific first."""
    resource = request.resource
    keys = [request.state_name]
    function = resource.name if resource.kind == LAMBDA else _function_reference(request)
    if function:
        keys += [function, _function_name(function)]
    keys.append(resource.arn)
    if resource.kind != LAMBDA:
        keys.append(f"{resource.service}:{resource.action}")
    return keys


def _function_reference(request: TaskRequest) -> str | None:
    if request.resource.service != "lambda" or not isinstance(request.parameters, dict):
        return None
    reference = request.parameters.get("FunctionName")
    return reference if isinstance(reference, str) else None


def _function_name(reference: str) -> str:
    """``name`` of ``name``, ``name:alias``, ``arn:...:function:name[:qualifier]``."""
    if ":function:" in reference:
        reference = reference.split(":function:", 1)[1]
    return reference.split(":", 1)[0]


async def _call(function: Callable, parameters: Any) -> TaskResult:
    """Run a Python mock: its return value is the task's result; StatesError fails the task."""
    try:
        value = function(copy.deepcopy(parameters))
        if inspect.isawaitable(value):
            value = await value
    except StatesError as failure:
        return TaskResult(error=failure.error, cause=failure.cause)
    except Exception as failure:  # noqa: BLE001 - like an unhandled exception in a Lambda handler
        return TaskResult(error=type(failure).__name__, cause=str(failure))
    return TaskResult(output=value)


def wrap(
    inner: TaskExecutor,
    executions: Callable[[str], Any],
    mock_config: str | Path | Mapping | MockConfig | None = None,
    mocks: Mapping[str, Callable] | None = None,
    machine_name: str | None = None,
) -> TaskExecutor:
    """``inner`` itself when nothing is mocked, else a :class:`MockedTasks` in front of it."""
    if mock_config is None and not mocks:
        return inner
    config = mock_config if isinstance(mock_config, MockConfig) or mock_config is None else MockConfig.load(mock_config)
    return MockedTasks(inner, executions, config, mocks, machine_name)


def test_case_check(tasks: TaskExecutor) -> Callable[[str, str], None] | None:
    """What StartExecution calls to check a ``#TestCase`` suffix, or None without a mock config."""
    return tasks.check_test_case if isinstance(tasks, MockedTasks) and tasks.config is not None else None


def for_run(
    mock_config: str | Path | Mapping | None, test_case: str | None, machine_name: str | None
) -> tuple[MockConfig | None, str | None]:
    """The loaded config and the StateMachines key one ``stepflow run`` execution uses: the name
    given, else the file's only state machine; with several and no name, the execution's own state
    machine name (a template's state machine) must be one of them."""
    if mock_config is None:
        return None, machine_name
    config = mock_config if isinstance(mock_config, MockConfig) else MockConfig.load(mock_config)
    if machine_name is None and test_case is not None and len(config.machines) == 1:
        machine_name = next(iter(config.machines))
    return config, machine_name
