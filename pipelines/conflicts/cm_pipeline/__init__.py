"""cm-etl-pipeline: EVV conflict management on PostgreSQL as a stepflow application.

One Lambda handler (:func:`cm_pipeline.handler.lambda_handler`) with the actions of the domain
specification (``shared/domain/conflicts.md`` A7), the CLI ``python -m cm_pipeline <action>``,
a seeded synthetic data generator and an independent brute-force reference.
"""

FLAGS = (
    "SameSchTimeFlag", "SameVisitTimeFlag", "SchAndVisitTimeSameFlag", "SchOverAnotherSchTimeFlag",
    "VisitTimeOverAnotherVisitTimeFlag", "SchTimeOverVisitTimeFlag", "DistanceFlag", "InServiceFlag", "PTOFlag",
)
