"""One handler per state type (DESIGN.md §1: one module per state type)."""

from stepflow.engine.states.choice import ChoiceHandler
from stepflow.engine.states.map_ import MapHandler
from stepflow.engine.states.parallel import ParallelHandler
from stepflow.engine.states.simple import FailHandler, PassHandler, SucceedHandler
from stepflow.engine.states.task import TaskHandler
from stepflow.engine.states.wait import WaitHandler

HANDLERS = {
    "Pass": PassHandler(),
    "Task": TaskHandler(),
    "Choice": ChoiceHandler(),
    "Wait": WaitHandler(),
    "Succeed": SucceedHandler(),
    "Fail": FailHandler(),
    "Parallel": ParallelHandler(),
    "Map": MapHandler(),
}
