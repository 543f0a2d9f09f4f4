"""The exceptions a flywheel job raises. A job run that raises one exits non-zero with its
traceback, which is what Glue (and stepflow's Glue integration) reports as the run's ErrorMessage.

    FlywheelError
     +-- ArgumentError          missing or malformed --NAME arguments (all named at once)
     +-- SnapshotError          no valid snapshot_dt=YYYY-MM-DD folder, or an empty one
     +-- MappingError           mapping.csv malformed, or a mapped column missing from the source
     +-- ColumnLimitError       a part table over MAX_COLS (key and id_bucket counted)
     +-- OverwriteRefused       the ER table would change and --FORCE is false
     +-- CatalogError           catalog entity missing or already there
     +-- ChecksFailed           a report found findings at or above --FAIL_ON
"""


class FlywheelError(Exception):
    """Base of every error a flywheel job raises on purpose."""


class ArgumentError(FlywheelError):
    """Glue-style arguments missing or not of the expected type."""


class SnapshotError(FlywheelError):
    """The source has no usable ``snapshot_dt=`` folder."""


class MappingError(FlywheelError):
    """The mapping file does not fit the source (or itself)."""


class ColumnLimitError(FlywheelError):
    """A part table would have (or has) more than MAX_COLS columns."""


class OverwriteRefused(FlywheelError):
    """An existing output would be replaced without --FORCE true."""


class CatalogError(FlywheelError):
    """A catalog entity is missing, or already exists."""


class ChecksFailed(FlywheelError):
    """A report's findings reached the --FAIL_ON severity."""
