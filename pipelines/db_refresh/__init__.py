"""omc-flywheel db-refresh: the monthly seven-job Glue-style database refresh as a stepflow
application (shared/domain/db-refresh.md). The code lives in the ``flywheel`` package beside this
file; ``python -m pipelines.db_refresh.refresh`` (``make refresh``) runs the workflow once."""
