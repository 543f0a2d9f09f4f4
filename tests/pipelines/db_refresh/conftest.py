"""Fixtures for the db-refresh pipeline (pipelines/db_refresh): generated data copied per test.

``generated`` (session): one synthetic data set (1K customers, 120 attributes in 12 tables,
every default fault) generated once; ``world`` (function): a private copy of it, as a
:class:`flywheel.layout.Layout`.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[3] / "pipelines" / "db_refresh"
sys.path.insert(0, str(PIPELINE))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flywheel.generator import Config, generate  # noqa: E402
from flywheel.layout import Layout  # noqa: E402
from flywheel_testlib import SMALL  # noqa: E402


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("flywheel-generated")
    generate(root, SMALL)
    return root


@pytest.fixture
def world(generated, tmp_path) -> Layout:
    shutil.copytree(generated, tmp_path / "root")
    return Layout.at(tmp_path / "root")


@pytest.fixture
def small_config() -> Config:
    return SMALL
