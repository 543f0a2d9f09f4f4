"""``awsglue.utils.getResolvedOptions`` for Glue job scripts run by stepflow."""

from stepflow.glue import getResolvedOptions

__all__ = ["getResolvedOptions"]
