"""stepflow's one exception tree.

::

    Exception
    ├── StatesError                 an ASL runtime failure: a value with .error and .cause,
    │                               raised while evaluating a state; the engine turns it into
    │                               a state failure that Retry/Catch see (States.Runtime is
    │                               never matched by States.ALL, as in AWS).
    └── StepflowError               everything that is not an ASL runtime failure
        ├── DefinitionError         an invalid state machine definition (AWS InvalidDefinition);
        │                           .diagnostics lists every problem with its JSON-pointer location
        ├── InvalidInputError       execution input that is not JSON (AWS InvalidExecutionInput)
        ├── TemplateError           an invalid SAM template (names resource and property)
        ├── ApiError                an AWS API error (code, message, HTTP status) for the server
        ├── ConfigurationError      a missing optional dependency or a bad setting
        ├── StoreUnavailableError   the store's database cannot be reached (names the store URL,
        │                           never its password)
        └── ExecutionDropped        what a waiter for an execution's end gets when this process
                                    stopped running it first (a commit of its progress failed, or
                                    another process committed it); __cause__: the store's error

Only :class:`StatesError` is part of the language; everything else is stepflow's own.
"""

from __future__ import annotations

from dataclasses import dataclass

# AWS predefined error names (States Language specification, "Errors").
ALL = "States.ALL"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
TIMEOUT = "States.Timeout"
TASK_FAILED = "States.TaskFailed"
PERMISSIONS = "States.Permissions"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"


class StatesError(Exception):
    """An ASL runtime failure carried as a value: ``error`` name and human ``cause``."""

    def __init__(self, error: str, cause: str | None = None):
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause

    def __repr__(self) -> str:
        return f"StatesError({self.error!r}, {self.cause!r})"


class StepflowError(Exception):
    """Base of every stepflow error that is not an ASL runtime failure."""


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a definition: AWS's code, the message, and a JSON-pointer location."""

    code: str  # e.g. SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET
    message: str
    location: str  # JSON pointer, e.g. /States/Hello/Next
    severity: str = "ERROR"  # ERROR blocks CreateStateMachine; WARNING does not

    def render(self) -> str:
        """AWS's wording: ``CODE: message at /location`` (``at null`` without a location)."""
        return f"{self.code}: {self.message} at {self.location or 'null'}"


class DefinitionError(StepflowError):
    """An invalid definition; ``diagnostics`` holds every problem found, not just the first."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__(self.aws_message())

    def aws_message(self) -> str:
        """The message AWS returns with InvalidDefinition."""
        body = ", ".join(d.render() for d in self.diagnostics)
        return f"Invalid State Machine Definition: '{body}'"


class InvalidInputError(StepflowError):
    """Execution input that is not valid JSON, or too large."""


class TemplateError(StepflowError):
    """An invalid SAM template; the message names the resource and property."""


class ConfigurationError(StepflowError):
    """A missing optional dependency or an invalid setting."""


class StoreUnavailableError(StepflowError):
    """The store's database server cannot be reached (down, restarted, or the connection was lost
    while a transaction committed, so its outcome is unknown). The message names the store URL
    without its password."""


class ExecutionDropped(StepflowError):
    """This process no longer runs an execution that had not ended: a commit of its progress
    failed (``__cause__`` is the store's error; the execution continues from what the store holds
    when it is adopted again) or was refused (another process committed it and runs it now)."""

    def __init__(self, arn: str, reason: str):
        super().__init__(f"execution {arn} is no longer run by this process: {reason}")
        self.arn = arn


class ApiError(StepflowError):
    """An AWS API error as the server returns it: ``code`` (e.g. ``ExecutionDoesNotExist``)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
