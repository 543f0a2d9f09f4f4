"""Seeded synthetic data for the conflict pipeline (domain spec A8): source tables written with
COPY, injected scenarios S1-S9 / N1-N7 with a ``manifest.parquet``, data-quality faults."""

from cm_pipeline.generator.params import Faults, GenParams
from cm_pipeline.generator.writer import generate, load_manifest

__all__ = ["Faults", "GenParams", "generate", "load_manifest"]
