"""Synthetic InfoBase data for the db-refresh pipeline (db-refresh.md B7), seeded and repeatable.

* ``config/mapping.csv``: ~28 OMC tables named like the original's (``IBE_01`` ... ``IBE_09``,
  ``MIACS_01`` ... ``MIACS_04``, ``NEW_BORROWERS``, ``N_A`` and ``_A``/``_B`` variants), each with
  3 .. MAX_COLS-2 attributes (``ibe1802``, ``miacs0231`` ...), ``attributes`` (W) in all.
* ``data/raw/infobase_attributes/snapshot_dt=D/part-*.parquet``: ``customers`` (N) rows,
  ``customer_user_id`` = 16 uppercase hex characters, one-character codes, Y/N flags, small
  integers and years, each column NULL at a rate drawn from U(0.1, 0.9).
* ``data/raw/addressable_ids/snapshot_dt=D/``: 70% of the customers plus 1% unknown ids.
* ``config/cleanrooms.json``: a collaboration configuring every part table.
* Faults (:class:`Faults`): duplicate ids (a second, different row after the first) and NULL ids
  at 0.01% (at least one each when the rate is not 0), the source key spelled
  ``Customer_User_id``, an older valid snapshot folder and malformed ones that sort after the
  real one, optionally a mapped column absent from the source.

Files are written with ``pyarrow.parquet.ParquetWriter`` in 100K-row groups, a chunk at a time.
``python -m flywheel.generator --root DIR [--customers N] [--attributes W] ...``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from flywheel.layout import ADDRESSABLE, DEFAULT_DATABASE, DEFAULT_PREFIX, ER_TABLE, INFOBASE, KEY, Layout
from flywheel.mapping import MappedColumn, MappedTable, write_mapping

FAMILIES = (("IBE", "ibe", 9), ("MIACS", "miacs", 4), ("NEW_BORROWERS", "nb", 0), ("N_A", "na", 0))
KINDS = ("code", "flag", "small_int", "year")
CODES = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"))
MALFORMED = ("snapshot_dt=latest", "snapshot_dt=2099-13-01")


@dataclass(frozen=True)
class Faults:
    duplicate_id_rate: float = 0.0001
    null_id_rate: float = 0.0001
    mixed_case_key: bool = True          # the InfoBase key spelled Customer_User_id
    extra_snapshots: bool = True         # an older valid folder + malformed ones sorting after
    missing_mapped_column: bool = False  # one mapped column absent from the InfoBase source


@dataclass(frozen=True)
class Config:
    customers: int = 1_000
    attributes: int = 300
    tables: int = 28
    seed: int = 42
    snapshot_dt: str = "2025-01-15"
    max_cols: int = 100
    addressable_share: float = 0.70
    unknown_share: float = 0.01
    rows_per_file: int = 1_000_000
    row_group_size: int = 100_000
    database: str = DEFAULT_DATABASE
    table_prefix: str = DEFAULT_PREFIX
    faults: Faults = field(default_factory=Faults)


# mapping -----------------------------------------------------------------------------------------

def table_names(count: int) -> list[str]:
    """``count`` OMC table names: the base names, then ``_A``/``_B`` variants, then numbered ones."""
    base = [f"{f}_{i:02d}" for f, _, n in FAMILIES if n for i in range(1, n + 1)] + [f for f, _, n in FAMILIES if not n]
    names = base + [f"{b}_{s}" for b in base for s in ("A", "B")]
    names += [f"IBE_{i:02d}" for i in range(10, 10 + max(0, count - len(names)))]
    return names[:count]


def table_sizes(rng: np.random.Generator, attributes: int, tables: int, max_cols: int) -> list[int]:
    """Attributes per table: each 3 .. max_cols-2, ``attributes`` in all."""
    top = max_cols - 2
    tables = max(1, min(tables, attributes // 3))
    if attributes > top * tables:
        raise ValueError(f"{attributes} attributes do not fit {tables} tables of at most {top}")
    sizes = np.full(tables, 3)
    for _ in range(attributes - 3 * tables):
        open_ = np.flatnonzero(sizes < top)
        sizes[rng.choice(open_)] += 1
    return sizes.tolist()


def build_mapping(cfg: Config, rng: np.random.Generator) -> list[MappedTable]:
    names = table_names(cfg.tables)
    sizes = table_sizes(rng, cfg.attributes, len(names), cfg.max_cols)
    elements = iter(rng.permutation(np.arange(1, 10_000))[: cfg.attributes].tolist())
    tables = []
    for name, size in zip(names, sizes):
        prefix = next(p for f, p, _ in FAMILIES if name.startswith(f))
        cols = []
        for _ in range(size):
            element = next(elements)
            column = f"{prefix}{element:04d}"
            cols.append(MappedColumn(column.upper(), column, str(element), f"Synthetic {prefix.upper()} element {element}",
                                     "InfoBase"))
        tables.append(MappedTable(name, tuple(cols)))
    return tables


# rows --------------------------------------------------------------------------------------------

def hex_ids(rng: np.random.Generator, count: int, taken: set[str] = frozenset()) -> list[str]:
    """``count`` distinct 16-character uppercase hex ids not in ``taken``."""
    out: list[str] = []
    seen = set(taken)
    while len(out) < count:
        for value in rng.integers(0, 2 ** 63, size=count - len(out), dtype=np.int64).tolist():
            text = f"{value * 2 + int(rng.integers(0, 2)):016X}"
            if text not in seen:
                seen.add(text)
                out.append(text)
    return out


def fault_count(rows: int, rate: float) -> int:
    return 0 if rate <= 0 else max(1, round(rows * rate))


def with_faults(rng: np.random.Generator, ids: list[str], faults: Faults) -> list[str | None]:
    """The id column in file order: every id once, some a second time after their first row,
    some NULLs anywhere."""
    n = len(ids)
    keys = [(float(i), ids[i]) for i in range(n)]
    for i in rng.choice(n, size=min(n, fault_count(n, faults.duplicate_id_rate)), replace=False).tolist():
        keys.append((float(rng.uniform(i + 0.5, n)), ids[i]))
    for _ in range(fault_count(n, faults.null_id_rate)):
        keys.append((float(rng.uniform(0, n)), None))
    return [value for _, value in sorted(keys, key=lambda k: k[0])]


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str
    null_rate: float


def column_specs(rng: np.random.Generator, source_columns: list[str]) -> list[ColumnSpec]:
    return [ColumnSpec(c, KINDS[int(rng.integers(0, len(KINDS)))], float(rng.uniform(0.1, 0.9))) for c in source_columns]


def column_values(rng: np.random.Generator, spec: ColumnSpec, rows: int) -> pa.Array:
    mask = rng.random(rows) < spec.null_rate
    if spec.kind == "code":
        return pa.array(CODES[rng.integers(0, 8, rows)], type=pa.string(), mask=mask)
    if spec.kind == "flag":
        return pa.array(np.where(rng.random(rows) < 0.5, "Y", "N"), type=pa.string(), mask=mask)
    if spec.kind == "small_int":
        return pa.array(rng.integers(0, 100, rows, dtype=np.int32), type=pa.int32(), mask=mask)
    return pa.array(rng.integers(1920, 2025, rows, dtype=np.int32), type=pa.int32(), mask=mask)


def write_rows(folder: Path, key: str, ids: list[str | None], specs: list[ColumnSpec], cfg: Config, seed: int) -> int:
    """Write the rows in ``part-NNNNN.parquet`` files, one row group (chunk) at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([(key, pa.string())] + [(s.name, pa.string() if s.kind in ("code", "flag") else pa.int32())
                                               for s in specs])
    files = 0
    for file_index, start in enumerate(range(0, max(len(ids), 1), cfg.rows_per_file)):
        stop = min(len(ids), start + cfg.rows_per_file)
        with pq.ParquetWriter(folder / f"part-{file_index:05d}.parquet", schema) as writer:
            for chunk in range(start, max(stop, start + 1), cfg.row_group_size):
                end = min(stop, chunk + cfg.row_group_size)
                rng = np.random.default_rng([seed, chunk])
                arrays = [pa.array(ids[chunk:end], type=pa.string())] + [column_values(rng, s, end - chunk) for s in specs]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=cfg.row_group_size)
        files += 1
    return files


