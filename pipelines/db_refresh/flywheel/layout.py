"""The local folder tree (db-refresh.md B2), all under one root:

    data/raw/infobase_attributes/snapshot_dt=YYYY-MM-DD/part-*.parquet
    data/raw/addressable_ids/snapshot_dt=YYYY-MM-DD/part-*.parquet
    data/split_part/infobase_attributes/<OMC_TABLE>/id_bucket=<k>/part-*.parquet (+ metadata/)
    data/split_part/addressable_ids/addressable_ids/id_bucket=<k>/part-*.parquet (+ metadata/)
    data/identity/acx_ids_cur/part-*.parquet
    config/mapping.csv, config/cleanrooms.json
    catalog/glue_catalog.sqlite
    reports/<job>/<run_ts>/report.{json,csv}
    notifications.jsonl
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

INFOBASE = "infobase_attributes"
ADDRESSABLE = "addressable_ids"
METADATA = "metadata"
SNAPSHOT_FILE = "snapshot_dt.txt"
KEY = "customer_user_id"
PARTITION_KEY = "id_bucket"
DEFAULT_DATABASE = "omc_flywheel_dev_clean"
DEFAULT_PREFIX = "part_"
ER_TABLE = "part_addressable_ids_er"


@dataclass(frozen=True)
class Layout:
    """Paths of one flywheel root."""

    root: Path

    @classmethod
    def at(cls, root: str | Path) -> "Layout":
        return cls(Path(root).resolve())

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def split_part(self) -> Path:
        return self.root / "data" / "split_part"

    def raw_source(self, dataset: str) -> Path:
        return self.raw / dataset

    def target(self, dataset: str) -> Path:
        return self.split_part / dataset

    @property
    def er_path(self) -> Path:
        return self.root / "data" / "identity" / "acx_ids_cur"

    @property
    def mapping(self) -> Path:
        return self.root / "config" / "mapping.csv"

    @property
    def cleanrooms(self) -> Path:
        return self.root / "config" / "cleanrooms.json"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog" / "glue_catalog.sqlite"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def notifications(self) -> Path:
        return self.root / "notifications.jsonl"


def local_path(path: str) -> Path:
    """A job argument naming a folder or file: a local path, or a ``file://`` URI."""
    if path.startswith("file://"):
        path = path[len("file://"):]
    return Path(path).expanduser()
