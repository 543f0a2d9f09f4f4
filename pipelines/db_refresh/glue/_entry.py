"""What every Glue job script of the db-refresh workflow does: read Glue's own arguments with
``awsglue.utils.getResolvedOptions`` (stepflow provides it locally), then run the job's code from
the ``flywheel`` package, which parses the job's ``--NAME value`` arguments itself
(``flywheel.args.get_resolved_options``: unknown ones ignored, ``_NONE_`` = not given).

Relative paths in the arguments are read from the pipeline folder (this file's parent's parent).
A failing job raises: the process exits 1 with the traceback, the run's Glue ErrorMessage.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from awsglue.utils import getResolvedOptions

PIPELINE = Path(__file__).resolve().parents[1]


def run_job(name: str) -> dict:
    glue = getResolvedOptions(sys.argv, ["JOB_NAME", "JOB_RUN_ID"])
    print(f"Glue job {glue['JOB_NAME']} run {glue['JOB_RUN_ID']}: flywheel.jobs.{name}", flush=True)
    sys.path.insert(0, str(PIPELINE))
    os.chdir(PIPELINE)
    job = importlib.import_module(f"flywheel.jobs.{name}")
    return job.main(sys.argv[1:])
