"""Step Functions API actions beyond state machines and executions, as mixins of
:class:`stepflow.service.StepFunctions`: activities, versions and aliases, tags, TestState,
Map runs and task tokens. Each mixin uses the service's ``store``, ``clock``, ``region``, ``account``,
``machines``, ``runner``, ``_arn`` and ``_machine``.
"""

from stepflow.api.activities import ActivitiesMixin, ActivityQueue
from stepflow.api.aliases import AliasesMixin
from stepflow.api.map_runs import MapRunJournal, MapRunsMixin
from stepflow.api.tags import TagsMixin
from stepflow.api.task_tokens import TaskTokensMixin
from stepflow.api.test_state import TestStateMixin
from stepflow.api.versions import VersionsMixin, resolve_target

# The base classes StepFunctions takes these actions from.
MIXINS = (ActivitiesMixin, VersionsMixin, AliasesMixin, TagsMixin, TestStateMixin, MapRunsMixin, TaskTokensMixin)

__all__ = ["MIXINS", "ActivitiesMixin", "ActivityQueue", "AliasesMixin", "MapRunJournal", "MapRunsMixin", "TagsMixin", "TaskTokensMixin", "TestStateMixin", "VersionsMixin", "resolve_target"]
