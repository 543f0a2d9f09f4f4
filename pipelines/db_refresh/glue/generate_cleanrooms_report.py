"""Glue job script: flywheel.jobs.generate_cleanrooms_report (see that module for its arguments)."""

from _entry import run_job

run_job("generate_cleanrooms_report")
