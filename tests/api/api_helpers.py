"""Shared helpers of tests/api: a runtime whose service has the API mixins, definitions."""

from __future__ import annotations

from stepflow.api import MIXINS
from stepflow.engine.clock import FakeClock
from stepflow.runtime import Runtime, Settings
from stepflow.service import StepFunctions

ROLE = "arn:aws:iam::123456789012:role/test"
PASS = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"v": 1}, "End": true}}}'
PASS2 = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"v": 2}, "End": true}}}'

_missing = tuple(m for m in MIXINS if not issubclass(StepFunctions, m))
Service = type("Service", (StepFunctions, *_missing), {}) if _missing else StepFunctions


def make_runtime(**settings) -> Runtime:
    settings.setdefault("clock", FakeClock())
    rt = Runtime(Settings(**settings))
    old = rt.service
    rt.service = Service(old.store, old.runner, old.machines, old.clock, old.limits, old.region, old.account)
    return rt
