"""The handler's error classes. Their names are the Step Functions error names (errorType), so
the state machines retry exactly the transient ones (domain spec A5.2, A6)."""

from __future__ import annotations


class PipelineError(Exception):
    """Base: a failure with a stable code, its message already free of secrets."""

    code = "PIPELINE_ERROR"

    def __init__(self, message: str, code: str | None = None):
        self.code = code or self.code
        super().__init__(f"{self.code}: {message}")


class ConfigValidationError(PipelineError):
    """Configuration, schema or reference data is wrong; retrying cannot help."""

    code = "CONFIG_INVALID"


class DatabaseUnavailableError(PipelineError):
    """The database cannot be reached (DB_UNREACHABLE): the only retryable validate error."""

    code = "DB_UNREACHABLE"


class TransientDatabaseError(PipelineError):
    """Connection lost, serialization failure, deadlock, lock timeout: retry."""

    code = "DB_TRANSIENT"


class StagingLostError(PipelineError):
    """visit_staging is empty although Task 01 staged rows (crash recovery emptied it)."""

    code = "STAGING_LOST"


class PipelineDataError(PipelineError):
    """Bad input (event fields, run ids, data the SQL refuses): not retried."""

    code = "DATA_ERROR"


TRANSIENT_ERRORS = ("DatabaseUnavailableError", "TransientDatabaseError")
