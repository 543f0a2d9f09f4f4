"""Paths and small values shared by the SAM template tests."""

from __future__ import annotations

from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "sam_project"
TEMPLATE = FIXTURE / "template.yaml"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
