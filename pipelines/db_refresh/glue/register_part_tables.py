"""Glue job script: flywheel.jobs.register_part_tables (see that module for its arguments)."""

from _entry import run_job

run_job("register_part_tables")
