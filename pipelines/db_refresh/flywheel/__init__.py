"""flywheel: local stand-ins for the omc-flywheel db-refresh Glue jobs.

Modules: ``args`` (Glue-style arguments), ``bucket`` (the one bucket function), ``layout`` (the
local folder tree), ``catalog`` (the SQLite Glue Data Catalog), ``athena`` (DuckDB queries over
registered partitions), ``storage`` (deterministic Parquet writes, atomic folder swaps, markers),
``snapshots``, ``mapping``, ``generator`` (synthetic data), ``checks`` (reference checks) and
``jobs.*`` (the seven jobs, each ``python -m flywheel.jobs.<name>``).
"""
