"""Batch scoring: files of model-input rows scored by the served model, in pandas chunks or on Spark."""