# the whole tree ----------------------------------------------------------------------------------

def cleanrooms_config(cfg: Config, tables: list[MappedTable]) -> dict:
    part = [(cfg.table_prefix + ADDRESSABLE, [KEY], "LIST")]
    part += [(cfg.table_prefix + t.name.lower(), [KEY] + [c.omc_column for c in t.columns], "AGGREGATION") for t in tables]
    configured = [{"name": f"cfg_{name}", "source_table": {"database": cfg.database, "table": name},
                   "allowed_columns": cols, "analysis_rule": {"type": rule}} for name, cols, rule in part]
    return {
        "collaboration": {"id": "collab-omc-flywheel", "name": "OMC flywheel (synthetic)"},
        "membership": {"id": "membership-omc", "collaboration_id": "collab-omc-flywheel"},
        "configured_tables": configured,
        "associations": [{"name": f"assoc_{c['name']}", "configured_table": c["name"], "membership_id": "membership-omc"}
                         for c in configured],
        "id_namespaces": [{"name": "omc-acx-ids", "type": "SOURCE", "input_fields": ["row_id", KEY],
                           "source_table": {"database": cfg.database, "table": ER_TABLE}}],
    }


def write_snapshot(layout: Layout, cfg: Config, snapshot_dt: str, ids: list[str], specs: list[ColumnSpec],
                   seed: int) -> dict:
    rng = np.random.default_rng([seed, 1])
    key = "Customer_User_id" if cfg.faults.mixed_case_key else KEY
    info_ids = with_faults(rng, ids, cfg.faults)
    addressable = [ids[i] for i in sorted(rng.choice(len(ids), size=round(len(ids) * cfg.addressable_share), replace=False))]
    addressable += hex_ids(rng, max(1, round(len(ids) * cfg.unknown_share)) if cfg.unknown_share else 0, set(ids))
    address_ids = with_faults(rng, addressable, cfg.faults)
    folder = f"snapshot_dt={snapshot_dt}"
    write_rows(layout.raw_source(INFOBASE) / folder, key, info_ids, specs, cfg, seed)
    write_rows(layout.raw_source(ADDRESSABLE) / folder, KEY, address_ids, [], cfg, seed + 1)
    return {"infobase_rows": len(info_ids), "addressable_rows": len(address_ids),
            "customers": len(ids), "addressable_distinct": len(set(addressable))}


