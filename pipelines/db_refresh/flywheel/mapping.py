"""``config/mapping.csv``: which source column goes to which OMC table under which name.

Columns: ``Source, Source Column, Source Element Number, Functional Description, OMC Table,
OMC Column``. Tables keep the order of their first row, columns the order of the file.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from flywheel.errors import ColumnLimitError, MappingError
from flywheel.layout import KEY, METADATA, PARTITION_KEY

HEADER = ("Source", "Source Column", "Source Element Number", "Functional Description", "OMC Table", "OMC Column")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
RESERVED = {KEY, PARTITION_KEY}


@dataclass(frozen=True)
class MappedColumn:
    source_column: str
    omc_column: str
    element: str = ""
    description: str = ""
    source: str = ""


@dataclass(frozen=True)
class MappedTable:
    name: str
    columns: tuple[MappedColumn, ...]

    def column_count(self) -> int:
        """Columns of the part table: the key, the attributes and ``id_bucket``."""
        return len(self.columns) + 2


def read_mapping(path: Path) -> list[MappedTable]:
    """Parse and validate the mapping file (MappingError naming the row and problem)."""
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [h for h in HEADER if h not in (reader.fieldnames or [])]
            if missing:
                raise MappingError(f"{path}: header lacks {', '.join(missing)}")
            rows = list(reader)
    except OSError as err:
        raise MappingError(f"cannot read mapping {path}: {err}") from None
    return _tables(path, rows)


def _tables(path: Path, rows: list[dict]) -> list[MappedTable]:
    tables: dict[str, list[MappedColumn]] = {}
    seen_sources: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        table, column = (row.get("OMC Table") or "").strip(), (row.get("OMC Column") or "").strip()
        source = (row.get("Source Column") or "").strip()
        _check_row(path, line, table, column, source, seen_sources)
        if any(c.omc_column == column for c in tables.get(table, ())):
            raise MappingError(f"{path}:{line}: column {column} appears twice in table {table}")
        seen_sources[source] = line
        tables.setdefault(table, []).append(MappedColumn(
            source, column, (row.get("Source Element Number") or "").strip(),
            (row.get("Functional Description") or "").strip(), (row.get("Source") or "").strip()))
    if not tables:
        raise MappingError(f"{path}: no mapping rows")
    return [MappedTable(name, tuple(cols)) for name, cols in tables.items()]


def _check_row(path, line, table, column, source, seen_sources) -> None:
    if not NAME.fullmatch(table) or table.lower() == METADATA:
        raise MappingError(f"{path}:{line}: bad OMC Table {table!r}")
    if not NAME.fullmatch(column) or column.lower() in RESERVED:
        raise MappingError(f"{path}:{line}: bad OMC Column {column!r}")
    if not source:
        raise MappingError(f"{path}:{line}: empty Source Column")
    if source in seen_sources:
        raise MappingError(f"{path}:{line}: Source Column {source} already mapped on line {seen_sources[source]}")


def check_column_limit(tables: list[MappedTable], max_cols: int) -> None:
    """ColumnLimitError naming every table whose part table would exceed ``max_cols`` columns."""
    over = [t for t in tables if t.column_count() > max_cols]
    if over:
        detail = "; ".join(f"{t.name} would have {t.column_count()} columns ({len(t.columns)} mapped + "
                           f"{KEY} + {PARTITION_KEY})" for t in over)
        raise ColumnLimitError(f"mapping table(s) over MAX_COLS={max_cols}: {detail}; split them in the mapping")


def write_mapping(path: Path, tables: list[MappedTable]) -> None:
    """Write a mapping file (the generator's and the tests')."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for table in tables:
            for c in table.columns:
                writer.writerow([c.source, c.source_column, c.element, c.description, table.name, c.omc_column])
