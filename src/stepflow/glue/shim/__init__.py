"""The directory put on a Glue job run's PYTHONPATH (holds the ``awsglue`` stand-in)."""
