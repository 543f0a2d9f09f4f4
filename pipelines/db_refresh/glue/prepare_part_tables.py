"""Glue job script: flywheel.jobs.prepare_part_tables (see that module for its arguments)."""

from _entry import run_job

run_job("prepare_part_tables")
