"""SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat: the answers to a ``.waitForTaskToken``
task (or an activity task), matched by token to the task that waits (``callbacks``)."""

from __future__ import annotations

import json
import re

from stepflow.api.common import require
from stepflow.errors import ApiError

TOKEN = re.compile(r"^[0-9a-f]{64}$")  # the form of the task tokens stepflow issues


class TaskTokensMixin:
    """Uses the service's ``callbacks`` and ``runner``."""

    def send_task_success(self, taskToken: str = None, output: str = None, **_) -> dict:
        require(taskToken=taskToken, output=output)
        try:
            json.loads(output)
        except ValueError as err:
            raise ApiError("InvalidOutput", f"Invalid Output: '{err}'") from None
        if not self.callbacks.succeed(taskToken, output):
            raise unknown_token(taskToken)
        self.runner.before_reply()
        return {}

    def send_task_failure(self, taskToken: str = None, error: str = None, cause: str = None, **_) -> dict:
        require(taskToken=taskToken)
        if not self.callbacks.fail(taskToken, error, cause):
            raise unknown_token(taskToken)
        self.runner.before_reply()
        return {}

    def send_task_heartbeat(self, taskToken: str = None, **_) -> dict:
        require(taskToken=taskToken)
        request = self.callbacks.find(taskToken)
        exe = self.runner.active.get(request.execution_arn) if request is not None else None
        if exe is None:
            raise unknown_token(taskToken)
        self.runner.heartbeat(exe, request.step)
        self.runner.before_reply()
        return {}


def unknown_token(token: str) -> ApiError:
    """InvalidToken for a token stepflow could not have issued, TaskDoesNotExist for one of
    ours that no task waits for (any more)."""
    if not isinstance(token, str) or not TOKEN.match(token):
        return ApiError("InvalidToken", f"Invalid Token: '{token}'")
    return ApiError("TaskDoesNotExist", "Task Does Not Exist")
