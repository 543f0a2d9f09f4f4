"""What the store keeps besides executions: state machines and their definitions."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class StateMachineRecord:
    """A state machine as CreateStateMachine made it (DescribeStateMachine's fields)."""

    arn: str
    name: str
    definition: str  # the definition text exactly as sent
    role_arn: str
    type: str = "STANDARD"
    creation_date: float = 0.0
    revision_id: str = ""
    status: str = "ACTIVE"
    description: str = ""
    logging_configuration: dict = field(default_factory=lambda: {"level": "OFF", "includeExecutionData": False})
    tracing_configuration: dict = field(default_factory=lambda: {"enabled": False})
    tags: dict = field(default_factory=dict)
    update_date: float | None = None