def older_date(snapshot_dt: str) -> str:
    return (dt.date.fromisoformat(snapshot_dt) - dt.timedelta(days=31)).isoformat()


def generate(root: str | Path, cfg: Config = Config()) -> dict:
    """Write mapping, Clean Rooms config and raw snapshots under ``root``; a summary."""
    layout = Layout.at(root)
    rng = np.random.default_rng(cfg.seed)
    tables = build_mapping(cfg, rng)
    write_mapping(layout.mapping, tables)
    layout.cleanrooms.parent.mkdir(parents=True, exist_ok=True)
    layout.cleanrooms.write_text(json.dumps(cleanrooms_config(cfg, tables), indent=2) + "\n")
    sources = [c.source_column for t in tables for c in t.columns]
    if cfg.faults.missing_mapped_column:
        sources = sources[:-1]
    specs = column_specs(rng, sources)
    ids = hex_ids(rng, cfg.customers)
    summary = write_snapshot(layout, cfg, cfg.snapshot_dt, ids, specs, cfg.seed)
    if cfg.faults.extra_snapshots:
        _extra_snapshots(layout, cfg, specs, ids)
    return {**summary, "tables": len(tables), "attributes": sum(len(t.columns) for t in tables),
            "snapshot_dt": cfg.snapshot_dt, "root": str(layout.root), "config": asdict(cfg)}


def _extra_snapshots(layout: Layout, cfg: Config, specs: list[ColumnSpec], ids: list[str]) -> None:
    """An older valid snapshot (a tenth of the customers) and malformed folders that would sort
    after the real one, each holding a copy of the older data."""
    older = older_date(cfg.snapshot_dt)
    small = replace(cfg, faults=replace(cfg.faults, extra_snapshots=False))
    write_snapshot(layout, small, older, ids[: max(10, len(ids) // 10)], specs, cfg.seed + 7)
    for dataset in (INFOBASE, ADDRESSABLE):
        for name in MALFORMED:
            target = layout.raw_source(dataset) / name
            target.mkdir(parents=True, exist_ok=True)
            for part in (layout.raw_source(dataset) / f"snapshot_dt={older}").glob("*.parquet"):
                (target / part.name).write_bytes(part.read_bytes())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m flywheel.generator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--customers", type=int, default=Config.customers)
    parser.add_argument("--attributes", type=int, default=Config.attributes)
    parser.add_argument("--tables", type=int, default=Config.tables)
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--snapshot-dt", default=Config.snapshot_dt)
    parser.add_argument("--missing-mapped-column", action="store_true")
    parser.add_argument("--no-faults", action="store_true", help="no duplicate/NULL ids, key spelled normally, one snapshot")
    ns = parser.parse_args(argv)
    faults = Faults(0, 0, False, False, ns.missing_mapped_column) if ns.no_faults else Faults(
        missing_mapped_column=ns.missing_mapped_column)
    cfg = Config(customers=ns.customers, attributes=ns.attributes, tables=ns.tables, seed=ns.seed,
                 snapshot_dt=ns.snapshot_dt, faults=faults)
    summary = generate(ns.root, cfg)
    print(json.dumps({k: v for k, v in summary.items() if k != "config"}, indent=2))
    return summary


if __name__ == "__main__":
    main()
