"""Where the warehouse lives, shared by the refresh's functions.

``WAREHOUSE_DIR`` (template Globals) holds ``staging/<snapshot>/`` (what tonight's run builds),
``snapshots/<snapshot>/`` (what was published) and ``current`` (a link to the latest published
snapshot). A relative path is read from the function's code folder, as Lambda's working
directory is its task root.
"""

import os
from pathlib import Path


def root() -> Path:
    return Path(os.environ["WAREHOUSE_DIR"]).resolve()


def staging(snapshot_date: str) -> Path:
    return root() / "staging" / snapshot_date


def current() -> Path:
    return root() / "current"
