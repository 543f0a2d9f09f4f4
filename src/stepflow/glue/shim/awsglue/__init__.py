"""A stand-in for AWS Glue's ``awsglue`` package in jobs run by stepflow: only ``awsglue.utils``
(``getResolvedOptions``). Put on a job run's PYTHONPATH only, never installed as ``awsglue``."""
