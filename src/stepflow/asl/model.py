"""The parsed definition: frozen dataclasses, one per state type.

Field names are the snake_case of the ASL field (``result_selector`` <-> ``ResultSelector``).
Expressions are already compiled: a field that may be a literal, a JSONPath ``...Path`` or a
JSONata ``{% %}`` string is held as an :class:`Evaluator`, a callable over a :class:`StateScope`.
The spec's defaults are the named constants below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

JSONPATH = "JSONPath"
JSONATA = "JSONata"

# Defaults from the States Language specification.
DEFAULT_INTERVAL_SECONDS = 1
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_BACKOFF_RATE = 2.0
DEFAULT_TASK_TIMEOUT_SECONDS = 60
DEFAULT_JITTER_STRATEGY = "NONE"
INLINE_MAP_MAX_CONCURRENCY = 40  # AWS runs at most 40 inline iterations at once


class _Missing:
    """Marks a field the definition does not set (distinct from JSON null)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(slots=True)
class StateScope:
    """What an expression may read while one state runs.

    ``raw`` is the state's input as it arrived ($states.input); ``effective`` is that input after
    InputPath (JSONPath ``$`` for most fields); ``context`` the context object; ``variables`` the
    variables visible in this scope. ``result`` and ``error_output`` are set once known.
    """

    raw: Any
    effective: Any
    context: Any
    variables: Mapping[str, Any]
    result: Any = MISSING
    error_output: Any = MISSING


Evaluator = Callable[[StateScope], Any]


_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_ENTERED = {t: t + "StateEntered" for t in _TYPES}
_EXITED = {t: t + "StateExited" for t in _TYPES}


@dataclass(frozen=True, slots=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_rate: float = DEFAULT_BACKOFF_RATE
    max_delay_seconds: float | None = None
    jitter_strategy: str = DEFAULT_JITTER_STRATEGY


@dataclass(frozen=True, slots=True)
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    io: Any  # dataflow.CatchIO: turns the error output into (state output, assigned variables)


@dataclass(frozen=True, slots=True)
class State:
    """Fields every state has. ``io`` is the compiled data flow (dataflow.StateIO)."""

    name: str
    type: str
    query_language: str
    io: Any
    next: str | None = None
    end: bool = False
    comment: str | None = None
    uses_context: bool = True  # False when no field can read $$ / $states.context (saves work)
    entered_event: str = ""  # "<Type>StateEntered", set from the type (read on every transition)
    exited_event: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "entered_event", _ENTERED[self.type])
        object.__setattr__(self, "exited_event", _EXITED[self.type])


@dataclass(frozen=True, slots=True)
class PassState(State):
    result: Any = MISSING


@dataclass(frozen=True, slots=True)
class TaskState(State):
    resource: str = ""
    timeout_seconds: Evaluator | None = None
    heartbeat_seconds: Evaluator | None = None
    credentials: Any = MISSING
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, slots=True)
class ChoiceRule:
    """One element of Choices: a compiled condition, its target and its own Assign/Output."""

    condition: Callable[[StateScope], bool]
    next: str
    io: Any  # dataflow.StateIO for the rule's Assign / Output (JSONata) or Assign (JSONPath)
    test: Callable[[Any], bool] | None = None  # JSONPath: the condition over an Env, which the
    # engine builds once for all the rules of a Choice (``condition`` builds one per rule)


@dataclass(frozen=True, slots=True)
class ChoiceState(State):
    choices: tuple[ChoiceRule, ...] = ()
    default: str | None = None
    passes_input: bool = False  # JSONPath rules only, no Assign, no data-flow field: the input
    # goes on unchanged to the chosen state, and the rules need nothing but an Env


@dataclass(frozen=True, slots=True)
class WaitState(State):
    seconds: Evaluator | None = None
    timestamp: Evaluator | None = None


@dataclass(frozen=True, slots=True)
class SucceedState(State):
    pass


@dataclass(frozen=True, slots=True)
class FailState(State):
    error: Evaluator | None = None
    cause: Evaluator | None = None


@dataclass(frozen=True, slots=True)
class Program:
    """A list of states with a start: the machine itself, a Parallel branch, a Map processor."""

    key: str  # "" for the machine, "Map1" for a Map processor, "Par1#0" for a branch
    start_at: str
    states: Mapping[str, State]
    query_language: str = JSONPATH


@dataclass(frozen=True, slots=True)
class ParallelState(State):
    branches: tuple[Program, ...] = ()
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, slots=True)
class MapState(State):
    processor: Program | None = None
    mode: str = "INLINE"  # or DISTRIBUTED
    execution_type: str | None = None  # distributed child executions: STANDARD or EXPRESS
    items: Evaluator | None = None  # the array to iterate (ItemsPath / Items)
    item_selector: Callable[[StateScope, int, Any], Any] | None = None
    item_reader: Any = MISSING
    item_batcher: Any = MISSING
    result_writer: Any = MISSING
    max_concurrency: Evaluator | None = None
    tolerated_failure_count: Evaluator | None = None
    tolerated_failure_percentage: Evaluator | None = None
    label: str | None = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A parsed, validated, compiled definition."""

    root: Program
    programs: Mapping[str, Program] = field(default_factory=dict)  # every Program by key
    timeout_seconds: int | None = None
    comment: str | None = None
    version: str | None = None
    query_language: str = JSONPATH
    assigns_variables: bool = True  # False when no state can Assign: every scope has no variables

    def state(self, program_key: str, name: str) -> State:
        return self.programs[program_key].states[name]
