"""Glue job runs record an absolute LogFile, so ``stepflow glue-runs`` run from another folder
than ``stepflow serve`` still names a file that exists."""

import os

from stepflow.integrations.glue import GlueJobs
from stepflow.store import open_store


def test_a_relative_log_folder_is_recorded_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    jobs = GlueJobs(lambda: [], open_store("memory://"), ".stepflow/glue")
    assert jobs.log_dir == tmp_path / ".stepflow" / "glue"
    os.chdir("/")
    assert jobs.log_dir.is_absolute() and jobs.log_dir == tmp_path / ".stepflow" / "glue"
