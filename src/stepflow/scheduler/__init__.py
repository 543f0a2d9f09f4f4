"""EventBridge schedules: expressions (cron/rate/at) and the loop that fires them."""

from stepflow.scheduler.expressions import Schedule, ScheduleExpressionError, parse
from stepflow.scheduler.loop import Scheduler

__all__ = ["Schedule", "ScheduleExpressionError", "Scheduler", "parse"]
