"""stepflow: AWS Step Functions on one machine.

The public Python API is :func:`run`; everything else is reached through the ``stepflow``
command or the Step Functions API that ``stepflow serve`` offers.
"""

from stepflow.engine.clock import Clock, FakeClock
from stepflow.engine.interpreter import Limits
from stepflow.errors import DefinitionError, StatesError, StepflowError
from stepflow.runtime import Result, run

__all__ = ["run", "Result", "Clock", "FakeClock", "Limits", "DefinitionError", "StatesError", "StepflowError"]
__version__ = "0.1.0"
