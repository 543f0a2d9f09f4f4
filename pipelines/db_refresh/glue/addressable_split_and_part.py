"""Glue job script: flywheel.jobs.addressable_split_and_part (see that module for its arguments)."""

from _entry import run_job

run_job("addressable_split_and_part")
