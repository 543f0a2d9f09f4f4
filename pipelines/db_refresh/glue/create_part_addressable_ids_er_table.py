"""Glue job script: flywheel.jobs.create_part_addressable_ids_er_table (see that module for its arguments)."""

from _entry import run_job

run_job("create_part_addressable_ids_er_table")
