"""Helpers for Glue-style job scripts run by stepflow's ``glue:startJobRun`` integration.

``getResolvedOptions(sys.argv, ["JOB_NAME", "SOURCE"])`` reads the ``--NAME value`` arguments a
Glue job run passes to its script, as ``awsglue.utils.getResolvedOptions`` does in AWS Glue: it
returns ``{"JOB_NAME": ..., "SOURCE": ...}``, ignores arguments it was not asked for, and exits
with argparse's "the following arguments are required" message when one is missing.

Scripts written for AWS keep ``from awsglue.utils import getResolvedOptions``: stepflow puts a
small ``awsglue`` package (``stepflow/glue/shim``) on the job's PYTHONPATH, only for job runs and
only when no real ``awsglue`` is installed. It offers ``awsglue.utils.getResolvedOptions`` and
nothing of Glue's Spark API.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

SHIM_PATH = Path(__file__).resolve().parent / "shim"

__all__ = ["getResolvedOptions", "SHIM_PATH"]


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, str]:  # noqa: N802 - Glue's name
    """The values of ``--OPTION value`` (or ``--OPTION=value``) arguments named in ``options``."""
    parser = argparse.ArgumentParser(prog=Path(args[0]).name if args else "job", add_help=False, allow_abbrev=False)
    for option in options:
        parser.add_argument(f"--{option}", dest=option, required=True)
    known, _ = parser.parse_known_args(list(args[1:]))
    return {option: getattr(known, option) for option in options}
