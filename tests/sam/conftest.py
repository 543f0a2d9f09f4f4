"""Helpers for the SAM template tests: write a template (and its files) into a temporary
folder and load it as a Project."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from stepflow.sam import load_project


@pytest.fixture
def project_dir(tmp_path):
    """``project_dir(template_text, files={path: text or JSON value})``: write template.yaml and
    the files; returns the template path."""

    def _write(template: str, files: dict | None = None) -> Path:
        for name, content in (files or {}).items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        path = tmp_path / "template.yaml"
        path.write_text(textwrap.dedent(template), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def load(project_dir):
    """``load(template_text, overrides=None, files=None)``: the Project of a template written to a
    temporary folder."""

    def _load(template: str, overrides: dict | None = None, files: dict | None = None):
        return load_project(project_dir(template, files), overrides)

    return _load
